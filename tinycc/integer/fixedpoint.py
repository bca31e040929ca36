"""Fixed-point rescaling in numpy: the arithmetic of integer kernels.

A real multiplier `r > 0` is stored as a 31-bit mantissa `m` (in
`[2^30, 2^31)`) and an exponent `shift`, `r ~= m * 2^(shift - 31)`, computed
at compile time (`quantize_multiplier`). Applying it to an int32 `x`:

- `tflite`: gemmlowp's double rounding, as TFLite's reference kernels do:
  `saturating_rounding_doubling_high_mul(x << max(shift, 0), m)` (`x * m /
  2^31` rounded half up, i.e. toward +infinity), then `rounding_divide_by_pot`
  by `max(-shift, 0)` (rounded half away from zero).
- `onnx`: one rounding, half to even, of the exact product `x * m /
  2^(31 - shift)`.

All functions take and return int64 arrays (holding int32 values unless
said otherwise) and mirror, operation for operation, what the C kernels
compute (`tinycc.kernels.fixedpoint`), so numpy and C agree bit for bit.
gemmlowp's fixed-point functions built on these are in
`tinycc.integer.gemmlowp`.
"""

from __future__ import annotations

import math

import numpy as np

from tinycc.integer import Rounding

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """`(m, shift)` with `real ~= m * 2^(shift - 31)`, TFLite's
    `QuantizeMultiplier`: frexp, round half away from zero, and multipliers
    too small to matter (`shift < -31`) become 0."""
    if real <= 0.0:
        assert real == 0.0, f"negative multiplier {real}"
        return 0, 0
    mantissa, shift = math.frexp(real)
    fixed = math.floor(mantissa * 2**31 + 0.5)
    if fixed == 2**31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    assert shift <= 30, f"multiplier {real} is too large for int32 fixed point"
    return fixed, shift


def wrap(x: np.ndarray, bits: int = 32) -> np.ndarray:
    """Two's complement wraparound to a `bits`-bit signed integer: what C
    does on conversion, and on signed overflow in practice."""
    half = 1 << (bits - 1)
    return ((np.asarray(x, np.int64) + half) & ((1 << bits) - 1)) - half


def divide_truncating(x: np.ndarray, divisor: np.ndarray | int) -> np.ndarray:
    """C's integer `/` by a positive divisor: the quotient rounded toward
    zero."""
    x = np.asarray(x, np.int64)
    return np.where(x >= 0, x // divisor, -((-x) // divisor))


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray | int):
    """gemmlowp's `SaturatingRoundingDoublingHighMul` on int32 values:
    `a * b / 2^31` rounded half up (C's truncating division of the product
    nudged by +-2^30: -0.5 becomes 0, +0.5 becomes 1), saturated where
    `a == b == INT32_MIN`."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    product = a * b
    nudge = np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    high = divide_truncating(product + nudge, 1 << 31)
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, high)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent`, ties away from zero."""
    x, exponent = np.asarray(x, np.int64), np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(
    x: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int
) -> np.ndarray:
    """TFLite's `MultiplyByQuantizedMultiplier` (int32 `x`, double rounding);
    `x << shift` wraps as int32, as the C does."""
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    shifted = wrap(np.asarray(x, np.int64) << left)
    high = saturating_rounding_doubling_high_mul(shifted, multiplier)
    return rounding_divide_by_pot(high, np.maximum(-shift, 0))


def round_half_even_shift(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """`x / 2^exponent` (int64 `x`, `1 <= exponent <= 62`), ties to even."""
    x, exponent = np.asarray(x, np.int64), np.asarray(exponent, np.int64)
    quotient = x >> exponent
    remainder = x - (quotient << exponent)
    return _round_up_half_even(quotient, remainder, np.int64(1) << (exponent - 1))


def divide_half_even(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """`numerator / denominator` for non-negative int64s, ties to even."""
    quotient = numerator // denominator
    remainder = numerator - quotient * denominator
    return _round_up_half_even(quotient, remainder, denominator - remainder)


def _round_up_half_even(
    quotient: np.ndarray, remainder: np.ndarray, half: np.ndarray
) -> np.ndarray:
    """`quotient` plus 1 where the remainder is above `half`, or equal to it
    and the quotient odd: ties to even. `half` is half the divisor, or the
    divisor minus the remainder (which compares the same, also for an odd
    divisor)."""
    up = (remainder > half) | ((remainder == half) & ((quotient & 1) == 1))
    return quotient + up


def multiply_by_quantized_multiplier_wide(
    x: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int
) -> np.ndarray:
    """TFLite's `MultiplyByQuantizedMultiplier` for an int64 `x` (the 16x8
    kernels' accumulator, `|x| < 2^47`): the multiplier reduced to 16 bits,
    one rounding half up, the result wrapped to int32."""
    m = np.asarray(multiplier, np.int64)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - np.asarray(shift, np.int64)
    nudge = np.int64(1) << (total - 1)
    return wrap((np.asarray(x, np.int64) * reduced + nudge) >> total)


def round_half_even_product(
    x: np.ndarray, multiplier: np.ndarray | int, exponent: np.ndarray | int
) -> np.ndarray:
    """`x * m / 2^exponent`, ties to even, exactly, for int64 `|x| < 2^47`,
    `0 <= m < 2^31` and `17 <= exponent <= 62`, in int64 arithmetic only:
    `x * m = T * 2^16 + low` with `T = x * (m >> 16) + (x * (m & 0xFFFF) >> 16)`
    and `0 <= low < 2^16`, then the division of `T` carries `low` along."""
    x, m = np.asarray(x, np.int64), np.asarray(multiplier, np.int64)
    exponent = np.asarray(exponent, np.int64)
    low_product = x * (m & 0xFFFF)
    total = x * (m >> 16) + (low_product >> 16)
    low = low_product & 0xFFFF
    quotient = total >> (exponent - 16)
    remainder = ((total - (quotient << (exponent - 16))) << 16) + low
    return _round_up_half_even(quotient, remainder, np.int64(1) << (exponent - 1))


def rescale(
    x: np.ndarray,
    multiplier: np.ndarray | int,
    shift: np.ndarray | int,
    rounding: Rounding,
    wide: bool = False,
) -> np.ndarray:
    """`x * m * 2^(shift - 31)`, rounded as `rounding` says, for an int32
    accumulator, or an int64 one (`wide`, the 16x8 kernels)."""
    if rounding == "tflite":
        if wide:
            return multiply_by_quantized_multiplier_wide(x, multiplier, shift)
        return multiply_by_quantized_multiplier(x, multiplier, shift)
    exponent = 31 - np.asarray(shift, np.int64)
    if wide:
        return round_half_even_product(x, multiplier, exponent)
    product = np.asarray(x, np.int64) * np.asarray(multiplier, np.int64)
    return round_half_even_shift(product, exponent)
