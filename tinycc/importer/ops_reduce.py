"""ReduceMean, ReduceSum and ReduceMax, in their operand's layout."""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType, UnitAttr
from xdsl.irdl import IRDLOperation

from tinycc.dialects.graph import (
    ReduceMaxOp,
    ReduceMeanOp,
    ReduceSumOp,
    i64_array,
    reduce_shape,
    shape_of,
    tensor_type,
)
from tinycc.importer import layout
from tinycc.importer.context import NodeContext, converts
from tinycc.importer.tensors import Tensor, perm_of

REDUCE: dict[str, type[IRDLOperation]] = {
    "ReduceMean": ReduceMeanOp,
    "ReduceSum": ReduceSumOp,
    "ReduceMax": ReduceMaxOp,
}


def _axes_since(op_type: str) -> int:
    """The opset in which `axes` moved from an attribute to an input."""
    return 13 if op_type == "ReduceSum" else 18


@converts("ReduceMean", "ReduceSum")
def convert_reduce(ctx: NodeContext) -> Tensor:
    x = ctx.input(0)
    rank = len(x.shape)
    axes = ctx.input_or_attr(1, "axes", since=_axes_since(ctx.op_type))
    keepdims = bool(ctx.attr("keepdims", 1))
    if not axes:
        if ctx.attr("noop_with_empty_axes", 0):
            return x
        axes = range(rank)
    axes = sorted({layout.normalize_axis(a, rank) for a in axes})
    perm = perm_of(x)
    ssa = ctx.value(x, perm)
    ir_axes = sorted(layout.ir_axis(perm, a) for a in axes)
    shape = reduce_shape(shape_of(ssa), ir_axes, keepdims)
    result_perm = perm if keepdims else layout.without_axes(perm, axes)
    return ctx.output(
        REDUCE[ctx.op_type],
        [ssa],
        TensorType(tensor_type(ssa).element_type, shape),
        result_perm,
        axes=i64_array(ir_axes),
        keepdims=UnitAttr() if keepdims else None,
    )


# The maximum of integers is the integer of the maximum: no requantization.
converts("ReduceMax", quantized=True)(convert_reduce)
