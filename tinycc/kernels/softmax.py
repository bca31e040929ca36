"""Softmax and log-softmax along any axis, numerically stable.

    for every index i off the axis:
      peak = max_j x[i, j]                       (a register)
      sum  = sum_j (y[i, j] = exp(x[i, j] - peak))
      y[i, j] *= 1 / sum                         softmax
      y[i, j] = (x[i, j] - peak) - log(sum)      log_softmax

The loops over the axis are innermost (contiguous for the last axis, the
usual case).
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.kernels.builder import LOWEST_F32, Index, KernelBuilder, Scalar, shape


def softmax(
    kb: KernelBuilder, op: graph.AxisUnaryOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    (x,) = inputs
    sizes = shape(x)
    axis = op.axis.value.data
    for at in kb.grid([*sizes[:axis], *sizes[axis + 1 :]]):
        _along_axis(kb, x, y, at, axis, isinstance(op, graph.LogSoftmaxOp))


def _along_axis(
    kb: KernelBuilder, x: SSAValue, y: SSAValue, at: list[Index], axis: int, log: bool
) -> None:
    """Normalize the line through `at` (the indices off the axis)."""
    length = shape(x)[axis]

    def along(j: Index) -> list[Index]:
        return [*at[:axis], j, *at[axis:]]

    def keep_max(j: Index, peak: Scalar) -> Scalar:
        return kb.maximum(peak, kb.load(x, along(j), "xv")).named("peak")

    peak = kb.fold(0, length, "j", LOWEST_F32, keep_max, "peak")

    def add_exp(j: Index, total: Scalar) -> Scalar:
        e = kb.exp(kb.load(x, along(j), "xv") - peak, "e")
        if not log:
            kb.store(e, y, along(j))
        return (total + e).named("sum")

    total = kb.fold(0, length, "j", 0.0, add_exp, "sum")
    if log:
        log_sum = kb.log(total, "log_sum")
        for j in kb.range(0, length, "j"):
            kb.store((kb.load(x, along(j), "xv") - peak) - log_sum, y, along(j))
        return
    inverse = (1.0 / total).named("inverse")
    for j in kb.range(0, length, "j"):
        kb.store(kb.load(y, along(j), "e") * inverse, y, along(j))


KERNELS = {graph.SoftmaxOp: softmax, graph.LogSoftmaxOp: softmax}
