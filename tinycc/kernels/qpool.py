"""Integer pooling (NHWC), the IR twin of `tinycc.interpreter.integer_pool`.

    for n, oh, ow:                 tap bounds and the count per position
      for c:                       (global pooling: one window, the plane)
        acc = sum_taps (x[n, ih, iw, c] - zp_in)          i32, average
           or max_taps x[n, ih, iw, c]                    from the lowest value
        average, quantized alike:
          tflite: y = clamp((t +- count / 2) / count),  t = acc + count * zp
          onnx:   y = clamp(half_even((acc + K count) / count) - K + zp)
        average, requantized, or reduce_mean (TFLite's MEAN):
                                   y = clamp(rescale_count(acc) + zp_out)
        max:                       y = clamp(acc)
                                or clamp(rescale(acc - zp_in) + zp_out)

The windows, with their counts, are those of the float kernels
(`tinycc.kernels.pool.pool_windows`): padded taps are never visited. A
requantizing average reads its multiplier from tables indexed by the count
(`<layer>_multiplier`, ...) unless the count is static; a requantized max
gives the lowest stored value for a window holding only padding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import i32
from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.integer import Rounding
from tinycc.integer.params import Multipliers, qtype, scales, zero_point
from tinycc.interpreter.integer_pool import (
    average_multipliers,
    check_mean,
    mean_unsupported,
    offset,
    same_quantization,
    uses_multipliers,
)
from tinycc.kernels.builder import Index, KernelBuilder, Scalar, shape
from tinycc.kernels.fixedpoint import divide_half_even, rescale
from tinycc.kernels.pool import PoolWindow, pool_windows
from tinycc.kernels.quantized import load_centered, store_clamped
from tinycc.kernels.window import fold_window


def pool(
    kb: KernelBuilder,
    op: graph.Pool2DOp | graph.GlobalPoolOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    (x,) = inputs
    check_mean(op)
    average = isinstance(op, AVERAGES)
    for at in pool_windows(kb, op, x, y):
        if average:
            finish = _average_of(kb, op, at, rounding)
        else:
            finish = _maximum_of(kb, op, at, rounding)
        for c in kb.range(0, shape(x)[3], "c"):
            acc = _window(kb, op, x, at, c, average)
            # A reduce_mean without keepdims has an [N, C] result.
            cell = [at.n, at.oh, at.ow, c] if len(shape(y)) == 4 else [at.n, c]
            store_clamped(kb, op, finish(acc), rounding, y, cell)


def _window(
    kb: KernelBuilder,
    op: graph.GraphOp,
    x: SSAValue,
    at: PoolWindow,
    c: Index,
    average: bool,
) -> Scalar:
    """The sum of the centered values (`average`) or the maximum of the
    stored values of the window at channel `c`, an i32."""
    zp_in = zero_point(op.input)
    low, _ = qtype(op.input).storage_range

    def tap(kh: Index, kw: Index, ih: Index, iw: Index, acc: Scalar) -> Scalar:
        if average:
            return (acc + load_centered(kb, x, [at.n, ih, iw, c], zp_in, "xv")).named(
                "acc"
            )
        xv = kb.convert(kb.load(x, [at.n, ih, iw, c], "xv"), i32)
        return kb.maximum(acc, xv).named("acc")

    init = kb.scalar(0 if average else low, i32)
    return fold_window(kb, at.rows, at.cols, init, tap)


Finish = Callable[[Scalar], Scalar]
AVERAGES = (graph.AvgPool2DOp, graph.GlobalAvgPoolOp, graph.ReduceMeanOp)


def _average_of(
    kb: KernelBuilder, op: graph.GraphOp, at: PoolWindow, rounding: Rounding
) -> Finish:
    """The window's centered sum to its stored average (before the clamp),
    what depends on the window alone computed here, outside the channels."""
    zp_in, zp_out = zero_point(op.input), zero_point(op.result)
    if uses_multipliers(op):
        multipliers, count_index = _count_multipliers(op, at.count, rounding)
        return lambda acc: rescale(kb, acc, multipliers, count_index, rounding) + zp_out
    count = kb.as_i32(at.count)
    if rounding == "tflite":
        # TFLite: the stored values' sum, divided rounding half away from zero.
        stored_zeros = count * zp_in
        half = kb.as_i32(at.count // 2)

        def rounded_away(acc: Scalar) -> Scalar:
            total = (acc + stored_zeros).named("total") if zp_in else acc
            away = kb.select(kb.compare("gt", total, 0), total + half, total - half)
            return kb.divide_truncating(away, count)

        return rounded_away
    k = offset(op.input)
    lifted = count * k  # makes the numerator non-negative
    return lambda acc: divide_half_even(kb, acc + lifted, count) + (zp_out - k)


def _count_multipliers(
    op: graph.GraphOp, count: Index, rounding: Rounding
) -> tuple[Multipliers, Index | None]:
    """The multipliers `s_in / s_out / count` and the index into them: none
    for a static count, else a table over all the counts a window can have."""
    if count.static is not None:
        return average_multipliers(op, np.asarray([count.static]), rounding), None
    return average_multipliers(op, np.arange(count.hi + 1), rounding), count


def _maximum_of(
    kb: KernelBuilder, op: graph.GraphOp, at: PoolWindow, rounding: Rounding
) -> Finish:
    """The window's maximum to the stored result (before the clamp)."""
    if same_quantization(op):
        return lambda acc: acc
    multipliers = Multipliers.of(scales(op.input) / scales(op.result))
    zp_in, zp_out = zero_point(op.input), zero_point(op.result)
    low, _ = qtype(op.result).storage_range
    empty = _maybe_empty(kb, at)

    def requantized(acc: Scalar) -> Scalar:
        centered = acc - zp_in if zp_in else acc
        scaled = rescale(kb, centered, multipliers, None, rounding) + zp_out
        return scaled if empty is None else kb.select(empty, low, scaled)

    return requantized


def _maybe_empty(kb: KernelBuilder, at: PoolWindow) -> SSAValue | None:
    """An `i1` saying that the window has no input cell, or None when the
    index ranges rule that out."""
    checks = [
        kb.insert(arith.CmpiOp(axis.hi.ssa, axis.lo.ssa, "sle")).result
        for axis in (at.rows, at.cols)
        if axis.hi.lo <= axis.lo.hi
    ]
    return kb.any_of(checks) if checks else None


INTEGER_KERNELS = {
    graph.AvgPool2DOp: pool,
    graph.MaxPool2DOp: pool,
    graph.GlobalAvgPoolOp: pool,
    graph.GlobalMaxPoolOp: pool,
    graph.ReduceMeanOp: pool,
}

UNSUPPORTED = {graph.ReduceMeanOp: lambda op, rounding: mean_unsupported(op)}
