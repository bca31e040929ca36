"""Fixed-point arithmetic as loop-level IR: `tinycc.integer.fixedpoint` in
`arith` ops, operation for operation, so C and numpy agree bit for bit.

The gemmlowp primitives (`saturating_rounding_doubling_high_mul`,
`rounding_divide_by_pot`, `saturating_shift_left`), the half-to-even
roundings, and `rescale`, which applies a fixed-point multiplier: a
per-tensor multiplier folds into constants, a per-channel one is read from
tables (`<layer>_multiplier`, `<layer>_shift`, ...) indexed by the channel.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import i8, i32, i64
from xdsl.ir import Attribute, SSAValue

from tinycc.integer import Rounding
from tinycc.integer.fixedpoint import INT32_MAX, INT32_MIN
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


def _bit(kb: KernelBuilder, condition: SSAValue, type_: Attribute) -> Scalar:
    """1 if `condition` holds, else 0."""
    return kb.select(condition, kb.scalar(1, type_), 0)


# gemmlowp --------------------------------------------------------------------------


def saturating_rounding_doubling_high_mul(
    kb: KernelBuilder, a: Scalar, b: Scalar | int, saturating: bool = True
) -> Scalar:
    """`a * b / 2^31` rounded half up, on i32s; INT32_MIN squared saturates
    (no check with `saturating=False`, for a `b` known positive)."""
    product = (kb.convert(a, i64) * _wide(kb, b)).named("prod")
    nudge = kb.select(
        kb.compare("ge", product, 0), kb.scalar(1 << 30, i64), 1 - (1 << 30)
    )
    high = kb.convert(kb.divide_truncating(product + nudge, 1 << 31), i32, "high")
    if not saturating or (isinstance(b, int) and b != INT32_MIN):
        return high
    overflow = kb.all_of(
        [kb.compare("eq", a, INT32_MIN), kb.compare("eq", b, INT32_MIN)]
    )
    return kb.select(overflow, INT32_MAX, high)


def rounding_divide_by_pot(
    kb: KernelBuilder, x: Scalar, exponent: Scalar | int
) -> Scalar:
    """gemmlowp's `RoundingDivideByPOT`, ties away from zero, in `x`'s type."""
    if isinstance(exponent, int):
        if exponent == 0:
            return x
        mask: Scalar | int = (1 << exponent) - 1
        half: Scalar | int = mask >> 1
    else:
        mask = ((kb.scalar(1, x.type) << exponent) - 1).named("mask")
        half = mask >> 1
    remainder = (x & mask).named("rem")
    threshold = half + _bit(kb, kb.compare("lt", x, 0), x.type)
    up = _bit(kb, kb.compare("gt", remainder, threshold), x.type)
    return (x >> exponent) + up


def saturating_shift_left(
    kb: KernelBuilder, x: Scalar | int, exponent: Scalar | int
) -> Scalar:
    """`x * 2^exponent` saturated to int32 for an i32 `x` and `0 <= exponent
    < 32` (gemmlowp's `SaturatingRoundingMultiplyByPOT`, TFLite's `...Param`),
    compared in i64."""
    if isinstance(exponent, int):
        threshold: Scalar | int = (1 << (31 - exponent)) - 1
    else:
        threshold = (kb.scalar(1, i64) << (31 - _wide(kb, exponent))) - 1
    wide = _wide(kb, x)
    shifted = kb.convert(wide << _wide(kb, exponent), i32)
    shifted = kb.select(kb.compare("gt", wide, threshold), INT32_MAX, shifted)
    return kb.select(kb.compare("lt", wide, 0 - threshold), INT32_MIN, shifted)


# Half to even ----------------------------------------------------------------------


def round_half_even_shift(
    kb: KernelBuilder, x: Scalar, exponent: Scalar | int
) -> Scalar:
    """`x / 2^exponent`, ties to even, in `x`'s type
    (`tinycc.integer.fixedpoint.round_half_even_shift`)."""
    quotient = (x >> exponent).named("quot")
    remainder = (x - (quotient << exponent)).named("rem")
    half = _power_of_two(kb, exponent - 1)
    return _round_up_half_even(kb, quotient, remainder, half)


def divide_half_even(
    kb: KernelBuilder, numerator: Scalar, denominator: Scalar | int
) -> Scalar:
    """`numerator / denominator`, ties to even, for a non-negative numerator
    and a positive denominator (`tinycc.integer.fixedpoint.divide_half_even`)."""
    quotient = kb.divide_truncating(numerator, denominator).named("quot")
    remainder = (numerator - quotient * denominator).named("rem")
    rest = denominator - remainder
    return _round_up_half_even(kb, quotient, remainder, rest).named("quotient")


def _round_up_half_even(
    kb: KernelBuilder, quotient: Scalar, remainder: Scalar, half: Scalar | int
) -> Scalar:
    """`quotient` plus 1 where the remainder is above `half`, or equal to it
    and the quotient odd."""
    above = kb.compare("gt", remainder, half)
    odd_tie = kb.all_of(
        [kb.compare("eq", remainder, half), kb.compare("eq", quotient & 1, 1)]
    )
    return quotient + _bit(kb, kb.any_of([above, odd_tie]), quotient.type)


# Rescaling -------------------------------------------------------------------------


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


def _double_rounding(
    kb: KernelBuilder, x: Scalar, multipliers: Multipliers, channel: Index | None
) -> Scalar:
    """TFLite's `MultiplyByQuantizedMultiplier`: the left shift wraps (as
    TFLite's does), and `m > 0` needs no saturation check."""
    left = np.maximum(multipliers.shift, 0)
    right = np.maximum(-multipliers.shift, 0)
    m = _per_channel(kb, "multiplier", multipliers.multiplier, channel, i32)
    left_shift = _per_channel(kb, "left_shift", left, channel, i32)
    right_shift = _per_channel(kb, "right_shift", right, channel, i32)
    if not (isinstance(left_shift, int) and left_shift == 0):
        x = (x << left_shift).named("shifted")
    high = saturating_rounding_doubling_high_mul(kb, x, m, saturating=False)
    return rounding_divide_by_pot(kb, high, right_shift).named("scaled")


def _single_rounding(
    kb: KernelBuilder, x: Scalar, multipliers: Multipliers, channel: Index | None
) -> Scalar:
    """`x * m / 2^(31 - shift)`, one rounding, ties to even."""
    m = _per_channel(kb, "multiplier", multipliers.multiplier, channel, i32)
    exponent = _per_channel(kb, "exponent", 31 - multipliers.shift, channel, i64)
    product = (kb.convert(x, i64) * _wide(kb, m)).named("prod")
    return kb.convert(round_half_even_shift(kb, product, exponent), i32, "scaled")
