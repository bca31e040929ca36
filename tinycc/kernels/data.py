"""Data movement: reshape, transpose, concat, pad, slice.

Each is a copy loop nest over the result (over each input for concat), the
last dimension innermost; the source index of every dimension is computed in
that dimension's loop, outside the inner ones. Padding is branch-free: the
source index is clamped (constant, edge), mirrored (reflect) or wrapped, and
constant padding selects the pad value where a padded dimension is out of
range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.kernels.builder import Index, KernelBuilder, shape


def transpose(
    kb: KernelBuilder, op: graph.TransposeOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    (x,) = inputs
    perm = op.perm.get_values()
    for at in kb.grid(shape(y)):
        source: list[Index | int] = [0] * len(perm)
        for i, p in enumerate(perm):
            source[p] = at[i]
        kb.store(kb.load(x, source, "xv"), y, at)


def concat(
    kb: KernelBuilder, op: graph.ConcatOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    axis = op.axis.value.data
    offset = 0
    for x in inputs:
        for at in kb.grid(shape(x)):
            target = [i + offset if d == axis else i for d, i in enumerate(at)]
            kb.store(kb.load(x, at, "xv"), y, target)
        offset += shape(x)[axis]


def slice_(
    kb: KernelBuilder, op: graph.SliceOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    (x,) = inputs
    starts, steps = op.starts.get_values(), op.steps.get_values()

    def source(d: int, i: Index, outer: list[tuple[Index, Index]]):
        """`(output index, input index)` along dimension `d`."""
        return i, (starts[d] + i * steps[d]).named(f"src{d}")

    for at in kb.mapped_grid(shape(y), source):
        xv = kb.load(x, [src for _, src in at], "xv")
        kb.store(xv, y, [i for i, _ in at])


@dataclass(frozen=True)
class _Padded:
    """One dimension of a pad: the output index, the input index it copies,
    and (constant mode) whether this and the enclosing dimensions are inside
    the input (`None`: always)."""

    out: Index
    source: Index
    inside: SSAValue | None


def pad(
    kb: KernelBuilder, op: graph.PadOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    (x,) = inputs
    sizes = shape(x)
    begins = op.pads.get_values()[: len(sizes)]
    mode = op.mode.data

    def source(d: int, o: Index, outer: list[_Padded]) -> _Padded:
        inside = outer[-1].inside if outer else None
        size, begin = sizes[d], begins[d]
        if mode == "wrap":
            shift = size * math.ceil(begin / size) - begin  # keeps the index >= 0
            return _Padded(o, ((o + shift) % size).named(f"src{d}"), inside)
        src = (o - begin).named(f"t{d}")
        if mode == "reflect":
            # Mirror the end padding: (size-1) - |(size-1) - t|; then the
            # begin padding: |t| (pads are below the size).
            if src.hi >= size:
                src = (size - 1) - kb.imax((size - 1) - src, src - (size - 1))
            if src.lo < 0:
                src = kb.imax(src, -src)
            return _Padded(o, src.named(f"src{d}"), inside)
        if mode == "constant":
            here = kb.in_range(src, 0, size)
            if here is not None:
                inside = here if inside is None else kb.all_of([inside, here])
        # Constant padding reads (and discards) the nearest input cell.
        return _Padded(o, kb.imin(kb.imax(src, 0), size - 1).named(f"src{d}"), inside)

    value = op.value.value.data
    for at in kb.mapped_grid(shape(y), source):
        xv = kb.load(x, [p.source for p in at], "xv")
        inside = at[-1].inside if at else None
        if inside is not None:
            xv = kb.select(inside, xv, value)
        kb.store(xv, y, [p.out for p in at])


def reshape(
    kb: KernelBuilder, op: graph.ReshapeOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    """A row-major copy. The dimensions other than 1 fall into groups of
    equal size on both sides (`[5, 5, 64] -> [1600]`); each group loops
    over its finer side and indexes the other through the group's linear
    index, so that the common reshapes (flatten, unflatten) divide nothing."""
    (x,) = inputs
    in_shape, out_shape = shape(x), shape(y)
    if math.prod(out_shape) == 0:
        return
    loops = [
        (group, axis)
        for group in _groups(in_shape, out_shape)
        for axis in group.looped_axes
    ]

    def step(d: int, i: Index, outer: list[_Step]) -> _Step:
        """The linear index so far is the sum of `index * stride` over the
        group's loops up to `d`: one addition in the innermost loop."""
        group, axis = loops[d]
        first = d == 0 or loops[d - 1][0] is not group
        inner = group.looped_axes[group.looped_axes.index(axis) + 1 :]
        stride = math.prod(group.looped_shape[a] for a in inner)
        flat = (i * stride if first else outer[-1].flat + i * stride).named("flat")
        return _Step(i, flat, group.unravel(flat) if not inner else {})

    sizes = [group.looped_shape[axis] for group, axis in loops]
    for at in kb.mapped_grid(sizes, step):
        source: list[Index | int] = [0] * len(in_shape)
        target: list[Index | int] = [0] * len(out_shape)
        for (group, axis), loop in zip(loops, at, strict=True):
            looped, other = (source, target) if group.loops_input else (target, source)
            looped[axis] = loop.index
            for other_axis, index in loop.other.items():
                other[other_axis] = index
        kb.store(kb.load(x, source, "xv"), y, target)


@dataclass(frozen=True)
class _Step:
    """A loop of a reshape: its index, the linear index of its group so far
    and, in the group's last loop, the indices of the group's other side."""

    index: Index
    flat: Index
    other: dict[int, Index]


@dataclass(eq=False)
class _Group:
    """Input and output axes (of sizes above 1) spanning the same elements;
    the loops run over the side with more axes."""

    input_axes: list[int]
    output_axes: list[int]
    in_shape: Sequence[int]
    out_shape: Sequence[int]

    @property
    def loops_input(self) -> bool:
        return len(self.input_axes) > len(self.output_axes)

    @property
    def looped_axes(self) -> list[int]:
        return self.input_axes if self.loops_input else self.output_axes

    @property
    def looped_shape(self) -> Sequence[int]:
        return self.in_shape if self.loops_input else self.out_shape

    def unravel(self, flat: Index) -> dict[int, Index]:
        """The other side's indices for the group's linear index `flat`."""
        axes, sizes = (
            (self.output_axes, self.out_shape)
            if self.loops_input
            else (self.input_axes, self.in_shape)
        )
        indices = {}
        for axis in reversed(axes[1:]):
            indices[axis] = flat % sizes[axis]
            flat = flat // sizes[axis]
        indices[axes[0]] = flat
        return indices


def _groups(in_shape: Sequence[int], out_shape: Sequence[int]) -> list[_Group]:
    """Pair the dimensions other than 1 of both shapes into the smallest
    groups of equal element counts, in order."""
    ins = [a for a, d in enumerate(in_shape) if d != 1]
    outs = [a for a, d in enumerate(out_shape) if d != 1]
    groups, i, j = [], 0, 0
    while i < len(ins):
        group = _Group([ins[i]], [outs[j]], in_shape, out_shape)
        in_size, out_size = in_shape[ins[i]], out_shape[outs[j]]
        i, j = i + 1, j + 1
        while in_size != out_size:
            if in_size < out_size:
                group.input_axes.append(ins[i])
                in_size, i = in_size * in_shape[ins[i]], i + 1
            else:
                group.output_axes.append(outs[j])
                out_size, j = out_size * out_shape[outs[j]], j + 1
        groups.append(group)
    return groups


KERNELS = {
    graph.ReshapeOp: reshape,
    graph.TransposeOp: transpose,
    graph.ConcatOp: concat,
    graph.PadOp: pad,
    graph.SliceOp: slice_,
}
