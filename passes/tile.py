"""tile: split a `tile.compute`'s output into static boxes computed one by one.

    tinycc-opt -p 'lower-graph-to-tile,tile{sizes=1,8,8,0 node=conv1}'

`sizes` has one entry per output dimension (0: do not split that dimension);
`node` picks the computes of one ONNX node (default: every compute of the
right rank). Each box reads only the operand window its output needs, halo
included (from the compute's `#tile.window`s), through a `tile.extract`; the
computed boxes are put together by a `tile.assemble`. Padding belongs to the
image border only: a box inside the image gets none, a box on the border
gets exactly the clipped part, so the boxes compute what the whole op does.

This is the building block of patch-based inference; today it splits one op
at a time and duplicates its body per box (static shapes throughout).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, StringAttr, TensorType
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import PassFailedException

from tinycc.dialects import graph
from tinycc.dialects.tile import (
    AssembleOp,
    Box,
    ComputeOp,
    ExtractOp,
    YieldOp,
    input_box,
)
from tinycc.passes.conversions.graph_to_tile import accesses_of

# How each tileable op's properties change for one box, given the padding the
# box's first operand has at its low and high ends (per dimension).
Adjust = Callable[[Operation, tuple[int, ...], tuple[int, ...]], dict[str, Attribute]]


def unchanged(op: Operation, pad_lo: tuple[int, ...], pad_hi: tuple[int, ...]):
    return {}


def window_pads(op: Operation, pad_lo: tuple[int, ...], pad_hi: tuple[int, ...]):
    """Conv/pool: the box's own `[top, left, bottom, right]` padding."""
    properties: dict[str, Attribute] = {
        "pads": graph.i64_array([pad_lo[1], pad_lo[2], pad_hi[1], pad_hi[2]])
    }
    if isinstance(op, graph.Conv2DOp) and op.groups.value.data > 1:
        # Depthwise (the only grouped conv tiled): one group per box channel.
        properties["groups"] = IntegerAttr(graph.shape_of(op.result)[3], 64)
    return properties


def tensor_pads(op: Operation, pad_lo: tuple[int, ...], pad_hi: tuple[int, ...]):
    return {"pads": graph.i64_array([*pad_lo, *pad_hi])}


ADJUSTERS: dict[type[Operation], Adjust] = {
    graph.Conv2DOp: window_pads,
    graph.MaxPool2DOp: window_pads,
    graph.AvgPool2DOp: window_pads,
    graph.PadOp: tensor_pads,
    graph.FullyConnectedOp: unchanged,
    graph.MatMulOp: unchanged,
    graph.GlobalAvgPoolOp: unchanged,
    graph.GlobalMaxPoolOp: unchanged,
    graph.SoftmaxOp: unchanged,
    graph.LogSoftmaxOp: unchanged,
    graph.ReduceMeanOp: unchanged,
    graph.ReduceSumOp: unchanged,
    graph.ReduceMaxOp: unchanged,
    graph.TransposeOp: unchanged,
    graph.BatchNormOp: unchanged,
}


def adjuster(op: Operation) -> Adjust | None:
    if isinstance(op, graph.UnaryOp | graph.BinaryOp | graph.PReluOp):
        return unchanged
    if isinstance(op, graph.Pool2DOp) and op.ceil_mode is not None:
        return None  # ceil-mode windows past the padded end count differently
    if isinstance(op, graph.Conv2DOp) and op.groups.value.data > 1:
        return window_pads if op.is_depthwise else None
    if isinstance(op, graph.PadOp) and op.mode.data != "constant":
        return None
    return ADJUSTERS.get(type(op))


def boxes(shape: Sequence[int], sizes: Sequence[int]) -> list[Box]:
    """The grid of boxes of at most `sizes` (0: whole) covering `shape`."""
    ranges = []
    for extent, size in zip(shape, sizes, strict=True):
        step = extent if size <= 0 else size
        ranges.append([(lo, min(lo + step, extent)) for lo in range(0, extent, step)])
    return [
        Box(tuple(r[0] for r in combo), tuple(r[1] for r in combo))
        for combo in itertools.product(*ranges)
    ]


def node_of(op: Operation) -> str:
    node = op.attributes.get("onnx.node")
    return node.data if isinstance(node, StringAttr) else ""


@dataclass
class TileCompute(RewritePattern):
    sizes: tuple[int, ...]
    node: str

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ComputeOp, rewriter: PatternRewriter) -> None:
        shape = op.result.type.get_shape()
        if len(shape) != len(self.sizes) or (self.node and node_of(op) != self.node):
            return
        grid = boxes(shape, self.sizes)
        if len(grid) == 1:
            return
        inner = op.inner
        adjust = adjuster(inner)
        if adjust is None:
            raise PassFailedException(
                f"tile: {inner.name} (node '{node_of(op)}') cannot be tiled"
            )
        tiles = [self.compute_box(op, inner, adjust, box, rewriter) for box in grid]
        offsets = [o for box in grid for o in box.lo]
        assemble = AssembleOp.build(
            operands=[tiles],
            result_types=[op.result.type],
            properties={"offsets": graph.i64_array(offsets)},
        )
        rewriter.replace(op, assemble)

    def compute_box(
        self,
        op: ComputeOp,
        inner: Operation,
        adjust: Adjust,
        box: Box,
        rewriter: PatternRewriter,
    ) -> SSAValue:
        operands, pads = [], None
        for index, value in enumerate(op.inputs):
            shape = value.type.get_shape()
            part, pad_lo, pad_hi = input_box(op.operand_accesses(index), shape, box)
            pads = pads if pads is not None else (pad_lo, pad_hi)
            operands.append(self.extract(value, part, rewriter))
        element = op.result.type.element_type
        tile_inner = type(inner).create(
            operands=[],
            result_types=[TensorType(element, box.sizes)],
            properties=dict(inner.properties),
            attributes=dict(inner.attributes),
        )
        block = Block(arg_types=[v.type for v in operands])
        tile_inner.operands = block.args
        tile_inner.properties.update(adjust(tile_inner, *pads))
        block.add_ops([tile_inner, YieldOp(tile_inner.results[0])])
        compute = ComputeOp(
            operands,
            TensorType(element, box.sizes),
            accesses_of(tile_inner),
            Region(block),
            attributes=dict(op.attributes),
        )
        rewriter.insert(compute)
        return compute.result

    @staticmethod
    def extract(value: SSAValue, part: Box, rewriter: PatternRewriter) -> SSAValue:
        shape = value.type.get_shape()
        if part.lo == (0,) * len(shape) and part.sizes == tuple(shape):
            return value
        extract = ExtractOp.build(
            operands=[value],
            result_types=[TensorType(value.type.element_type, part.sizes)],
            properties={"offsets": graph.i64_array(part.lo)},
        )
        rewriter.insert(extract)
        return extract.result


@dataclass(frozen=True)
class TilePass(ModulePass):
    """Split `tile.compute` outputs into static boxes with border-only padding."""

    name = "tile"

    sizes: tuple[int, ...] = ()
    node: str = ""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not self.sizes:
            raise PassFailedException(
                "tile: give the box sizes, e.g. tile{sizes=1,8,8,0}"
            )
        PatternRewriteWalker(
            TileCompute(tuple(self.sizes), self.node), apply_recursively=False
        ).rewrite_module(op)
