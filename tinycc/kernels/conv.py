"""Convolution (NHWC input, OHWI weight), grouped and depthwise alike.

    for n, oh, ow:                      tap bounds per output row / column
      for g, oc:                        co = g * C_out/groups + oc
        acc = bias[co]
        for kh in [kh_lo, kh_hi):       only taps inside the input
          for kw in [kw_lo, kw_hi):
            for ic in C_in/groups:      contiguous in input and weight
              acc += x[n, ih, iw, g * C_in/groups + ic] * w[co, kh, kw, ic]
        y[n, oh, ow, co] = clamp(acc)

A depthwise convolution is the case `C_in/groups = 1`: the `ic` loop
disappears and the taps are the innermost loops, the accumulator in a
register. (Its OHWI weight `[C*M, KH, KW, 1]` is not contiguous along
channels, so a channel-innermost order would gain nothing.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.kernels.builder import Index, KernelBuilder, Scalar, shape
from tinycc.kernels.elementwise import fused_clamp
from tinycc.kernels.window import WindowAxis, fold_window, window_axis


@dataclass(frozen=True)
class OutputPosition:
    """One output cell of a convolution, its channel, and its window."""

    n: Index
    oh: Index
    ow: Index
    co: Index  # output channel
    ci0: Index  # first input channel of co's group
    rows: WindowAxis
    cols: WindowAxis


def output_positions(
    kb: KernelBuilder, op: graph.Conv2DOp, x: SSAValue, w: SSAValue, y: SSAValue
) -> Iterator[OutputPosition]:
    """The loop nest over the outputs (`n, oh, ow, g, oc`), window bounds
    computed per output row and column; the caller builds each body."""
    _, height, width, _ = shape(x)
    c_out, kernel_h, kernel_w, c_group = shape(w)
    batch, out_h, out_w, _ = shape(y)
    stride_h, stride_w = op.strides.get_values()
    dilation_h, dilation_w = op.dilations.get_values()
    pad_top, pad_left, _, _ = op.pads.get_values()
    groups = op.groups.value.data

    for n in kb.range(0, batch, "n"):
        for oh in kb.range(0, out_h, "oh"):
            rows = window_axis(
                kb, oh, stride_h, pad_top, height, kernel_h, dilation_h, "h"
            )
            for ow in kb.range(0, out_w, "ow"):
                cols = window_axis(
                    kb, ow, stride_w, pad_left, width, kernel_w, dilation_w, "w"
                )
                for g in kb.range(0, groups, "g"):
                    ci0 = (g * c_group).named("ci0")
                    co0 = (g * (c_out // groups)).named("co0")
                    for oc in kb.range(0, c_out // groups, "oc"):
                        co = (co0 + oc).named("co")
                        yield OutputPosition(n, oh, ow, co, ci0, rows, cols)


def conv2d(
    kb: KernelBuilder, op: graph.Conv2DOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    x, w, *bias = inputs
    for at in output_positions(kb, op, x, w, y):
        acc = kb.load(bias[0], [at.co], "b") if bias else 0.0
        acc = _taps(kb, x, w, at.n, at.ci0, at.co, at.rows, at.cols, acc)
        kb.store(fused_clamp(kb, op, acc), y, [at.n, at.oh, at.ow, at.co])


def _taps(
    kb: KernelBuilder,
    x: SSAValue,
    w: SSAValue,
    n: Index,
    ci0: Index,
    co: Index,
    rows: WindowAxis,
    cols: WindowAxis,
    acc: float | Scalar,
) -> Scalar:
    """`acc` plus the window of output channel `co`, whose group's input
    channels start at `ci0`."""
    c_group = shape(w)[3]

    def tap(kh: Index, kw: Index, ih: Index, iw: Index, acc: Scalar) -> Scalar:
        def channel(ic: Index, acc: Scalar) -> Scalar:
            xv = kb.load(x, [n, ih, iw, ci0 + ic], "xv")
            wv = kb.load(w, [co, kh, kw, ic], "wv")
            return (acc + xv * wv).named("acc")

        return kb.fold(0, c_group, "ic", acc, channel)

    return fold_window(kb, rows, cols, acc, tap)


KERNELS = {graph.Conv2DOp: conv2d}
