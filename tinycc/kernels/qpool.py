"""Integer pooling (NHWC), the IR twin of `tinycc.interpreter.integer_pool`.

    for n, oh, ow:                 tap bounds and the count per position
      for c:                       (global pooling: one window, the plane)
        acc = sum_taps (x[n, ih, iw, c] - zp_in)          i32, average
           or max_taps x[n, ih, iw, c]                    from the lowest value
        average, quantized alike:
          tflite: y = clamp((t +- count / 2) / count),  t = acc + count * zp
          onnx:   y = clamp(half_even((acc + K count) / count) - K + zp)
        average, requantized:      y = clamp(rescale_count(acc) + zp_out)
        max:                       y = clamp(acc)
                                or clamp(rescale(acc - zp_in) + zp_out)

The windows are those of the float kernels (`tinycc.kernels.window`, the
counts of `tinycc.kernels.pool`): padded taps are never visited. A
requantizing average reads its multiplier from tables indexed by the count
(`<layer>_multiplier`, ...) unless the count is static; a requantized max
gives the lowest stored value for a window holding only padding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import i32
from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.integer import Rounding
from tinycc.integer.params import Multipliers, qtype, scales, zero_point
from tinycc.interpreter.integer_pool import (
    average_multipliers,
    offset,
    same_quantization,
)
from tinycc.kernels.builder import Index, KernelBuilder, Scalar, shape
from tinycc.kernels.fixedpoint import rescale
from tinycc.kernels.pool import _cells
from tinycc.kernels.qsoftmax import divide_half_even
from tinycc.kernels.quantized import load_centered, store_clamped
from tinycc.kernels.window import WindowAxis, fold_window, window_axis


@dataclass(frozen=True)
class PoolWindow:
    """The window of one output position."""

    n: Index
    oh: Index
    ow: Index
    rows: WindowAxis
    cols: WindowAxis
    count: Index  # the cells that count: in the input, or with padding


def pool_windows(
    kb: KernelBuilder, op: graph.Pool2DOp, x: SSAValue, y: SSAValue
) -> Iterator[PoolWindow]:
    """The loop nest over `n, oh, ow`, bounds computed per row and column."""
    _, height, width, _ = shape(x)
    batch, out_h, out_w, _ = shape(y)
    kernel_h, kernel_w = op.kernel.get_values()
    stride_h, stride_w = op.strides.get_values()
    dilation_h, dilation_w = op.window_dilations()
    pad_top, pad_left, pad_bottom, pad_right = op.pads.get_values()
    pads = isinstance(op, graph.AvgPool2DOp) and op.count_include_pad is not None
    for n in kb.range(0, batch, "n"):
        for oh in kb.range(0, out_h, "oh"):
            rows = window_axis(
                kb, oh, stride_h, pad_top, height, kernel_h, dilation_h, "h"
            )
            row_cells = _cells(kb, rows, kernel_h, height + pad_bottom, pads)
            for ow in kb.range(0, out_w, "ow"):
                cols = window_axis(
                    kb, ow, stride_w, pad_left, width, kernel_w, dilation_w, "w"
                )
                col_cells = _cells(kb, cols, kernel_w, width + pad_right, pads)
                count = (row_cells * col_cells).named("count")
                yield PoolWindow(n, oh, ow, rows, cols, count)


def global_windows(kb: KernelBuilder, x: SSAValue) -> Iterator[PoolWindow]:
    """One window per image: the whole plane."""
    batch, height, width, _ = shape(x)
    rows = WindowAxis(kb.index(0), kb.index(0), kb.index(height), 1)
    cols = WindowAxis(kb.index(0), kb.index(0), kb.index(width), 1)
    zero = kb.index(0)
    for n in kb.range(0, batch, "n"):
        yield PoolWindow(n, zero, zero, rows, cols, kb.index(height * width))


def pool(
    kb: KernelBuilder,
    op: graph.Pool2DOp | graph.GlobalPoolOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    (x,) = inputs
    if isinstance(op, graph.GlobalPoolOp):
        windows = global_windows(kb, x)
    else:
        windows = pool_windows(kb, op, x, y)
    average = isinstance(op, graph.AvgPool2DOp | graph.GlobalAvgPoolOp)
    for at in windows:
        if average:
            finish = _average_of(kb, op, at, rounding)
        else:
            finish = _maximum_of(kb, op, at, rounding)
        for c in kb.range(0, shape(x)[3], "c"):
            acc = _window(kb, op, x, at, c, average)
            store_clamped(kb, op, finish(acc), rounding, y, [at.n, at.oh, at.ow, c])


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


def _as_i32(kb: KernelBuilder, value: Index) -> Scalar | int:
    """An index as an i32 (a Python int when static)."""
    if value.static is not None:
        return value.static
    return Scalar(kb, kb.insert(arith.IndexCastOp(value.ssa, i32)).result)


def _average_of(
    kb: KernelBuilder, op: graph.GraphOp, at: PoolWindow, rounding: Rounding
) -> Finish:
    """The window's centered sum to its stored average (before the clamp),
    what depends on the window alone computed here, outside the channels."""
    zp_in, zp_out = zero_point(op.input), zero_point(op.result)
    if not same_quantization(op):
        multipliers, count_index = _count_multipliers(op, at.count)
        return lambda acc: rescale(kb, acc, multipliers, count_index, rounding) + zp_out
    count = _as_i32(kb, at.count)
    if rounding == "tflite":
        # TFLite: the stored values' sum, divided rounding half away from zero.
        stored_zeros = count * zp_in
        half = _as_i32(kb, at.count // 2)

        def rounded_away(acc: Scalar) -> Scalar:
            total = (acc + stored_zeros).named("total") if zp_in else acc
            away = kb.select(kb.compare("gt", total, 0), total + half, total - half)
            return kb.divide_truncating(away, count)

        return rounded_away
    k = offset(op.input)
    lifted = count * k  # makes the numerator non-negative
    return lambda acc: divide_half_even(kb, acc + lifted, count) + (zp_out - k)


def _count_multipliers(
    op: graph.GraphOp, count: Index
) -> tuple[Multipliers, Index | None]:
    """The multipliers `s_in / s_out / count` and the index into them: none
    for a static count, else a table over all the counts a window can have."""
    if count.static is not None:
        return average_multipliers(op, np.asarray([count.static])), None
    return average_multipliers(op, np.arange(count.hi + 1)), count


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
}
