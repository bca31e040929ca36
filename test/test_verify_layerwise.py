"""`tinycc verify --layerwise`: the interpreter next to onnxruntime, layer by layer.

With ONNX's meaning of a QDQ graph (no int8 rounding chosen, or `onnx`
rounding) every layer is within 1 LSB of onnxruntime, which only holds if
every layer is matched with the right ONNX tensor in the right layout; with
TFLite rounding the layers drift apart as README's per-layer figures say.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from int8_testlib import quantized
from onnx import TensorProto, helper, numpy_helper

from tinycc import zoo
from tinycc.cli import DEFAULT_PIPELINE
from tinycc.layerwise import layerwise, reading, snr_db, table

KWS = "kws/kws_ref_model.onnx"
# The compute nodes of the MLPerf Tiny KWS model (its README), in order.
KWS_LAYERS = [
    *(f"Conv_{n}" for n in range(22, 55, 4)),
    "AveragePool_58",
    "Reshape_60",
    "MatMul_62",
    "Softmax_66",
]


def cube_convolutions() -> onnx.ModelProto:
    """Two 4x4 convolutions with 4 channels: NCHW and NHWC shapes coincide."""
    rng = np.random.default_rng(0)
    constants = {
        f"{name}{i}": rng.standard_normal(shape).astype(np.float32)
        for i in (1, 2)
        for name, shape in (("w", (4, 4, 3, 3)), ("b", (4,)))
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1] * 4),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["y"], name="conv2", pads=[1] * 4),
    ]
    graph = helper.make_graph(
        nodes,
        "cube",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])],
        [numpy_helper.from_array(v, k) for k, v in constants.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def saved(model: onnx.ModelProto, path: Path) -> str:
    onnx.save(model, path)
    return str(path)


@pytest.mark.parametrize("rounding", [None, "onnx"])
@pytest.mark.parametrize("build", [zoo.kws_dscnn, cube_convolutions])
def test_qdq_layers_within_one_lsb_of_onnxruntime(build, rounding, tmp_path: Path):
    model = quantized(build())
    path = saved(model, tmp_path / "model.onnx")
    rows = layerwise(path, pipeline=DEFAULT_PIPELINE, rounding=rounding)
    convolutions = [n.name for n in model.graph.node if n.op_type == "Conv"]
    assert [r.node for r in rows if r.op == "graph.conv2d"] == convolutions
    for row in rows:
        assert row.max_abs_diff <= (1 if row.quantized else 1e-5), table([row])


def test_float_layers_match_onnxruntime(tmp_path: Path) -> None:
    model = zoo.kws_dscnn()
    rows = layerwise(saved(model, tmp_path / "kws.onnx"), pipeline=DEFAULT_PIPELINE)
    convolutions = [n.name for n in model.graph.node if n.op_type == "Conv"]
    assert [r.node for r in rows if r.op == "graph.conv2d"] == convolutions
    assert all(not r.quantized and r.mismatches == 0 for r in rows), table(rows)
    assert all(r.snr_db > 80 for r in rows), table(rows)


def test_reading_takes_the_fitting_closest_layout() -> None:
    nchw = np.arange(2 * 3 * 4).reshape(1, 2, 3, 4)
    nhwc = nchw.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(reading(nhwc, nchw), nhwc)
    np.testing.assert_array_equal(reading(nchw, nchw), nchw)
    assert reading(np.zeros((1, 5)), nchw) is None
    cube = np.arange(8).reshape(1, 2, 2, 2)
    np.testing.assert_array_equal(
        reading(cube.transpose(0, 2, 3, 1), cube), cube.transpose(0, 2, 3, 1)
    )


def test_snr_db() -> None:
    signal = np.array([3.0, 4.0])
    assert snr_db(signal, np.zeros(2)) == math.inf
    assert snr_db(signal, np.array([0.3, 0.4])) == pytest.approx(20.0)
    assert snr_db(np.zeros(2), np.ones(2)) == -math.inf


def tinycc(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinycc.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_prints_a_table_and_json(tmp_path: Path) -> None:
    model = quantized(cube_convolutions())
    path = saved(model, tmp_path / "cube.onnx")
    done = tinycc("verify", path, "--layerwise", "--int8-rounding", "onnx")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()[1:]
    for column in (
        "layer (ONNX node)",
        "op",
        "shape",
        "max|diff|",
        "mismatches",
        "SNR",
    ):
        assert column in header
    assert any(r.startswith("conv1 ") and "graph.conv2d" in r for r in rows), rows
    as_json = tinycc("verify", path, "--layerwise", "--json")
    assert as_json.returncode == 0, as_json.stderr
    entries = json.loads(as_json.stdout)
    assert {"conv1", "conv2"} <= {e["node"] for e in entries}
    assert all(e["shape"] and e["count"] > 0 for e in entries)


def test_cli_layerwise_rejects_target(tmp_path: Path) -> None:
    path = saved(quantized(cube_convolutions()), tmp_path / "cube.onnx")
    done = tinycc("verify", path, "--layerwise", "--target", "host")
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--layerwise" in done.stderr and "Traceback" not in done.stderr


def test_kws_layers_on_the_shared_model(shared_models: Path) -> None:
    path = str(shared_models / KWS)
    x = np.load(shared_models / "kws" / "input.npy")
    onnx_rows = layerwise(
        path, inputs={None: x}, pipeline=DEFAULT_PIPELINE, rounding="onnx"
    )
    assert [r.node for r in onnx_rows] == KWS_LAYERS, table(onnx_rows)
    assert all(r.quantized and r.max_abs_diff <= 1 for r in onnx_rows), table(onnx_rows)
    tflite = layerwise(
        path, inputs={None: x}, pipeline=DEFAULT_PIPELINE, rounding="tflite"
    )
    assert [r.node for r in tflite] == KWS_LAYERS, table(tflite)
    # The README's per-layer figures: the first layer's two roundings differ by
    # at most 1 LSB; the differences then grow through the network.
    assert tflite[0].max_abs_diff <= 1, table(tflite)
    assert any(r.mismatches for r in tflite), table(tflite)
