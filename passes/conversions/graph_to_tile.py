"""lower-graph-to-tile: give every graph op an explicit iteration space.

Each graph op (constants aside) becomes a `tile.compute` that wraps it and
states, per operand dimension, the window an output box reads
(`#tile.window<d, stride, offset, extent>`) or that it reads the whole
dimension (`#tile.full`). The windows follow from the op's properties:
a convolution's height is read through `<1, stride, -pad_top, dilation*(k-1)+1>`,
a broadcast dimension is full, a transpose reads output dimension `i` from
input dimension `perm[i]`. Ops whose windows are not affine (resize,
reshape) read their operands whole: correct, just not tileable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Attribute, Block, Operation, Region
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
)

from tinycc.dialects import graph
from tinycc.dialects.tile import ComputeOp, FullAttr, WindowAttr, YieldOp

Accesses = list[list[Attribute]]
FULL = FullAttr()


def identity(rank: int, out_dims: Sequence[int] | None = None) -> list[Attribute]:
    """Operand dimension `i` is read along output dimension `out_dims[i]`."""
    dims = range(rank) if out_dims is None else out_dims
    return [WindowAttr(d) for d in dims]


def broadcast(shape: Sequence[int], out_shape: Sequence[int]) -> list[Attribute]:
    """numpy broadcasting: trailing dimensions align; size-1 ones read whole."""
    lead = len(out_shape) - len(shape)
    return [
        FULL if size == 1 and out_shape[lead + i] != 1 else WindowAttr(lead + i)
        for i, size in enumerate(shape)
    ]


def sliding(
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    pads: Sequence[int],
) -> list[Attribute]:
    """H and W of an NHWC window op (pads are top, left, bottom, right)."""
    return [
        WindowAttr(1 + i, strides[i], -pads[i], dilations[i] * (kernel[i] - 1) + 1)
        for i in range(2)
    ]


def conv2d(op: graph.Conv2DOp) -> Accesses:
    weight = graph.shape_of(op.weight)
    groups = op.groups.value.data
    spatial = sliding(
        weight[1:3],
        op.strides.get_values(),
        op.dilations.get_values(),
        op.pads.get_values(),
    )
    # A depthwise conv (multiplier 1) reads one input channel per output one.
    channel = WindowAttr(3) if groups > 1 and groups == weight[0] else FULL
    accesses = [[WindowAttr(0), *spatial, channel], [WindowAttr(3), FULL, FULL, FULL]]
    if op.bias is not None:
        accesses.append([WindowAttr(3)])
    return accesses


def pool2d(op: graph.MaxPool2DOp | graph.AvgPool2DOp) -> Accesses:
    spatial = sliding(
        op.kernel.get_values(),
        op.strides.get_values(),
        op.window_dilations(),
        op.pads.get_values(),
    )
    return [[WindowAttr(0), *spatial, WindowAttr(3)]]


def global_pool(op: graph.GlobalPoolOp) -> Accesses:
    return [[WindowAttr(0), FULL, FULL, WindowAttr(3)]]


def fully_connected(op: graph.FullyConnectedOp) -> Accesses:
    rank = len(graph.shape_of(op.input))
    accesses = [[*identity(rank - 1), FULL], [WindowAttr(rank - 1), FULL]]
    if op.bias is not None:
        accesses.append([WindowAttr(rank - 1)])
    return accesses


def matmul(op: graph.MatMulOp) -> Accesses:
    out = graph.shape_of(op.result)
    a, b = graph.shape_of(op.lhs), graph.shape_of(op.rhs)
    if len(a) < 2 or len(b) < 2:
        return [[FULL] * len(a), [FULL] * len(b)]
    rank = len(out)
    batch_a = broadcast(a[:-2], out[:-2])
    batch_b = broadcast(b[:-2], out[:-2])
    return [
        [*batch_a, WindowAttr(rank - 2), FULL],
        [*batch_b, FULL, WindowAttr(rank - 1)],
    ]


def elementwise(op: Operation) -> Accesses:
    out = graph.shape_of(op.results[0])
    return [broadcast(graph.shape_of(v), out) for v in op.operands]


def along_axis(op: graph.AxisUnaryOp) -> Accesses:
    rank = len(graph.shape_of(op.input))
    axis = op.axis.value.data
    return [[FULL if i == axis else WindowAttr(i) for i in range(rank)]]


def reduce(op: graph.ReduceOp) -> Accesses:
    axes = set(op.axes.get_values())
    keep = op.keepdims is not None
    accesses, out_dim = [], 0
    for i in range(len(graph.shape_of(op.input))):
        if i in axes:
            accesses.append(FULL)
            out_dim += keep
        else:
            accesses.append(WindowAttr(out_dim))
            out_dim += 1
    return [accesses]


def transpose(op: graph.TransposeOp) -> Accesses:
    perm = op.perm.get_values()
    return [[WindowAttr(perm.index(i)) for i in range(len(perm))]]


def concat(op: graph.ConcatOp) -> Accesses:
    axis = op.axis.value.data
    return [
        [FULL if i == axis else WindowAttr(i) for i in range(len(graph.shape_of(v)))]
        for v in op.inputs
    ]


def pad(op: graph.PadOp) -> Accesses:
    shape, pads = graph.shape_of(op.input), op.pads.get_values()
    if op.mode.data != "constant":
        return [[FULL] * len(shape)]
    return [[WindowAttr(i, 1, -pads[i], 1) for i in range(len(shape))]]


def slice_(op: graph.SliceOp) -> Accesses:
    starts, steps = op.starts.get_values(), op.steps.get_values()
    return [
        [
            WindowAttr(i, step, start, 1) if step > 0 else FULL
            for i, (start, step) in enumerate(zip(starts, steps, strict=True))
        ]
    ]


def batch_norm(op: graph.BatchNormOp) -> Accesses:
    rank = len(graph.shape_of(op.input))
    channel = [WindowAttr(rank - 1)]
    return [identity(rank), channel, channel, channel, channel]


def whole(op: Operation) -> Accesses:
    """Non-affine reads (resize, reshape): every operand whole."""
    return [[FULL] * len(graph.shape_of(v)) for v in op.operands]


ACCESS_RULES: dict[type[Operation], Callable[..., Accesses]] = {
    graph.Conv2DOp: conv2d,
    graph.MaxPool2DOp: pool2d,
    graph.AvgPool2DOp: pool2d,
    graph.GlobalAvgPoolOp: global_pool,
    graph.GlobalMaxPoolOp: global_pool,
    graph.FullyConnectedOp: fully_connected,
    graph.MatMulOp: matmul,
    graph.SoftmaxOp: along_axis,
    graph.LogSoftmaxOp: along_axis,
    graph.ReduceMeanOp: reduce,
    graph.ReduceSumOp: reduce,
    graph.ReduceMaxOp: reduce,
    graph.TransposeOp: transpose,
    graph.ConcatOp: concat,
    graph.PadOp: pad,
    graph.SliceOp: slice_,
    graph.BatchNormOp: batch_norm,
    graph.ResizeOp: whole,
    graph.ReshapeOp: whole,
}


def accesses_of(op: Operation) -> Accesses:
    """Per operand, per dimension: the window an output box reads."""
    rule = ACCESS_RULES.get(type(op), elementwise)
    return rule(op)


@dataclass
class WrapInCompute(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if (
            not op.name.startswith("graph.")
            or isinstance(op, graph.ConstantOp)
            or isinstance(op.parent_op(), ComputeOp)
        ):
            return
        block = Block(arg_types=[v.type for v in op.operands])
        inner = op.clone()
        inner.operands = block.args
        block.add_ops([inner, YieldOp(inner.results[0])])
        compute = ComputeOp(
            op.operands,
            op.results[0].type,
            accesses_of(op),
            Region(block),
            attributes={k: v for k, v in op.attributes.items() if k == "onnx.node"},
        )
        rewriter.replace(op, compute)


@dataclass(frozen=True)
class LowerGraphToTilePass(ModulePass):
    """Wrap every graph op in a `tile.compute` stating its operand windows."""

    name = "lower-graph-to-tile"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(WrapInCompute(), apply_recursively=False).rewrite_module(
            op
        )
