"""Quantized values in the reference interpreter against onnxruntime.

QuantizeLinear/DequantizeLinear must agree bit for bit (ties to even,
saturation, per-axis, every storage type); quantized ops (dequantize, float
op, quantize) within 1 LSB of onnxruntime's QDQ execution, which fuses them
into integer kernels that requantize in float.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from onnx import helper
from test_interpreter_ops import make_op, nchw, nhwc, random, run_onnx
from xdsl.dialects.builtin import Float32Type, IntegerAttr, TensorType
from xdsl.ir import Attribute

from tinycc.dialects import graph
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.interpreter import evaluate_op, run_function
from tinycc.ir import parse_module

# Quantization parameters as onnxruntime holds them: float32 scales.


def qtype(
    storage: str, scales: Sequence[float], zero_points: Sequence[int], axis: int = -1
) -> UniformQuantizedType:
    return UniformQuantizedType(
        storage, [float(np.float32(s)) for s in scales], zero_points, axis
    )


def tensor(element: Attribute, shape: Sequence[int]) -> TensorType:
    return TensorType(element, list(shape))


def onnx_params(q: UniformQuantizedType) -> dict[str, np.ndarray]:
    """QuantizeLinear/DequantizeLinear's scale and zero-point initializers."""
    scales = np.array(q.scale_values, np.float32)
    zero_points = np.array(q.zero_point_values, q.numpy_dtype)
    if not q.is_per_axis:
        return {"s": scales[0], "z": zero_points[0]}
    return {"s": scales, "z": zero_points}


def qdq_node(kind: str, q: UniformQuantizedType, inputs=("x", "s", "z"), output="y"):
    axis = {"axis": q.axis.data} if q.is_per_axis else {}
    return helper.make_node(kind, list(inputs), [output], **axis)


# Each case: storage, scales, zero points, axis, the opset that has the type.
CASES = {
    "i8": ("i8", [0.25], [-3], -1, 13),
    "u8": ("u8", [0.5], [128], -1, 13),
    "i16": ("i16", [0.125], [7], -1, 21),
    "u16": ("u16", [0.125], [300], -1, 21),
    "i8_axis1": ("i8", [0.25, 0.5, 1.0], [0, -1, 5], 1, 13),
    "u8_axis0": ("u8", [0.1, 0.03], [10, 250], 0, 13),
}


@pytest.mark.parametrize("case", CASES)
def test_quantize_matches_onnxruntime(case):
    storage, scales, zero_points, axis, opset = CASES[case]
    q = qtype(storage, scales, zero_points, axis)
    # Exact ties (k + 1/2) * scale, values between, and far out of range.
    ties = (np.arange(-24, 24, dtype=np.float32) + 0.5).reshape(2, 3, 8) * 0.25
    rng = np.random.default_rng(0)
    x = np.concatenate([ties, random(rng, 2, 3, 8) * 40, random(rng, 2, 3, 8) * 1e5], 2)
    op = make_op(graph.QuantizeOp, [tensor(Float32Type(), x.shape)], tensor(q, x.shape))
    (actual,) = evaluate_op(op, [x])
    node = qdq_node("QuantizeLinear", q)
    expected = run_onnx(
        node, {"x": x}, onnx_params(q), opset, output_dtype=q.numpy_dtype
    )
    assert actual.dtype == q.numpy_dtype
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("case", [*CASES, "i32"])
def test_dequantize_matches_onnxruntime(case):
    storage, scales, zero_points, axis, opset = CASES.get(
        case, ("i32", [0.001], [0], -1, 13)
    )
    q = qtype(storage, scales, zero_points, axis)
    low, high = q.storage_range
    x = np.random.default_rng(1).integers(low, high, (2, 3, 8), endpoint=True)
    x = x.astype(q.numpy_dtype)
    x.flat[:2] = low, high
    op = make_op(
        graph.DequantizeOp, [tensor(q, x.shape)], tensor(Float32Type(), x.shape)
    )
    (actual,) = evaluate_op(op, [x])
    expected = run_onnx(
        qdq_node("DequantizeLinear", q), {"x": x}, onnx_params(q), opset
    )
    assert actual.dtype == np.float32
    np.testing.assert_array_equal(actual, expected)


def assert_within_one_lsb(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    difference = np.abs(actual.astype(np.int64) - expected.astype(np.int64))
    assert difference.max() <= 1
    # A test whose outputs all saturate would prove nothing.
    assert len(np.unique(expected)) > 10


# A QDQ convolution: int8 activations, per-channel int8 weights, int32 bias.


class QConv:
    def __init__(self, depthwise: bool, storage: str):
        rng = np.random.default_rng(2)
        self.c_in, self.c_out = 4, 4 if depthwise else 6
        self.groups = self.c_in if depthwise else 1
        self.x_type = qtype(storage, [0.05], [10 if storage == "i8" else 140])
        w_scales = rng.uniform(0.005, 0.02, self.c_out).astype(np.float32)
        self.w_type = qtype("i8", w_scales, [0] * self.c_out, axis=0)
        bias_scales = np.float32(self.x_type.scale_values[0]) * w_scales
        self.b_type = qtype("i32", bias_scales, [0] * self.c_out, axis=0)
        self.y_type = qtype(storage, [0.04], [-5 if storage == "i8" else 120])
        low, high = self.x_type.storage_range
        self.x = rng.integers(low, high, (1, 7, 6, self.c_in), endpoint=True).astype(
            self.x_type.numpy_dtype
        )
        self.w = rng.integers(
            -127, 127, (self.c_out, 3, 3, self.c_in // self.groups), endpoint=True
        ).astype(np.int8)
        self.b = rng.integers(-3000, 3000, self.c_out).astype(np.int32)

    def onnxruntime(self) -> np.ndarray:
        params = {}
        for name, q in (("x", self.x_type), ("w", self.w_type), ("b", self.b_type)):
            params.update({f"{name}_{k}": v for k, v in onnx_params(q).items()})
        params.update({"y_s": onnx_params(self.y_type)["s"]})
        params.update({"y_z": onnx_params(self.y_type)["z"]})
        nodes = [
            qdq_node("DequantizeLinear", self.x_type, ("x", "x_s", "x_z"), "xf"),
            qdq_node("DequantizeLinear", self.w_type, ("w", "w_s", "w_z"), "wf"),
            qdq_node("DequantizeLinear", self.b_type, ("b", "b_s", "b_z"), "bf"),
            helper.make_node(
                "Conv", ["xf", "wf", "bf"], ["yf"], pads=[1, 1, 1, 1], group=self.groups
            ),
            qdq_node("QuantizeLinear", self.y_type, ("yf", "y_s", "y_z"), "y"),
        ]
        params.update({"w": nchw(self.w), "b": self.b})
        expected = run_onnx(
            nodes, {"x": nchw(self.x)}, params, 13, output_dtype=self.y_type.numpy_dtype
        )
        return nhwc(expected)

    def properties(self) -> dict[str, Attribute]:
        return {
            "strides": graph.i64_array([1, 1]),
            "dilations": graph.i64_array([1, 1]),
            "pads": graph.i64_array([1, 1, 1, 1]),
            "groups": IntegerAttr(self.groups, 64),
        }


@pytest.mark.parametrize("depthwise", [False, True])
@pytest.mark.parametrize("storage", ["i8", "u8"])
def test_quantized_conv_within_one_lsb(depthwise, storage):
    conv = QConv(depthwise, storage)
    expected = conv.onnxruntime()
    op = make_op(
        graph.Conv2DOp,
        [
            tensor(conv.x_type, conv.x.shape),
            tensor(conv.w_type, conv.w.shape),
            tensor(conv.b_type, conv.b.shape),
        ],
        tensor(conv.y_type, expected.shape),
        **conv.properties(),
    )
    (actual,) = evaluate_op(op, [conv.x, conv.w, conv.b])
    assert_within_one_lsb(actual, expected)


def test_qdq_conv_as_written_runs_like_folded():
    """The importer's QDQ form (dequantize, float conv, quantize) in IR text."""
    conv = QConv(False, "i8")
    expected = conv.onnxruntime()
    shapes = (conv.x.shape, conv.w.shape, conv.b.shape, expected.shape)
    qtypes = (conv.x_type, conv.w_type, conv.b_type, conv.y_type)
    xt, wt, bt, yt = (str(tensor(q, s)) for q, s in zip(qtypes, shapes, strict=True))
    xr, wr, br, yr = (str(tensor(Float32Type(), s)) for s in shapes)

    text = f"""
    func.func @main(%x: {xt}) -> {yt} {{
      %w = graph.constant @w : {wt}
      %b = graph.constant @b : {bt}
      %xf = graph.dequantize %x : ({xt}) -> {xr}
      %wf = graph.dequantize %w : ({wt}) -> {wr}
      %bf = graph.dequantize %b : ({bt}) -> {br}
      %yf = graph.conv2d %xf, %wf, %bf {{strides = array<i64: 1, 1>,
          dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1}}
          : ({xr}, {wr}, {br}) -> {yr}
      %y = graph.quantize %yf : ({yr}) -> {yt}
      func.return %y : {yt}
    }}
    """
    module = parse_module(text, {"w": conv.w, "b": conv.b})
    (actual,) = run_function(module.ops.first, [conv.x])
    assert_within_one_lsb(actual, expected)


def test_quantized_add_requantizes_each_operand():
    """Operands and result on three different scales (QLinearAdd's case)."""
    rng = np.random.default_rng(3)
    types = [
        qtype("i8", [0.03], [4]),
        qtype("i8", [0.07], [-20]),
        qtype("i8", [0.05], [1]),
    ]
    a, b = (
        rng.integers(-128, 127, (2, 5, 8), endpoint=True).astype(np.int8) for _ in "ab"
    )
    params = {}
    for name, q in zip("aby", types, strict=True):
        params.update({f"{name}_{k}": v for k, v in onnx_params(q).items()})
    nodes = [
        qdq_node("DequantizeLinear", types[0], ("a", "a_s", "a_z"), "af"),
        qdq_node("DequantizeLinear", types[1], ("b", "b_s", "b_z"), "bf"),
        helper.make_node("Add", ["af", "bf"], ["yf"]),
        qdq_node("QuantizeLinear", types[2], ("yf", "y_s", "y_z"), "y"),
    ]
    expected = run_onnx(nodes, {"a": a, "b": b}, params, 13, output_dtype=np.int8)
    op = make_op(
        graph.AddOp,
        [tensor(types[0], a.shape), tensor(types[1], b.shape)],
        tensor(types[2], a.shape),
    )
    (actual,) = evaluate_op(op, [a, b])
    assert_within_one_lsb(actual, expected)


def test_quantized_avg_pool_within_one_lsb():
    q = qtype("u8", [0.02], [100])
    x = (
        np.random.default_rng(4)
        .integers(0, 255, (1, 6, 6, 3), endpoint=True)
        .astype(np.uint8)
    )
    params = {"x_s": np.float32(0.02), "x_z": np.uint8(100)}
    nodes = [
        qdq_node("DequantizeLinear", q, ("x", "x_s", "x_z"), "xf"),
        helper.make_node(
            "AveragePool",
            ["xf"],
            ["yf"],
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
        ),
        qdq_node("QuantizeLinear", q, ("yf", "x_s", "x_z"), "y"),
    ]
    expected = nhwc(run_onnx(nodes, {"x": nchw(x)}, params, 13, output_dtype=np.uint8))
    props = {
        "kernel": graph.i64_array([3, 3]),
        "strides": graph.i64_array([1, 1]),
        "pads": graph.i64_array([1, 1, 1, 1]),
    }
    op = make_op(
        graph.AvgPool2DOp, [tensor(q, x.shape)], tensor(q, expected.shape), **props
    )
    (actual,) = evaluate_op(op, [x])
    assert_within_one_lsb(actual, expected)


def test_per_axis_type_follows_transpose():
    """A per-channel tensor transposed: each value keeps its channel's scale."""
    w = np.arange(-12, 12, dtype=np.int8).reshape(2, 3, 4)
    source = qtype("i8", [0.5, 0.25, 2.0], [1, 0, -1], axis=1)
    moved = source.with_axis(0)
    op = make_op(
        graph.TransposeOp,
        [tensor(source, w.shape)],
        tensor(moved, (3, 2, 4)),
        perm=graph.i64_array([1, 0, 2]),
    )
    (actual,) = evaluate_op(op, [w])
    np.testing.assert_array_equal(actual, np.transpose(w, (1, 0, 2)))


def test_int32_bias_constant_is_not_requantized():
    big = np.array([2**30 + 1, -(2**30) - 3], np.int32)  # not exact in float32
    q = qtype("i32", [1e-4], [0])
    op = graph.ConstantOp("bias", big, tensor(q, big.shape))
    (actual,) = evaluate_op(op, [])
    np.testing.assert_array_equal(actual, big)
