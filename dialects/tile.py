"""The `tile` dialect: computations as explicit iteration spaces over tensors.

Between `graph` (what is computed) and the loop level (where and when), a
`tile.compute` wraps one graph op and states, for every operand, which part of
it an output box reads. That is what tiling, patch-based inference and row
streaming need: "which input window, halo included, produces this output
tile" is read off the IR instead of being re-derived per op.

For operand dimension `i`, `#tile.window<d, s, o, e>` says: output rows
`[lo, hi)` along output dimension `d` read input rows
`[s * lo + o, s * (hi - 1) + o + e)` (clipped to the input; the clipped part
is padding). A 3x3 stride-2 convolution with top padding 1 reads its input
height through `#tile.window<1, 2, -1, 3>`. `#tile.full` means the whole
dimension, whatever the box (reduced or broadcast dimensions, weights).

`tile.extract` and `tile.assemble` cut a tensor into static boxes and put
computed boxes together again; the `tile` pass produces them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    DenseArrayBase,
    IntAttr,
    TensorType,
)
from xdsl.dialects.utils import AbstractYieldOperation
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsTerminator, Pure
from xdsl.utils.exceptions import VerifyException


@irdl_attr_definition
class WindowAttr(ParametrizedAttribute):
    """`#tile.window<d, s, o, e>`: an affine window along output dimension `d`."""

    name = "tile.window"

    dim: IntAttr
    stride: IntAttr
    offset: IntAttr
    extent: IntAttr

    def __init__(self, dim: int, stride: int = 1, offset: int = 0, extent: int = 1):
        super().__init__(
            IntAttr(dim), IntAttr(stride), IntAttr(offset), IntAttr(extent)
        )

    def rows(self, lo: int, hi: int) -> tuple[int, int]:
        """The input rows `[begin, end)` that output rows `[lo, hi)` read."""
        stride, offset = self.stride.data, self.offset.data
        return stride * lo + offset, stride * (hi - 1) + offset + self.extent.data

    def verify(self) -> None:
        if self.dim.data < 0 or self.stride.data < 1 or self.extent.data < 1:
            raise VerifyException(
                "tile.window needs dim >= 0, stride >= 1, extent >= 1"
            )

    def print_parameters(self, printer: Printer) -> None:
        values = (self.dim, self.stride, self.offset, self.extent)
        printer.print_string(f"<{', '.join(str(v.data) for v in values)}>")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        values = parser.parse_comma_separated_list(
            parser.Delimiter.ANGLE, lambda: parser.parse_integer()
        )
        if len(values) != 4:
            parser.raise_error("tile.window takes <dim, stride, offset, extent>")
        return tuple(IntAttr(v) for v in values)


@irdl_attr_definition
class FullAttr(ParametrizedAttribute):
    """`#tile.full`: every output box reads the whole dimension."""

    name = "tile.full"


Access = WindowAttr | FullAttr


@dataclass(frozen=True)
class Box:
    """A static box `[lo, hi)` per dimension."""

    lo: tuple[int, ...]
    hi: tuple[int, ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(h - low for low, h in zip(self.lo, self.hi, strict=True))


def input_box(
    accesses: Sequence[Attribute], shape: Sequence[int], out: Box
) -> tuple[Box, tuple[int, ...], tuple[int, ...]]:
    """The part of an operand of `shape` that the output box `out` reads.

    Returns the box clipped to the operand and the padding clipped off below
    and above each dimension: padding exists only at the tensor's borders.
    """
    lo, hi, pad_lo, pad_hi = [], [], [], []
    for access, size in zip(accesses, shape, strict=True):
        if isinstance(access, WindowAttr):
            begin, end = access.rows(out.lo[access.dim.data], out.hi[access.dim.data])
        else:
            begin, end = 0, size
        lo.append(max(begin, 0))
        hi.append(min(end, size))
        pad_lo.append(max(-begin, 0))
        pad_hi.append(max(end - size, 0))
    return Box(tuple(lo), tuple(hi)), tuple(pad_lo), tuple(pad_hi)


@irdl_op_definition
class ComputeOp(IRDLOperation):
    """One graph op over an explicit iteration space (its result's index space).

    `accesses` holds, per operand, one `#tile.window`/`#tile.full` per operand
    dimension. The body's block arguments are the operands.
    """

    name = "tile.compute"
    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    accesses = prop_def(ArrayAttr[ArrayAttr[Attribute]])
    body = region_def("single_block")
    irdl_options = (ParsePropInAttrDict(),)
    traits = traits_def(Pure())
    assembly_format = (
        "$inputs attr-dict-with-keyword `:` functional-type($inputs, $result) $body"
    )

    def __init__(
        self,
        inputs: Sequence[SSAValue],
        result_type: TensorType,
        accesses: Sequence[Sequence[Attribute]],
        body: Region,
        attributes: dict[str, Attribute] | None = None,
    ):
        super().__init__(
            operands=[list(inputs)],
            result_types=[result_type],
            properties={"accesses": ArrayAttr([ArrayAttr(a) for a in accesses])},
            regions=[body],
            attributes=attributes,
        )

    @property
    def inner(self) -> IRDLOperation:
        """The graph op this computes."""
        terminator = self.body.block.last_op
        assert isinstance(terminator, YieldOp)
        owner = terminator.operands[0].owner
        assert isinstance(owner, IRDLOperation)
        return owner

    def operand_accesses(self, index: int) -> tuple[Attribute, ...]:
        return self.accesses.data[index].data

    def verify_(self) -> None:
        if len(self.accesses.data) != len(self.inputs):
            raise VerifyException("tile.compute: one access list per operand")
        out_rank = len(self.result.type.get_shape())
        for operand, accesses in zip(self.inputs, self.accesses.data, strict=True):
            shape = operand.type.get_shape()
            if len(accesses.data) != len(shape):
                raise VerifyException("tile.compute: one access per operand dimension")
            for access in accesses.data:
                if not isinstance(access, Access):
                    raise VerifyException(f"tile.compute: {access} is not an access")
                if isinstance(access, WindowAttr) and access.dim.data >= out_rank:
                    raise VerifyException(
                        f"tile.compute: window on output dimension {access.dim.data} "
                        f"of a rank-{out_rank} result"
                    )
        block = self.body.block
        if [a.type for a in block.args] != [v.type for v in self.inputs]:
            raise VerifyException("tile.compute: block arguments must match operands")
        terminator = block.last_op
        if not isinstance(terminator, YieldOp) or len(terminator.operands) != 1:
            raise VerifyException(
                "tile.compute: body must end in tile.yield of one value"
            )
        if terminator.operands[0].type != self.result.type:
            raise VerifyException("tile.compute: yielded type differs from the result")


@irdl_op_definition
class YieldOp(AbstractYieldOperation[Attribute]):
    name = "tile.yield"
    traits = traits_def(IsTerminator(), HasParent(ComputeOp), Pure())


class _BoxOp(IRDLOperation):
    irdl_options = (ParsePropInAttrDict(),)
    traits = traits_def(Pure())


@irdl_op_definition
class ExtractOp(_BoxOp):
    """The static box `[offsets, offsets + sizes of the result)` of a tensor."""

    name = "tile.extract"
    source = operand_def(TensorType)
    result = result_def(TensorType)
    offsets = prop_def(DenseArrayBase[I64])
    assembly_format = "$source attr-dict `:` type($source) `to` type($result)"

    def verify_(self) -> None:
        offsets = self.offsets.get_values()
        shape, sizes = self.source.type.get_shape(), self.result.type.get_shape()
        if len(offsets) != len(shape) or len(sizes) != len(shape):
            raise VerifyException("tile.extract: offsets and result rank must match")
        if any(
            o < 0 or o + s > d for o, s, d in zip(offsets, sizes, shape, strict=True)
        ):
            raise VerifyException("tile.extract: box outside the source")


@irdl_op_definition
class AssembleOp(_BoxOp):
    """A tensor made of boxes: operand `i` goes at `offsets[i*rank:(i+1)*rank]`.

    The boxes must tile the result exactly (no gap, no overlap).
    """

    name = "tile.assemble"
    tiles = var_operand_def(TensorType)
    result = result_def(TensorType)
    offsets = prop_def(DenseArrayBase[I64])
    assembly_format = "$tiles attr-dict `:` functional-type($tiles, $result) "

    def boxes(self) -> list[Box]:
        rank = len(self.result.type.get_shape())
        offsets = self.offsets.get_values()
        boxes = []
        for index, tile in enumerate(self.tiles):
            lo = tuple(offsets[index * rank : (index + 1) * rank])
            sizes = tile.type.get_shape()
            boxes.append(Box(lo, tuple(o + s for o, s in zip(lo, sizes, strict=True))))
        return boxes

    def verify_(self) -> None:
        shape = self.result.type.get_shape()
        if len(self.offsets.get_values()) != len(self.tiles) * len(shape):
            raise VerifyException("tile.assemble: one offset per tile and dimension")
        boxes = self.boxes()
        for box in boxes:
            if any(
                lo < 0 or hi > d
                for lo, hi, d in zip(box.lo, box.hi, shape, strict=True)
            ):
                raise VerifyException("tile.assemble: a tile lies outside the result")
        for i, first in enumerate(boxes):
            for second in boxes[i + 1 :]:
                if all(
                    a_lo < b_hi and b_lo < a_hi
                    for a_lo, a_hi, b_lo, b_hi in zip(
                        first.lo, first.hi, second.lo, second.hi, strict=True
                    )
                ):
                    raise VerifyException("tile.assemble: two tiles overlap")
        if sum(math.prod(box.sizes) for box in boxes) != math.prod(shape):
            raise VerifyException("tile.assemble: the tiles do not cover the result")


Tile = Dialect(
    "tile",
    [ComputeOp, YieldOp, ExtractOp, AssembleOp],
    [WindowAttr, FullAttr],
)
