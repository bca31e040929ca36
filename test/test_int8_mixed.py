"""Float islands inside an int8 graph.

A node the quantizer leaves in float (here a Div, which onnxruntime's
quantize_static does not quantize) runs in float between a dequantize and a
quantize; the rest stays integer. The C program still equals the reference
bit for bit, and the report names the float layer and why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from int8_testlib import check_int8, quantized
from onnx import TensorProto, helper, numpy_helper

from tinycc.compile import FLOAT_ISLAND, compile_model

N = helper.make_node


def _model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    constants = {
        "w1": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
        "w2": rng.standard_normal((5, 4, 1, 1)).astype(np.float32),
        "k": np.float32(1.5),
    }
    nodes = [
        N("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1], name="conv1"),
        N("Mul", ["a", "a"], ["a2"], name="square"),
        N("Div", ["a2", "k"], ["s"], name="keep_float"),
        N("Conv", ["s", "w2"], ["y"], name="conv2"),
    ]
    graph = helper.make_graph(
        nodes,
        "island",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in constants.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_float_island_runs_and_is_reported(tmp_path: Path) -> None:
    model = quantized(_model())
    assert "Div" in {n.op_type for n in model.graph.node}
    for rounding in ("tflite", "onnx"):
        check_int8(model, tmp_path, rounding)
    _, compiled = compile_model(str(tmp_path / "model.onnx"))
    assert compiled is not None
    layers = {layer["name"]: layer for layer in compiled.report["layers"]}
    floats = compiled.report["float_layers"]
    assert [f["reason"] for f in floats] == [FLOAT_ISLAND]
    assert layers[floats[0]["name"]]["op"] == "graph.div"
    integer = [layer for layer in layers.values() if layer["dtype"] == "int8"]
    assert {layer["op"] for layer in integer} >= {"graph.conv2d", "graph.mul"}
