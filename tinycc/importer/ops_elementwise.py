"""Elementwise arithmetic, activations and softmax: layout-agnostic ops."""

from __future__ import annotations

import math
from collections.abc import Sequence

from xdsl.dialects.builtin import IntegerAttr, StringAttr, TensorType, f32, i64
from xdsl.ir import Attribute
from xdsl.irdl import IRDLOperation

from tinycc.dialects.graph import (
    AddOp,
    ClampOp,
    DivOp,
    ExpOp,
    GeluOp,
    HardSigmoidOp,
    HardSwishOp,
    LeakyReluOp,
    LogSoftmaxOp,
    MulOp,
    PReluOp,
    ReluOp,
    SigmoidOp,
    SoftmaxOp,
    SubOp,
    TanhOp,
    broadcast_shape,
    f32_attr,
    shape_of,
)
from tinycc.importer import layout
from tinycc.importer.context import NodeContext, converts
from tinycc.importer.layout import Perm
from tinycc.importer.tensors import Tensor, Value, perm_of

BINARY: dict[str, type[IRDLOperation]] = {
    "Add": AddOp,
    "Sub": SubOp,
    "Mul": MulOp,
    "Div": DivOp,
}

UNARY: dict[str, type[IRDLOperation]] = {
    "Relu": ReluOp,
    "Sigmoid": SigmoidOp,
    "Tanh": TanhOp,
    "Exp": ExpOp,
    "HardSwish": HardSwishOp,
}


def common_layout(tensors: Sequence[Tensor]) -> tuple[int, Perm]:
    """Rank and layout of a broadcast: those of the first highest-rank computed value.

    Constants and lower-rank operands follow it, so a bias `[C, 1, 1]` added to
    an NHWC activation becomes a `[1, 1, 1, C]` constant and no transpose.
    """
    rank = max(len(t.shape) for t in tensors)
    for tensor in tensors:
        if isinstance(tensor, Value) and len(tensor.shape) == rank:
            return rank, tensor.perm
    return rank, layout.identity(rank)


def binary(
    ctx: NodeContext,
    op_type: type[IRDLOperation],
    lhs: Tensor,
    rhs: Tensor,
    element: Attribute = f32,
) -> Value:
    rank, perm = common_layout([lhs, rhs])
    a = ctx.builder.broadcast(lhs, rank, perm)
    b = ctx.builder.broadcast(rhs, rank, perm)
    shape = broadcast_shape(shape_of(a), shape_of(b))
    return ctx.output(op_type, [a, b], TensorType(element, shape), perm)


def unary(
    ctx: NodeContext,
    op_type: type[IRDLOperation],
    x: Tensor,
    element: Attribute = f32,
    **properties: Attribute,
) -> Value:
    """An op on one tensor, in the tensor's own layout."""
    ssa = ctx.value(x)
    perm = perm_of(x)
    result_type = TensorType(element, shape_of(ssa))
    return ctx.output(op_type, [ssa], result_type, perm, **properties)


@converts(*BINARY)
def convert_binary(ctx: NodeContext) -> Value:
    return binary(ctx, BINARY[ctx.op_type], ctx.input(0), ctx.input(1))


@converts("Sum")
def convert_sum(ctx: NodeContext) -> Tensor:
    """A variadic sum, as a chain of additions."""
    total = ctx.input(0)
    for index in range(1, len(ctx.node.input)):
        total = binary(ctx, AddOp, total, ctx.input(index))
    return total


@converts(*UNARY)
def convert_unary(ctx: NodeContext) -> Value:
    return unary(ctx, UNARY[ctx.op_type], ctx.input(0))


@converts("LeakyRelu")
def convert_leaky_relu(ctx: NodeContext) -> Value:
    alpha = f32_attr(ctx.attr("alpha", 0.01))
    return unary(ctx, LeakyReluOp, ctx.input(0), alpha=alpha)


@converts("HardSigmoid")
def convert_hard_sigmoid(ctx: NodeContext) -> Value:
    alpha, beta = ctx.attr("alpha", 0.2), ctx.attr("beta", 0.5)
    return unary(
        ctx, HardSigmoidOp, ctx.input(0), alpha=f32_attr(alpha), beta=f32_attr(beta)
    )


@converts("Gelu")
@converts("Gelu", domain="com.microsoft")  # exact GELU, before opset 20
def convert_gelu(ctx: NodeContext) -> Value:
    approximate = StringAttr(ctx.attr("approximate", "none"))
    return unary(ctx, GeluOp, ctx.input(0), approximate=approximate)


@converts("Clip")
def convert_clip(ctx: NodeContext) -> Tensor:
    low = ctx.optional_const(1, "min")
    high = ctx.optional_const(2, "max")
    if low is None and high is None:
        return ctx.input(0)
    return unary(
        ctx,
        ClampOp,
        ctx.input(0),
        min=f32_attr(-math.inf if low is None else float(low)),
        max=f32_attr(math.inf if high is None else float(high)),
    )


@converts("PRelu")
def convert_prelu(ctx: NodeContext) -> Value:
    x = ctx.input(0)
    rank = len(x.shape)
    perm = perm_of(x)
    slope = ctx.builder.broadcast(ctx.input(1), rank, perm)
    ssa = ctx.value(x, perm)
    return ctx.output(PReluOp, [ssa, slope], TensorType(f32, shape_of(ssa)), perm)


def softmax(
    ctx: NodeContext,
    op_type: type[IRDLOperation],
    x: Tensor,
    axis: int,
    flatten: bool,
    element: Attribute = f32,
) -> Value:
    """Softmax along `axis`; with `flatten` (opset < 13) over all axes from `axis` on.

    Flattened softmax is a plain one along the single axis of extent > 1
    among the trailing ones, if there is one; otherwise it needs the ONNX
    layout, reshaped to 2-D and back.
    """
    shape = x.shape
    axis = layout.normalize_axis(axis, len(shape))
    if flatten:
        wide = [a for a in range(axis, len(shape)) if shape[a] != 1]
        if len(wide) > 1:
            return _flattened_softmax(ctx, op_type, x, axis, element)
        axis = wide[0] if wide else axis
    perm = perm_of(x)
    ssa = ctx.value(x, perm)
    result_type = TensorType(element, shape_of(ssa))
    ir_axis = IntegerAttr(layout.ir_axis(perm, axis), i64)
    return ctx.output(op_type, [ssa], result_type, perm, axis=ir_axis)


def _flattened_softmax(
    ctx: NodeContext,
    op_type: type[IRDLOperation],
    x: Tensor,
    axis: int,
    element: Attribute,
) -> Value:
    shape = x.shape
    rows, columns = math.prod(shape[:axis]), math.prod(shape[axis:])
    flat = ctx.builder.reshape(
        ctx.value(x, layout.identity(len(shape))), (rows, columns)
    )
    result = ctx.op(
        op_type, [flat], TensorType(element, (rows, columns)), axis=IntegerAttr(1, i64)
    )
    return Value(ctx.builder.reshape(result, shape), layout.identity(len(shape)))


@converts("Softmax", "LogSoftmax")
def convert_softmax(ctx: NodeContext) -> Value:
    op_type = SoftmaxOp if ctx.op_type == "Softmax" else LogSoftmaxOp
    legacy = ctx.opset < 13
    axis = ctx.attr("axis", 1 if legacy else -1)
    return softmax(ctx, op_type, ctx.input(0), axis, flatten=legacy)
