"""Resize (NHWC), nearest or bilinear, with ONNX's coordinate modes.

    for n, oh:  source row(s) of oh (and its weight)
      for ow:   source column(s) of ow
        for c:  y[n, oh, ow, c] = x[n, ih, iw, c]      nearest
                or the two-step linear blend (rows, then columns)

The source coordinate of an output index is computed in float32 in the
order of operations of the reference interpreter (and onnxruntime): which
neighbour is nearest depends on the rounding. `half_pixel_symmetric` is
computed in float64 there, and here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import Float64Type
from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.kernels.builder import Index, KernelBuilder, Scalar, f32, shape


def source_coordinate(
    kb: KernelBuilder, mode: str, out: Index, out_len: int, in_len: int, scale: float
) -> Scalar:
    """ONNX Resize's coordinate transform of output index `out`."""
    s = float(np.float32(scale))
    if out_len == 1 and mode in ("align_corners", "pytorch_half_pixel"):
        return kb.scalar(0.0)
    if mode == "half_pixel_symmetric":
        adjustment = np.float32(out_len) / (np.float32(s) * np.float32(in_len))
        offset = float(np.float32(in_len) / 2 * (1 - adjustment))
        x = kb.to_float(out, Float64Type())
        coordinate = offset + (x + 0.5) / s - 0.5
        return Scalar(kb, kb.insert(arith.TruncFOp(coordinate.ssa, f32)).result)
    x = kb.to_float(out)
    if mode == "asymmetric":
        return x / s
    if mode == "align_corners":
        return x * float(in_len - 1) / float(out_len - 1)
    return (x + 0.5) / s - 0.5  # half_pixel, pytorch_half_pixel


@dataclass(frozen=True)
class Taps:
    """The input cells an output index reads along one axis: one (nearest)
    or two, `high` weighing `weight` and `low` its complement (linear)."""

    low: Index
    high: Index | None = None
    weight: Scalar | None = None
    complement: Scalar | None = None

    def blend(self, read: Callable[[Index], Scalar]) -> Scalar:
        """The value at the output index, given how to read an input cell."""
        if self.high is None:
            return read(self.low)
        return read(self.low) * self.complement + read(self.high) * self.weight


def nearest(kb: KernelBuilder, mode: str, coordinate: Scalar, in_len: int) -> Taps:
    """The nearest input index under `mode`, clipped to the input.

    Clipping first and rounding after gives the same index (the bounds are
    integers), and on a non-negative value rounding down is the float to int
    conversion."""
    if mode == "round_prefer_ceil":
        coordinate = coordinate + 0.5
    elif mode == "round_prefer_floor":
        coordinate = coordinate - 0.5
    clipped = kb.clamp(coordinate, 0.0, float(in_len - 1))
    if mode in ("ceil", "round_prefer_floor"):
        clipped = kb.ceil(clipped)
    return Taps(kb.truncate(clipped, 0, in_len - 1))


def linear(kb: KernelBuilder, coordinate: Scalar, in_len: int) -> Taps:
    """The two neighbours of the clipped coordinate and the weight of the
    upper one: outside the input, the edge value."""
    clipped = kb.clamp(coordinate, 0.0, float(in_len - 1))
    low = kb.truncate(clipped, 0, in_len - 1)
    high = kb.imin(low + 1, in_len - 1)
    weight = clipped - kb.to_float(low)
    return Taps(low, high, weight, 1.0 - weight)


def resize(
    kb: KernelBuilder, op: graph.ResizeOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    (x,) = inputs
    _, in_h, in_w, _ = shape(x)
    batch, out_h, out_w, channels = shape(y)
    scale_h, scale_w = op.scales.get_values()
    mode = op.coordinate_mode.data

    def taps(out: Index, out_len: int, in_len: int, scale: float, axis: str) -> Taps:
        if in_len == 1:
            return Taps(kb.index(0))  # every coordinate reads the one cell
        coordinate = source_coordinate(kb, mode, out, out_len, in_len, scale)
        if op.mode.data == "nearest":
            found = nearest(kb, op.nearest_mode.data, coordinate, in_len)
            found.low.named(f"i{axis}")
            return found
        found = linear(kb, coordinate, in_len)
        found.low.named(f"i{axis}_lo")
        assert found.high is not None
        assert found.weight is not None and found.complement is not None
        found.high.named(f"i{axis}_hi")
        found.weight.named(f"w{axis}_hi")
        found.complement.named(f"w{axis}_lo")
        return found

    for n in kb.range(0, batch, "n"):
        for oh in kb.range(0, out_h, "oh"):
            rows = taps(oh, out_h, in_h, scale_h, "h")
            for ow in kb.range(0, out_w, "ow"):
                cols = taps(ow, out_w, in_w, scale_w, "w")
                for c in kb.range(0, channels, "c"):
                    kb.store(_blend(kb, x, n, c, rows, cols), y, [n, oh, ow, c])


def _blend(
    kb: KernelBuilder, x: SSAValue, n: Index, c: Index, rows: Taps, cols: Taps
) -> Scalar:
    """Along H at both columns, then along W (the reference's order)."""

    def column(iw: Index) -> Scalar:
        return rows.blend(lambda ih: kb.load(x, [n, ih, iw, c], "xv"))

    return cols.blend(column)


KERNELS = {graph.ResizeOp: resize}
