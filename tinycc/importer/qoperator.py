"""QOperator form: QLinearConv, QLinearMatMul and onnxruntime's QLinear ops.

Each becomes the float op's graph counterpart on quantized tensor types:
operands carry their input scale/zero point in their types, the result its
output scale/zero point, and an int32 bias the scale `s_input * s_weight`
(per axis when the weights are per channel).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from xdsl.dialects.builtin import f32
from xdsl.ir import Attribute

from tinycc.dialects.graph import (
    AddOp,
    LeakyReluOp,
    MulOp,
    SigmoidOp,
    SoftmaxOp,
    f32_attr,
)
from tinycc.dialects.quant import PER_TENSOR, UniformQuantizedType
from tinycc.importer import layout
from tinycc.importer.builder import permuted_element
from tinycc.importer.context import NodeContext, converts, domain_of
from tinycc.importer.dtypes import quantized_type
from tinycc.importer.layout import NHWC, Perm
from tinycc.importer.ops_elementwise import binary, softmax, unary
from tinycc.importer.ops_linear import TRANSPOSED, fully_connected, matmul
from tinycc.importer.ops_nn import conv2d, global_pool, pool2d
from tinycc.importer.ops_quant import MICROSOFT, check_quantization
from tinycc.importer.ops_shape import concat
from tinycc.importer.problems import Unsupported
from tinycc.importer.tensors import Const, QuantConst, Tensor, Value

# (data, scale, zero point) input indices of each quantized operand.
_OPERANDS: dict[tuple[str, str], tuple[tuple[int, int, int], ...]] = {
    ("", "DequantizeLinear"): ((0, 1, 2),),
    (MICROSOFT, "DequantizeLinear"): ((0, 1, 2),),
    ("", "QLinearConv"): ((0, 1, 2), (3, 4, 5)),
    ("", "QLinearMatMul"): ((0, 1, 2), (3, 4, 5)),
    (MICROSOFT, "QLinearAdd"): ((0, 1, 2), (3, 4, 5)),
    (MICROSOFT, "QLinearMul"): ((0, 1, 2), (3, 4, 5)),
    (MICROSOFT, "QGemm"): ((0, 1, 2), (3, 4, 5)),
    (MICROSOFT, "QLinearAveragePool"): ((0, 1, 2),),
    (MICROSOFT, "QLinearGlobalAveragePool"): ((0, 1, 2),),
    (MICROSOFT, "QLinearLeakyRelu"): ((0, 1, 2),),
    (MICROSOFT, "QLinearSigmoid"): ((0, 1, 2),),
    (MICROSOFT, "QLinearSoftmax"): ((0, 1, 2),),
}


def quantized_operands(node: onnx.NodeProto) -> Sequence[tuple[int, int, int]]:
    """Where `node` reads integer data and the scale/zero point that go with it."""
    key = (domain_of(node), node.op_type)
    if key == (MICROSOFT, "QLinearConcat"):
        return [(i, i + 1, i + 2) for i in range(2, len(node.input), 3)]
    return _OPERANDS.get(key, ())


def _zero_point(ctx: NodeContext, index: int) -> np.ndarray | None:
    return ctx.optional_const(index, "zero point")


def quantized_input(
    ctx: NodeContext, data: int, scale: int, zero_point: int, axis: int = PER_TENSOR
) -> Tensor:
    """Input `data` with the quantization of inputs `scale`/`zero_point`.

    `axis` is the axis of per-axis (per-channel) quantization, if allowed.
    """
    x = ctx.input(data)
    scales = ctx.const(scale, "scale")
    storage = (
        x.array.dtype
        if isinstance(x, Const | QuantConst)
        else x.element_type.numpy_dtype
    )
    qtype = quantized_type(
        scales, _zero_point(ctx, zero_point), storage,
        PER_TENSOR if scales.size == 1 else axis, x.shape,
    )  # fmt: skip
    if qtype.is_per_axis and axis == PER_TENSOR:
        raise Unsupported("per-axis quantized activations are not supported")
    if isinstance(x, Const):
        return QuantConst(x.name, x.array, qtype, dequantized=False)
    if isinstance(x, QuantConst):
        check_quantization(x.qtype, qtype)
        return x
    check_quantization(x.element_type, permuted_element(qtype, x.perm))
    return x


def output_type(ctx: NodeContext, scale: int, zero_point: int) -> UniformQuantizedType:
    """The per-tensor quantization of the result (uint8 if no zero point)."""
    zero = _zero_point(ctx, zero_point)
    storage = np.dtype("uint8") if zero is None else zero.dtype
    return quantized_type(ctx.const(scale, "scale"), zero, storage, PER_TENSOR, ())


def int32_bias(
    ctx: NodeContext, index: int, input_scale: float, weight: QuantConst
) -> QuantConst:
    """An int32 bias with scale `s_input * s_weight`, per axis like the weight."""
    array = ctx.const(index, "bias")
    if array.dtype != np.int32:
        raise Unsupported(f"bias of type {array.dtype} (expected int32)")
    scales = np.float32(input_scale) * np.asarray(weight.qtype.scale_values, np.float32)
    axis = 0 if weight.qtype.is_per_axis else PER_TENSOR
    qtype = UniformQuantizedType("i32", scales.tolist(), [0] * scales.size, axis)
    return QuantConst(ctx.node.input[index], array, qtype, dequantized=False)


def _constant_weight(tensor: Tensor, what: str) -> QuantConst:
    if not isinstance(tensor, QuantConst):
        raise Unsupported(f"{what} must be a constant")
    return tensor


def _input_scale(ctx: NodeContext, index: int) -> float:
    return float(ctx.const(index, "scale").reshape(-1)[0])


@converts("QLinearConv", quantized=True)
def convert_qlinear_conv(ctx: NodeContext) -> Value:
    x = quantized_input(ctx, 0, 1, 2)
    weight = _constant_weight(quantized_input(ctx, 3, 4, 5, axis=0), "the weight")
    bias = None
    if ctx.has_input(8):
        bias = int32_bias(ctx, 8, _input_scale(ctx, 1), weight)
    return conv2d(ctx, x, weight, bias, output_type(ctx, 6, 7))


@converts("QLinearMatMul", quantized=True)
def convert_qlinear_matmul(ctx: NodeContext) -> Value:
    a = quantized_input(ctx, 0, 1, 2)
    b = quantized_input(ctx, 3, 4, 5, axis=1)
    return matmul(ctx, a, b, output_type(ctx, 6, 7))


@converts("QGemm", domain=MICROSOFT, quantized=True)
def convert_qgemm(ctx: NodeContext) -> Value:
    ctx.reject_attr("alpha", 1.0, "only alpha=1")
    trans_b = bool(ctx.attr("transB", 0))
    a = quantized_input(ctx, 0, 1, 2)
    b = _constant_weight(quantized_input(ctx, 3, 4, 5, axis=0 if trans_b else 1), "B")
    lhs = Value(ctx.value(a, TRANSPOSED if ctx.attr("transA", 0) else (0, 1)), (0, 1))
    weight = b if trans_b else b.transposed(TRANSPOSED)  # [N, K]
    bias = None
    if ctx.has_input(6):
        bias = ctx.value(int32_bias(ctx, 6, _input_scale(ctx, 1), weight))
    element: Attribute = output_type(ctx, 7, 8) if ctx.has_input(7) else f32
    return fully_connected(ctx, lhs, ctx.value(weight), bias, element)


@converts("QLinearAdd", "QLinearMul", domain=MICROSOFT, quantized=True)
def convert_qlinear_binary(ctx: NodeContext) -> Value:
    op_type = AddOp if ctx.op_type == "QLinearAdd" else MulOp
    a = quantized_input(ctx, 0, 1, 2)
    b = quantized_input(ctx, 3, 4, 5)
    return binary(ctx, op_type, a, b, output_type(ctx, 6, 7))


def _channels_layout(ctx: NodeContext) -> Perm:
    """Where the channels are: `channels_last=1` means the ONNX tensor is NHWC."""
    return layout.identity(4) if ctx.attr("channels_last", 0) else NHWC


@converts("QLinearAveragePool", domain=MICROSOFT, quantized=True)
def convert_qlinear_average_pool(ctx: NodeContext) -> Value:
    x = quantized_input(ctx, 0, 1, 2)
    return pool2d(ctx, x, False, _channels_layout(ctx), output_type(ctx, 3, 4))


@converts("QLinearGlobalAveragePool", domain=MICROSOFT, quantized=True)
def convert_qlinear_global_average_pool(ctx: NodeContext) -> Value:
    x = quantized_input(ctx, 0, 1, 2)
    return global_pool(ctx, x, False, _channels_layout(ctx), output_type(ctx, 3, 4))


@converts("QLinearLeakyRelu", domain=MICROSOFT, quantized=True)
def convert_qlinear_leaky_relu(ctx: NodeContext) -> Value:
    x = quantized_input(ctx, 0, 1, 2)
    alpha = f32_attr(ctx.attr("alpha", 0.01))
    return unary(ctx, LeakyReluOp, x, output_type(ctx, 3, 4), alpha=alpha)


@converts("QLinearSigmoid", domain=MICROSOFT, quantized=True)
def convert_qlinear_sigmoid(ctx: NodeContext) -> Value:
    x = quantized_input(ctx, 0, 1, 2)
    return unary(ctx, SigmoidOp, x, output_type(ctx, 3, 4))


@converts("QLinearSoftmax", domain=MICROSOFT, quantized=True)
def convert_qlinear_softmax(ctx: NodeContext) -> Value:
    x = quantized_input(ctx, 0, 1, 2)
    legacy = ctx.attr("opset", 13) < 13
    axis = ctx.attr("axis", 1 if legacy else -1)
    return softmax(ctx, SoftmaxOp, x, axis, legacy, output_type(ctx, 3, 4))


@converts("QLinearConcat", domain=MICROSOFT, quantized=True)
def convert_qlinear_concat(ctx: NodeContext) -> Value:
    inputs = [
        quantized_input(ctx, *operand) for operand in quantized_operands(ctx.node)
    ]
    return concat(ctx, inputs, ctx.attr("axis"), output_type(ctx, 0, 1))
