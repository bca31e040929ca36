"""The reference networks of `tinycc.zoo` import whole, NHWC end to end, fast."""

from __future__ import annotations

import time
from collections import Counter

import onnx
import pytest
from importer_testlib import interface, op_names

from tinycc import zoo
from tinycc.importer import import_onnx
from tinycc.ir import print_module

NETWORKS = {
    "kws_dscnn": zoo.kws_dscnn,
    "vww_mobilenet_v1": zoo.vww_mobilenet_v1,
    "resnet8": zoo.resnet8,
    "fc_autoencoder": zoo.fc_autoencoder,
    "mobilenet_v2_0.35_144": zoo.mobilenet_v2,
}

# ONNX operator -> the graph op it becomes in these float networks.
OP_MAP = {
    "Conv": "graph.conv2d",
    "BatchNormalization": "graph.batch_norm",
    "Relu": "graph.relu",
    "Clip": "graph.clamp",
    "Add": "graph.add",
    "AveragePool": "graph.avg_pool2d",
    "GlobalAveragePool": "graph.global_avg_pool",
    "Flatten": "graph.reshape",
    "Gemm": "graph.fully_connected",
    "Softmax": "graph.softmax",
}


@pytest.mark.parametrize("name", NETWORKS)
def test_network_imports_one_op_per_node_without_transposes(name: str) -> None:
    model = NETWORKS[name]()
    module = import_onnx(model).module
    expected = Counter(OP_MAP[node.op_type] for node in model.graph.node)
    assert Counter(op_names(module)) == expected
    rank = len(model.graph.input[0].type.tensor_type.shape.dim)
    perm = [0, 2, 3, 1] if rank == 4 else None
    assert interface(module) == [{"name": "input", "perm": perm}]


def test_quantized_network_imports_as_qdq() -> None:
    model = zoo.quantize_qdq(zoo.kws_dscnn(), samples=2)
    module = import_onnx(model).module
    names = Counter(op_names(module))
    convs = sum(node.op_type == "Conv" for node in model.graph.node)
    assert names["graph.conv2d"] == convs
    quantizes = sum(node.op_type == "QuantizeLinear" for node in model.graph.node)
    assert names["graph.quantize"] == quantizes
    assert "graph.transpose" not in names


def test_mobilenet_v2_imports_and_prints_well_under_five_seconds() -> None:
    model = zoo.mobilenet_v2(alpha=1.0, resolution=224)
    data = model.SerializeToString()
    start = time.perf_counter()
    module = import_onnx(data).module
    text, arrays = print_module(module)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"import + print took {elapsed:.2f} s"
    # Every weight went to the side file by name, none printed inline.
    assert len(text) < 100_000
    parameters = sum(array.size for array in arrays.values())
    initializers = sum(
        onnx.numpy_helper.to_array(t).size
        for t in model.graph.initializer
        if t.dims  # the ReLU6 bounds are scalars and become clamp attributes
    )
    assert parameters == pytest.approx(initializers, rel=0.01)
