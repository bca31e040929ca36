"""Sliding windows (convolution, pooling) without padding tests.

Output row `oh` reads input rows `h0 + kh * dilation` with
`h0 = oh * stride - pad_begin`; the taps whose row falls in the padding are
not visited at all: the tap loop runs over `[kh_lo, kh_hi)`, computed once
per output row with `max`/`min`. Where the padding cannot be reached, the
index ranges fold the bounds to the constants `0` and `KH`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tinycc.kernels.builder import Index, KernelBuilder, Scalar


@dataclass(frozen=True)
class WindowAxis:
    """One axis of the window at one output position."""

    start: Index  # input coordinate of tap 0 (negative in the padding)
    lo: Index  # first tap inside the input
    hi: Index  # one past the last tap inside the input
    dilation: int

    def cell(self, tap: Index) -> Index:
        return self.start + tap * self.dilation


def window_axis(
    kb: KernelBuilder,
    out: Index,
    stride: int,
    pad_begin: int,
    size: int,
    kernel: int,
    dilation: int,
    axis: str,
) -> WindowAxis:
    """The window of output coordinate `out` along an input axis of `size`.

    The valid taps are `[ceil(-start / d), ceil((size - start) / d))` clipped
    to `[0, kernel)`; both divisions have non-negative numerators.
    """
    start = (out * stride - pad_begin).named(f"{axis}0")
    lo = kb.imax(-start, 0).ceildiv(dilation).named(f"k{axis}_lo")
    hi = kb.imin(kernel, kb.imax(size - start, 0).ceildiv(dilation))
    return WindowAxis(start, lo, hi.named(f"k{axis}_hi"), dilation)


def fold_window(
    kb: KernelBuilder,
    rows: WindowAxis,
    cols: WindowAxis,
    init: float | Scalar,
    step: Callable[[Index, Index, Index, Index, Scalar], Scalar],
) -> Scalar:
    """Fold `step(kh, kw, ih, iw, acc)` over the valid taps, rows outside."""

    def row(kh: Index, acc: Scalar) -> Scalar:
        ih = rows.cell(kh).named("ih")

        def column(kw: Index, acc: Scalar) -> Scalar:
            return step(kh, kw, ih, cols.cell(kw).named("iw"), acc)

        return kb.fold(cols.lo, cols.hi, "kw", acc, column)

    return kb.fold(rows.lo, rows.hi, "kh", init, row)
