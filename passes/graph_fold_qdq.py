"""graph-fold-qdq: turn QDQ islands into ops on quantized tensors.

A QDQ model computes `quantize(op(dequantize(a), dequantize(b)))` in float;
on quantized tensors the same op means exactly that (see the interpreter),
so the op can take `a` and `b` and produce the quantize's type directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from tinycc.dialects.graph import (
    ConstantOp,
    Conv2DOp,
    DequantizeOp,
    FullyConnectedOp,
    GraphOp,
    QuantizeOp,
    ReshapeOp,
    TransposeOp,
    shape_of,
    tensor_type,
)
from tinycc.dialects.quant import PER_TENSOR, UniformQuantizedType
from tinycc.passes.graph_rewriting import ConstantNames, constant_of, rebuild


def dequantized(value: SSAValue) -> SSAValue | None:
    """The quantized tensor `value` dequantizes, if it is a dequantize."""
    owner = value.owner
    return owner.input if isinstance(owner, DequantizeOp) else None


def quantization(value: SSAValue) -> UniformQuantizedType | None:
    element = tensor_type(value).element_type
    return element if isinstance(element, UniformQuantizedType) else None


def bias_quantization(
    op: Conv2DOp | FullyConnectedOp,
) -> UniformQuantizedType | None:
    """int32 with scale `s_input * s_weight` (per output channel) and zero point 0,
    TFLite's bias type for `op`'s (dequantized) input and weight."""
    input_source, weight_source = dequantized(op.input), dequantized(op.weight)
    if input_source is None or weight_source is None:
        return None
    input_q, weight_q = quantization(input_source), quantization(weight_source)
    if input_q.is_per_axis or (weight_q.is_per_axis and weight_q.axis.data != 0):
        return None
    scales = [input_q.scale_values[0] * s for s in weight_q.scale_values]
    axis = 0 if weight_q.is_per_axis else PER_TENSOR
    return UniformQuantizedType("i32", scales, [0] * len(scales), axis)


def is_bias(op: Operation, value: SSAValue) -> bool:
    return isinstance(op, Conv2DOp | FullyConnectedOp) and value is op.bias


def quantize_users(op: Operation) -> list[QuantizeOp] | None:
    """The users of `op`'s one result, if all are quantizes to one type."""
    if len(op.results) != 1:
        return None
    users = [use.operation for use in op.results[0].uses]
    if not users or not all(isinstance(u, QuantizeOp) for u in users):
        return None
    if any(u.result.type != users[0].result.type for u in users):
        return None
    return users


@dataclass
class FoldQuantizedOp(RewritePattern):
    """`quantize(op(dequantize(a), ...))` -> `op(a, ...)` of the quantize's type.

    Every operand must come from a dequantize, except the float bias of a
    conv2d or fully_connected, which is quantized here to int32 with scale
    `s_input * s_weight`. Several quantizes of the result fold together when
    they agree on the type.
    """

    names: ConstantNames

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: GraphOp, rewriter: PatternRewriter, /):
        if isinstance(op, QuantizeOp | DequantizeOp):
            return
        users = quantize_users(op)
        if users is None:
            return
        new_ops: list[Operation] = []
        operands: list[SSAValue] = []
        for operand in op.operands:
            source = dequantized(operand)
            if source is None and is_bias(op, operand):
                bias = self.quantized_bias(op)
                if bias is None:
                    return
                new_ops.append(bias)
                source = bias.result
            if source is None:
                return
            operands.append(source)
        new = rebuild(op, operands, users[0].result.type)
        rewriter.insert([*new_ops, new])
        for user in users:
            rewriter.replace(user, [], [new.results[0]])
        rewriter.erase(op)

    def quantized_bias(self, op: Conv2DOp | FullyConnectedOp) -> ConstantOp | None:
        """A constant float bias quantized to TFLite's bias type."""
        bias = constant_of(op.bias)
        qtype = bias_quantization(op)
        if bias is None or qtype is None or quantization(op.bias) is not None:
            return None
        scales = np.broadcast_to(np.asarray(qtype.scale_values), bias.array.shape)
        low, high = qtype.storage_range
        stored = np.clip(np.rint(bias.array / scales), low, high).astype(np.int32)
        result_type = TensorType(qtype, bias.array.shape)
        return self.names.constant(f"{bias.sym_name.data}.q", stored, result_type)


class SinkDequantize(RewritePattern):
    """`reshape(dequantize(x))` -> `dequantize(reshape(x))`, likewise transpose.

    Moving data is exact on the quantized tensor, and it brings the
    dequantize next to the op that reads it (a QDQ model's layout changes sit
    between its dequantize and its conv, and a bias may need a reshape).
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: ReshapeOp | TransposeOp, rewriter: PatternRewriter, /
    ):
        source = dequantized(op.input)
        if source is None or not op.input.has_one_use():
            return
        qtype = quantization(source)
        if qtype.is_per_axis:
            # A transpose renumbers the axis; a reshape may split or merge it.
            if not isinstance(op, TransposeOp):
                return
            qtype = qtype.with_axis(op.perm.get_values().index(qtype.axis.data))
        moved = rebuild(op, [source], TensorType(qtype, shape_of(op.result)))
        dequantize = DequantizeOp.create(
            operands=[moved.results[0]],
            result_types=[op.result.type],
            attributes=dict(op.input.owner.attributes),
        )
        rewriter.replace(op, [moved, dequantize])


class FoldQuantizeOfDequantize(RewritePattern):
    """`quantize(dequantize(x))` with the type of `x` -> `x`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: QuantizeOp, rewriter: PatternRewriter, /):
        source = dequantized(op.input)
        if source is not None and source.type == op.result.type:
            rewriter.replace(op, [], [source])


@dataclass(frozen=True)
class GraphFoldQDQPass(ModulePass):
    """Fold QDQ (QuantizeLinear/DequantizeLinear) islands into quantized ops.

    An op whose operands are all dequantized and whose result is only
    quantized, to one type, becomes the same op on the quantized tensors,
    with the same properties and attributes; a float constant bias of a
    conv2d/fully_connected is quantized to int32 on the way. A quantize of a
    dequantize with the same type cancels, and a reshape or transpose of a
    dequantize moves to the quantized side. Float islands stay as they are,
    and so does a dequantized constant that feeds only float ops.

    Run `graph-canonicalize` before (it fuses an activation between an op and
    its quantize into the op, and turns a bias `add` into the op's bias) and
    after (it folds the moved reshapes of quantized constants and fuses
    quantized activations): `graph-canonicalize,graph-fold-qdq,graph-canonicalize`.
    """

    name = "graph-fold-qdq"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns: list[RewritePattern] = [
            FoldQuantizedOp(ConstantNames.of(op)),
            FoldQuantizeOfDequantize(),
            SinkDequantize(),
        ]
        PatternRewriteWalker(GreedyRewritePatternApplier(patterns)).rewrite_module(op)
