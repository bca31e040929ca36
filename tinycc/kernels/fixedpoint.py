"""Fixed-point rescaling as loop-level IR: `tinycc.integer.fixedpoint` in
`arith` ops, operation for operation, so C and numpy agree bit for bit.

A per-tensor multiplier folds into constants; a per-channel one is read from
tables (`<layer>_multiplier`, `<layer>_shift`, ...) indexed by the channel.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import i8, i32, i64

from tinycc.integer import Rounding
from tinycc.integer.params import Multipliers
from tinycc.kernels.builder import Index, KernelBuilder, Scalar


def _per_channel(
    kb: KernelBuilder, name: str, values: np.ndarray, channel: Index | None, type_
) -> Scalar | int:
    """A constant if every channel shares the value, else a table read."""
    if np.all(values == values.flat[0]):
        return int(values.flat[0])
    assert channel is not None, "per-channel multipliers need the channel index"
    # Stored as narrow as the values allow (shifts fit a byte), widened here.
    narrow = i8 if values.min() >= -128 and values.max() <= 127 else i32
    return kb.convert(kb.load(kb.table(name, values, narrow), [channel], name), type_)


def _wide(kb: KernelBuilder, m: Scalar | int) -> Scalar:
    return kb.scalar(m, i64) if isinstance(m, int) else kb.convert(m, i64)


def _power_of_two(kb: KernelBuilder, exponent: Scalar | int) -> Scalar | int:
    """`2^exponent` as an i64 (folded when the exponent is a constant)."""
    if isinstance(exponent, int):
        return 1 << exponent
    return kb.scalar(1, i64) << exponent


def _bit(kb: KernelBuilder, condition, type_) -> Scalar:
    """1 if `condition` holds, else 0."""
    return kb.select(condition, kb.scalar(1, type_), 0)


def rescale(
    kb: KernelBuilder,
    x: Scalar,
    multipliers: Multipliers,
    channel: Index | None,
    rounding: Rounding,
) -> Scalar:
    """`x * m * 2^(shift - 31)` for an i32 `x`, or an i64 one (the 16x8
    kernels' accumulator), rounded as `rounding` says; an i32 result."""
    wide = x.type == i64
    if rounding == "tflite":
        if wide:
            return _reduced_rounding(kb, x, multipliers, channel)
        return _double_rounding(kb, x, multipliers, channel)
    if wide:
        return _exact_wide_rounding(kb, x, multipliers, channel)
    return _single_rounding(kb, x, multipliers, channel)


def _reduced_rounding(
    kb: KernelBuilder, x: Scalar, multipliers: Multipliers, channel: Index | None
) -> Scalar:
    """TFLite's int64 `MultiplyByQuantizedMultiplier`: a 16-bit multiplier,
    one rounding half up."""
    m = multipliers.multiplier
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    multiplier = _per_channel(kb, "multiplier", reduced, channel, i64)
    total = _per_channel(kb, "total_shift", 15 - multipliers.shift, channel, i64)
    nudge = _power_of_two(kb, total - 1)
    rounded = ((x * multiplier).named("prod") + nudge) >> total
    return kb.convert(rounded, i32, "scaled")


def _exact_wide_rounding(
    kb: KernelBuilder, x: Scalar, multipliers: Multipliers, channel: Index | None
) -> Scalar:
    """`round_half_even_product`: `x * m / 2^(31 - shift)` exactly in i64."""
    m = multipliers.multiplier
    high = _per_channel(kb, "multiplier_high", m >> 16, channel, i64)
    low = _per_channel(kb, "multiplier_low", m & 0xFFFF, channel, i64)
    exponent = _per_channel(kb, "exponent", 31 - multipliers.shift, channel, i64)
    low_product = (x * low).named("low_prod")
    total = ((x * high) + (low_product >> 16)).named("total")
    quotient = (total >> (exponent - 16)).named("quot")
    remainder = ((total - (quotient << (exponent - 16))) << 16) + (low_product & 0xFFFF)
    half = _power_of_two(kb, exponent - 1)
    rounded = _round_up_half_even(kb, quotient, remainder.named("rem"), half)
    return kb.convert(rounded, i32, "scaled")


def _round_up_half_even(
    kb: KernelBuilder, quotient: Scalar, remainder: Scalar, half: Scalar | int
) -> Scalar:
    """`quotient` plus 1 where the remainder is above half, or exactly half
    and the quotient odd (i64)."""
    above = kb.compare("gt", remainder, half)
    odd_tie = kb.all_of(
        [kb.compare("eq", remainder, half), kb.compare("eq", quotient & 1, 1)]
    )
    return quotient + _bit(kb, kb.any_of([above, odd_tie]), i64)


def _double_rounding(
    kb: KernelBuilder, x: Scalar, multipliers: Multipliers, channel: Index | None
) -> Scalar:
    """TFLite's `MultiplyByQuantizedMultiplier`."""
    left = np.maximum(multipliers.shift, 0)
    right = np.maximum(-multipliers.shift, 0)
    m = _per_channel(kb, "multiplier", multipliers.multiplier, channel, i32)
    left_shift = _per_channel(kb, "left_shift", left, channel, i32)
    right_shift = _per_channel(kb, "right_shift", right, channel, i32)
    if not (isinstance(left_shift, int) and left_shift == 0):
        x = (x << left_shift).named("shifted")
    # saturating_rounding_doubling_high_mul: m > 0, so no saturation case
    product = (kb.convert(x, i64) * _wide(kb, m)).named("prod")
    nudge = kb.select(
        kb.compare("ge", product, 0), kb.scalar(1 << 30, i64), 1 - (1 << 30)
    )
    high = kb.divide_truncating(product + nudge, 1 << 31)
    high = kb.convert(high, i32, "high")
    if isinstance(right_shift, int) and right_shift == 0:
        return high
    # rounding_divide_by_pot
    if isinstance(right_shift, int):
        mask: Scalar | int = (1 << right_shift) - 1
        half: Scalar | int = mask >> 1
    else:
        mask = ((kb.scalar(1, i32) << right_shift) - 1).named("mask")
        half = mask >> 1
    remainder = (high & mask).named("rem")
    threshold = half + _bit(kb, kb.compare("lt", high, 0), i32)
    up = _bit(kb, kb.compare("gt", remainder, threshold), i32)
    return ((high >> right_shift) + up).named("scaled")


def _single_rounding(
    kb: KernelBuilder, x: Scalar, multipliers: Multipliers, channel: Index | None
) -> Scalar:
    """`x * m / 2^(31 - shift)`, one rounding, ties to even."""
    m = _per_channel(kb, "multiplier", multipliers.multiplier, channel, i32)
    exponent = _per_channel(kb, "exponent", 31 - multipliers.shift, channel, i64)
    product = (kb.convert(x, i64) * _wide(kb, m)).named("prod")
    return kb.convert(round_half_even_shift(kb, product, exponent), i32, "scaled")


def round_half_even_shift(
    kb: KernelBuilder, x: Scalar, exponent: Scalar | int
) -> Scalar:
    """`x / 2^exponent` for an i64 `x`, ties to even, as an i64
    (`tinycc.integer.fixedpoint.round_half_even_shift`)."""
    quotient = (x >> exponent).named("quot")
    remainder = (x - (quotient << exponent)).named("rem")
    half = _power_of_two(kb, exponent - 1)
    return _round_up_half_even(kb, quotient, remainder, half)
