"""Reductions over any set of axes (`reduce_sum`, `reduce_mean`, `reduce_max`).

    for the kept indices i:
      acc = init
      for the reduced indices r (in axis order):  acc = acc + x[i, r]  or max
      y[i] = acc                                   (* 1/count for the mean)

The accumulator is carried through the whole nest of reduction loops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.kernels.builder import LOWEST_F32, Index, KernelBuilder, Scalar, shape


def reduce(
    kb: KernelBuilder, op: graph.ReduceOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    (x,) = inputs
    sizes = shape(x)
    axes = sorted(op.axes.get_values())
    kept = [d for d in range(len(sizes)) if d not in axes]
    is_max = isinstance(op, graph.ReduceMaxOp)
    names = [f"i{d}" for d in kept]
    for at in kb.grid([sizes[d] for d in kept], names):
        index: list[Index | None] = [None] * len(sizes)
        for d, i in zip(kept, at, strict=True):
            index[d] = i
        acc = _fold(kb, x, index, axes, LOWEST_F32 if is_max else 0.0, is_max)
        if isinstance(op, graph.ReduceMeanOp):
            acc = acc * (1.0 / math.prod(sizes[d] for d in axes))
        kb.store(acc, y, at if op.keepdims is None else _keep(index, axes))


def _fold(
    kb: KernelBuilder,
    x: SSAValue,
    index: list[Index | None],
    axes: Sequence[int],
    acc: float | Scalar,
    is_max: bool,
) -> Scalar:
    """Fold the reduced axes `axes` (outermost first) into `acc`; `index`
    holds the kept indices and `None` at the reduced axes."""
    if not axes:
        xv = kb.load(x, index, "xv")
        return (kb.maximum(acc, xv) if is_max else acc + xv).named("acc")
    axis, rest = axes[0], axes[1:]

    def step(r: Index, acc: Scalar) -> Scalar:
        inner = [r if d == axis else i for d, i in enumerate(index)]
        return _fold(kb, x, inner, rest, acc, is_max)

    return kb.fold(0, shape(x)[axis], f"r{axis}", acc, step)


def _keep(index: list[Index | None], axes: Sequence[int]) -> list[Index | int]:
    """The result index with `keepdims`: 0 along the reduced axes."""
    return [0 if d in axes else i for d, i in enumerate(index)]


KERNELS = dict.fromkeys(
    (graph.ReduceSumOp, graph.ReduceMeanOp, graph.ReduceMaxOp), reduce
)
