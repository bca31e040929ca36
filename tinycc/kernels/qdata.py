"""Integer data movement: the float kernels of `tinycc.kernels.data` on stored
integers, and resize through tables computed at compile time.

    reshape, transpose, concat, pad, slice (the float kernel's loops):
      y[...] = x[...]                                 x quantized like y: a copy
      y[...] = clamp(rescale(x[...] - zp_x) + zp_y)   otherwise (each concat input)

    resize, nearest:
      for n, oh:  ih = rows[oh]
        for ow:   iw = cols[ow]
          for c:  y[n, oh, ow, c] = x[n, ih, iw, c]   (requantized as above)

    resize, linear:
      for n, oh:  ih0, ih1, wh1 = h_lo[oh], h_hi[oh], h_w[oh];  wh0 = 2^b - wh1
        for ow:   iw0, iw1, ww1 likewise;  w00 = wh0 * ww0, ...
          for c:  acc = sum over the four taps of (x[n, ih, iw, c] - offset) * w
                  y[n, oh, ow, c] = clamp(round(acc / 2^2b) + offset)

The numbers (multipliers, tables, the pad value, the rounding) are those of
`tinycc.interpreter.integer_data`, so C and numpy agree bit for bit. The
float kernels work unchanged on integer buffers because the builder stores a
constant in the buffer's element type; a requantizing operand is read through
`_ConvertingLoads`. The tables replace the float coordinate arithmetic of the
float resize kernel: an int8 kernel has no float instruction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerType, Signedness, i32, i64
from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.integer import Rounding
from tinycc.integer.params import qtype, zero_point
from tinycc.interpreter.integer_data import (
    LinearTaps,
    check,
    interpolation_offset,
    linear_taps,
    nearest_sources,
    requantization,
    stored_pad,
    unsupported,
)
from tinycc.kernels import data
from tinycc.kernels.builder import Index, IndexLike, KernelBuilder, Scalar, shape
from tinycc.kernels.fixedpoint import rescale, round_half_even_shift
from tinycc.kernels.quantized import store_clamped

Converter = Callable[[Scalar], Scalar]


def _widened(kb: KernelBuilder, stored: Scalar, type_: IntegerType) -> Scalar:
    """A stored integer as a wider signed integer (zero-extended if unsigned)."""
    storage = stored.type
    assert isinstance(storage, IntegerType)
    if storage.signedness.data != Signedness.UNSIGNED:
        return kb.convert(stored, type_)
    return Scalar(kb, kb.insert(arith.ExtUIOp(stored.ssa, type_)).result)


def _converter(
    kb: KernelBuilder, op: graph.GraphOp, value: SSAValue, rounding: Rounding
) -> Converter | None:
    """How a stored value of operand `value` becomes one of the result's
    type, or None if they are quantized alike."""
    result = op.results[0]
    if qtype(value) == qtype(result):
        return None
    multipliers = requantization(value, result)
    low, high = qtype(result).storage_range
    storage = qtype(result).storage

    def convert(stored: Scalar) -> Scalar:
        centered = _widened(kb, stored, i32)
        if zero_point(value) != 0:
            centered = (centered - zero_point(value)).named("xc")
        if multipliers is not None:
            centered = rescale(kb, centered, multipliers, None, rounding)
        shifted = centered + zero_point(result)
        return kb.convert(kb.minimum(kb.maximum(shifted, low), high), storage, "q")

    return convert


class _ConvertingLoads:
    """`kb` as a float kernel sees it: loading from an operand quantized
    unlike the result gives the value requantized to the result's type."""

    def __init__(self, kb: KernelBuilder, converters: dict[SSAValue, Converter]):
        self._kb, self._converters = kb, converters

    def __getattr__(self, name: str):
        return getattr(self._kb, name)

    def load(
        self, buffer: SSAValue, indices: Sequence[IndexLike], name: str | None = None
    ) -> Scalar:
        value = self._kb.load(buffer, indices, name)
        convert = self._converters.get(buffer)
        return value if convert is None else convert(value)


def move(
    kb: KernelBuilder,
    op: graph.GraphOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    """The float kernel, reading requantized operands and padding with the
    stored pad value."""
    check(op, rounding)
    converters = {}
    for buffer, value in zip(inputs, op.operands, strict=True):
        convert = _converter(kb, op, value, rounding)
        if convert is not None:
            converters[buffer] = convert
    semantics = stored_pad(op, rounding) if isinstance(op, graph.PadOp) else op
    builder = _ConvertingLoads(kb, converters) if converters else kb
    data.KERNELS[type(op)](builder, semantics, inputs, y)


# Resize ---------------------------------------------------------------------------


def _table_index(kb: KernelBuilder, name: str, values: np.ndarray, at: Index) -> Index:
    """`values[at]` as an index: a constant, `at` itself for an identity, or
    a table read."""
    if at.static is not None:
        return kb.index(int(values[at.static]))
    if np.all(values == values[0]):
        return kb.index(int(values[0]))
    if np.array_equal(values, np.arange(len(values))):
        return at
    read = kb.load(kb.table(name, values, i32), [at], name)
    return kb.index_of(read, int(values.min()), int(values.max())).named(name)


def _table_value(
    kb: KernelBuilder, name: str, values: np.ndarray, at: Index, type_: IntegerType
) -> Scalar | int:
    """`values[at]`: a constant, or a table read."""
    if at.static is not None:
        return int(values[at.static])
    if np.all(values == values[0]):
        return int(values[0])
    return kb.convert(kb.load(kb.table(name, values, i32), [at], name), type_)


def resize(
    kb: KernelBuilder,
    op: graph.ResizeOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    check(op, rounding)
    if op.mode.data == "nearest":
        _resize_nearest(kb, op, inputs[0], y, rounding)
    else:
        _resize_linear(kb, op, inputs[0], y, rounding)


def _resize_nearest(
    kb: KernelBuilder, op: graph.ResizeOp, x: SSAValue, y: SSAValue, rounding: Rounding
) -> None:
    convert = _converter(kb, op, op.input, rounding)
    rows, cols = nearest_sources(op, 1), nearest_sources(op, 2)
    batch, out_h, out_w, channels = shape(y)
    for n in kb.range(0, batch, "n"):
        for oh in kb.range(0, out_h, "oh"):
            ih = _table_index(kb, "rows", rows, oh)
            for ow in kb.range(0, out_w, "ow"):
                iw = _table_index(kb, "cols", cols, ow)
                for c in kb.range(0, channels, "c"):
                    xv = kb.load(x, [n, ih, iw, c], "xv")
                    kb.store(xv if convert is None else convert(xv), y, [n, oh, ow, c])


Tap = tuple[Index, Scalar | int]


def _taps(
    kb: KernelBuilder, taps: LinearTaps, at: Index, axis: str, type_: IntegerType
) -> list[Tap]:
    """The input indices output index `at` reads along one axis, with their
    weights (a neighbour of weight 0 is left out)."""
    low = _table_index(kb, f"{axis}_lo", taps.low, at)
    high = _table_index(kb, f"{axis}_hi", taps.high, at)
    weight = _table_value(kb, f"{axis}_w", taps.weight, at, type_)
    one = 1 << taps.bits
    complement = (
        one - weight if isinstance(weight, int) else (one - weight).named(f"w{axis}0")
    )
    pairs = [(low, complement), (high, weight)]
    return [(index, w) for index, w in pairs if not (isinstance(w, int) and w == 0)]


def _accumulator_type(rows: LinearTaps, cols: LinearTaps) -> IntegerType:
    """i32 when no partial sum can overflow it (values below 2^8 in
    magnitude, TFLite's weights), else i64."""

    def spread(taps: LinearTaps) -> int:
        one = 1 << taps.bits
        return int(np.max(np.abs(one - taps.weight) + np.abs(taps.weight)))

    return i32 if (spread(rows) * spread(cols)) << 8 < 2**31 else i64


def _resize_linear(
    kb: KernelBuilder, op: graph.ResizeOp, x: SSAValue, y: SSAValue, rounding: Rounding
) -> None:
    rows, cols = linear_taps(op, 1, rounding), linear_taps(op, 2, rounding)
    acc_type = _accumulator_type(rows, cols)
    offset = interpolation_offset(op, rounding)
    batch, out_h, out_w, channels = shape(y)
    for n in kb.range(0, batch, "n"):
        for oh in kb.range(0, out_h, "oh"):
            h_taps = _taps(kb, rows, oh, "h", acc_type)
            for ow in kb.range(0, out_w, "ow"):
                w_taps = _taps(kb, cols, ow, "w", acc_type)
                weighted = [
                    (ih, iw, _product(wh, ww)) for ih, wh in h_taps for iw, ww in w_taps
                ]
                for c in kb.range(0, channels, "c"):
                    acc: Scalar | None = None
                    for ih, iw, weight in weighted:
                        xv = _widened(kb, kb.load(x, [n, ih, iw, c], "xv"), acc_type)
                        if offset != 0:
                            xv = xv - offset
                        term = (
                            xv
                            if isinstance(weight, int) and weight == 1
                            else xv * weight
                        )
                        acc = term if acc is None else acc + term
                    assert acc is not None
                    acc = acc.named("acc")
                    rounded = _rounded(kb, acc, 2 * rows.bits, rounding)
                    value = kb.convert(rounded, i32) + offset
                    store_clamped(kb, op, value, rounding, y, [n, oh, ow, c])


def _product(a: Scalar | int, b: Scalar | int) -> Scalar | int:
    product = a * b
    return product.named("wt") if isinstance(product, Scalar) else product


def _rounded(kb: KernelBuilder, acc: Scalar, bits: int, rounding: Rounding) -> Scalar:
    """`acc / 2^bits`, as `integer_data.round_interpolation`."""
    if rounding == "tflite":
        half = 1 << (bits - 1)
        nudge = kb.select(kb.compare("gt", acc, 0), kb.scalar(half, acc.type), -half)
        return kb.divide_truncating(acc + nudge, 1 << bits).named("q")
    return round_half_even_shift(kb, acc, bits).named("q")


INTEGER_KERNELS = {
    graph.ReshapeOp: move,
    graph.TransposeOp: move,
    graph.ConcatOp: move,
    graph.PadOp: move,
    graph.SliceOp: move,
    graph.ResizeOp: resize,
}

UNSUPPORTED = dict.fromkeys(INTEGER_KERNELS, unsupported)
