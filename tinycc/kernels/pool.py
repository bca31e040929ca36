"""Pooling, NHWC.

    for n, oh, ow:                 tap bounds (and the divisor) per position
      for c:
        acc = init
        for kh in [kh_lo, kh_hi):  only taps inside the input
          for kw in [kw_lo, kw_hi):
            acc = max(acc, x[n, ih, iw, c])     or acc + x[...]
        y[n, oh, ow, c] = acc                    or acc * (1 / count)

Padding never wins a max: the accumulator starts at the lowest float32 and
padded taps are not visited (a dilated window holding only padding gives the
lowest float, as onnxruntime does). The average divides by the input cells
of the window, plus its padding cells with `count_include_pad`; cells past
the padded end, which ceil-mode windows reach, never count. Global pooling
is the same with the whole image as the window (one per image, `n` alone).

The loops over windows (`pool_windows`) are shared with the integer kernels
(`tinycc.kernels.qpool`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.kernels.builder import LOWEST_F32, Index, KernelBuilder, Scalar, shape
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
    kb: KernelBuilder,
    op: graph.Pool2DOp | graph.GlobalPoolOp | graph.ReduceMeanOp,
    x: SSAValue,
    y: SSAValue,
) -> Iterator[PoolWindow]:
    """The loop nest over the output positions of `op`: `n, oh, ow` with the
    tap bounds computed per row and column, or `n` alone for global pooling
    (and a mean over the plane)."""
    if isinstance(op, graph.GlobalPoolOp | graph.ReduceMeanOp):
        yield from _global_windows(kb, x)
        return
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
            row_cells = window_cells(kb, rows, kernel_h, height + pad_bottom, pads)
            for ow in kb.range(0, out_w, "ow"):
                cols = window_axis(
                    kb, ow, stride_w, pad_left, width, kernel_w, dilation_w, "w"
                )
                col_cells = window_cells(kb, cols, kernel_w, width + pad_right, pads)
                count = (row_cells * col_cells).named("count")
                yield PoolWindow(n, oh, ow, rows, cols, count)


def _global_windows(kb: KernelBuilder, x: SSAValue) -> Iterator[PoolWindow]:
    """One window per image: the whole plane."""
    batch, height, width, _ = shape(x)
    rows = WindowAxis(kb.index(0), kb.index(0), kb.index(height), 1)
    cols = WindowAxis(kb.index(0), kb.index(0), kb.index(width), 1)
    zero = kb.index(0)
    for n in kb.range(0, batch, "n"):
        yield PoolWindow(n, zero, zero, rows, cols, kb.index(height * width))


def window_cells(
    kb: KernelBuilder, axis: WindowAxis, kernel: int, padded_end: int, pads: bool
) -> Index:
    """How many cells of the window count along one axis: those in the
    input, or with `pads` those before the padded end (a window never starts
    before the begin padding)."""
    if pads:
        return kb.imin(kernel, padded_end - axis.start).named("cells")
    return (axis.hi - axis.lo).named("cells")


def pool(
    kb: KernelBuilder,
    op: graph.Pool2DOp | graph.GlobalPoolOp,
    inputs: list[SSAValue],
    y: SSAValue,
) -> None:
    (x,) = inputs
    average = isinstance(op, graph.AvgPool2DOp | graph.GlobalAvgPoolOp)
    for at in pool_windows(kb, op, x, y):
        inverse = _inverse(kb, at.count) if average else None
        for c in kb.range(0, shape(y)[3], "c"):
            acc = _window(kb, x, at, c, average)
            if inverse is not None:
                acc = acc * inverse
            kb.store(acc, y, [at.n, at.oh, at.ow, c])


def _inverse(kb: KernelBuilder, count: Index) -> Scalar:
    if count.static is not None:
        return kb.scalar(1.0 / count.static)
    return (1.0 / kb.to_float(count)).named("inverse")


def _window(
    kb: KernelBuilder, x: SSAValue, at: PoolWindow, c: Index, average: bool
) -> Scalar:
    """The sum (`average`) or the maximum of the window at channel `c`."""

    def tap(kh: Index, kw: Index, ih: Index, iw: Index, acc: Scalar) -> Scalar:
        xv = kb.load(x, [at.n, ih, iw, c], "xv")
        return (acc + xv if average else kb.maximum(acc, xv)).named("acc")

    return fold_window(kb, at.rows, at.cols, 0.0 if average else LOWEST_F32, tap)


KERNELS = {
    graph.MaxPool2DOp: pool,
    graph.AvgPool2DOp: pool,
    graph.GlobalAvgPoolOp: pool,
    graph.GlobalMaxPoolOp: pool,
}
