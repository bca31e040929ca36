"""int8 elementwise ops (add, sub, mul, prelu, activations) through the C
pipeline.

`check_int8` on each model: the C program equals the numpy integer reference
bit for bit in both rounding modes, and with `--int8-rounding onnx` it is
within 1 LSB of onnxruntime. Models onnxruntime's quantizer handles (Add,
Mul, Sigmoid, LeakyRelu, HardSwish as HardSigmoid * x) are float models
through `quantized`; it leaves Sub, PRelu, Relu, Clip, Tanh, Exp, Gelu and a
lone HardSigmoid in float, so those are written as QDQ models here, with the
quantization a TFLite converter gives where TFLite fixes it (sigmoid on
1/256, tanh on 1/128).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from int8_testlib import ROUNDINGS, check_int8, quantized
from onnx import TensorProto, helper, numpy_helper

from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.dialects import graph
from tinycc.importer import import_onnx

N = helper.make_node
SHAPE = [1, 5, 6, 8]


def _model(nodes, inputs, constants, opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, SHAPE) for n in inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, SHAPE)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10  # onnxruntime 1.31 reads <= 13
    return model


def _constant(shape, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2, 2, shape).astype(np.float32)


def binary(op_type: str, other_shape=None) -> onnx.ModelProto:
    """`x op c` with a constant `c` of `other_shape` (broadcast), or `x op
    3 * w` with a second input scaled so that the two input scales differ."""
    if other_shape is not None:
        node = N(op_type, ["x", "c"], ["y"])
        return _model([node], ["x"], {"c": _constant(other_shape, 1)})
    nodes = [N("Mul", ["w", "three"], ["w3"]), N(op_type, ["x", "w3"], ["y"])]
    return _model(nodes, ["x", "w"], {"three": np.float32(3)})


def unary(op_type: str, opset: int = 17, **attrs) -> onnx.ModelProto:
    return _model([N(op_type, ["x"], ["y"], **attrs)], ["x"], {}, opset)


QUANTIZED = {
    "add": binary("Add"),
    "add_channel_vector": binary("Add", [8]),
    "add_scalar": binary("Add", []),
    "add_broadcast_rows": binary("Add", [1, 5, 1, 8]),
    "mul": binary("Mul"),
    "mul_channel_vector": binary("Mul", [8]),
    "mul_scalar": binary("Mul", []),
    "sigmoid": unary("Sigmoid"),
    "leaky_relu": unary("LeakyRelu", alpha=0.2),
    "hard_swish_decomposed": unary("HardSwish", opset=14),
}


def check_integer(model: onnx.ModelProto, tmp_path: Path, rounding: str) -> None:
    """`check_int8`, after making sure every op between the graph's edges
    is quantized (a float island would pass `check_int8` too)."""
    module = import_onnx(model).module
    apply_pipeline(module, DEFAULT_PIPELINE)
    edges = (graph.ConstantOp, graph.QuantizeOp, graph.DequantizeOp)
    for op in module.walk():
        if isinstance(op, graph.GraphOp) and not isinstance(op, edges):
            assert graph.is_quantized(op.results[0]), f"float {op.name}"
    check_int8(model, tmp_path, rounding)


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", QUANTIZED)
def test_int8_quantized(name: str, rounding: str, tmp_path: Path) -> None:
    check_integer(quantized(QUANTIZED[name]), tmp_path, rounding)


# Hand-written QDQ models: x -> Q/DQ -> op -> Q/DQ (-> activation -> Q/DQ).

INPUT_Q = (0.03, 5)  # the seeded inputs are standard normal: within +-3.7


def _qdq(name: str, scale: float, zp: int) -> tuple[list, dict]:
    """`name` quantized and dequantized again, into `name_dq`."""
    constants = {f"{name}_s": np.float32(scale), f"{name}_z": np.int8(zp)}
    nodes = [
        N("QuantizeLinear", [name, f"{name}_s", f"{name}_z"], [f"{name}_q"]),
        N("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_z"], [f"{name}_dq"]),
    ]
    return nodes, constants


def qdq(ops: list[tuple[str, dict, tuple[float, int]]], opset=17, other=None):
    """The chain of `(op_type, attributes, output quantization)` on a
    quantized input, the first op binary with the quantized constant
    `other` (values, scale, zero point) if given."""
    nodes, constants = _qdq("x", *INPUT_Q)
    previous = "x_dq"
    if other is not None:
        values, scale, zp = other
        stored = np.clip(np.round(values / scale) + zp, -128, 127).astype(np.int8)
        constants |= {"c_q": stored, "c_s": np.float32(scale), "c_z": np.int8(zp)}
        nodes.append(N("DequantizeLinear", ["c_q", "c_s", "c_z"], ["c_dq"]))
    for index, (op_type, attrs, (scale, zp)) in enumerate(ops):
        out = f"t{index}"
        operands = (
            [previous, "c_dq"] if other is not None and index == 0 else [previous]
        )
        if op_type == "Clip":
            constants |= {"lo": np.float32(0), "hi": np.float32(6)}
            operands += ["lo", "hi"]
        nodes.append(N(op_type, operands, [out], **attrs))
        more_nodes, more_constants = _qdq(out, scale, zp)
        nodes += more_nodes
        constants |= more_constants
        previous = f"{out}_dq"
    nodes.append(N("Identity", [previous], ["y"]))
    return _model(nodes, ["x"], constants, opset)


CHANNELS = (_constant([8], 2), 0.02, -3)
ADD_OUT = (0.05, -20)

HAND_WRITTEN = {
    "sub_channel_vector": qdq([("Sub", {}, ADD_OUT)], other=CHANNELS),
    "prelu_channel_slopes": qdq([("PRelu", {}, (0.04, -30))], other=CHANNELS),
    "add_relu": qdq([("Add", {}, ADD_OUT), ("Relu", {}, ADD_OUT)], other=CHANNELS),
    "add_relu6": qdq([("Add", {}, ADD_OUT), ("Clip", {}, ADD_OUT)], other=CHANNELS),
    "relu": qdq([("Relu", {}, (0.02, -128))]),
    "relu6_same_type": qdq([("Clip", {}, INPUT_Q)]),
    "tanh": qdq([("Tanh", {}, (0.008, 2))]),
    "tanh_tflite_output": qdq([("Tanh", {}, (1 / 128, 0))]),
    "sigmoid_tflite_output": qdq([("Sigmoid", {}, (1 / 256, -128))]),
    "exp": qdq([("Exp", {}, (0.2, -128))]),
    "gelu": qdq([("Gelu", {}, (0.02, -100))], opset=20),
    "gelu_tanh": qdq([("Gelu", {"approximate": "tanh"}, (0.02, -100))], opset=20),
    "hard_sigmoid": qdq([("HardSigmoid", {"alpha": 0.25}, (1 / 255, -128))]),
    "hard_swish": qdq([("HardSwish", {}, (0.03, -110))], opset=14),
}


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_int8_qdq(name: str, rounding: str, tmp_path: Path) -> None:
    check_integer(HAND_WRITTEN[name], tmp_path, rounding)
