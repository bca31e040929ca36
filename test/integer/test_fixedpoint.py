"""The fixed-point primitives against exact rational arithmetic.

Each gemmlowp/TFLite primitive is specified as a rounding of an exact
quotient; `fractions.Fraction` computes that quotient exactly and Python's
own rounding rules give the expected integers independently of numpy's
shifts and masks.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinycc.integer.fixedpoint import (
    INT32_MAX,
    INT32_MIN,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rescale,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
)

int32s = st.integers(INT32_MIN, INT32_MAX)
multipliers = st.integers(2**30, INT32_MAX)
reals = st.floats(2.0**-40, 2.0**20, allow_nan=False, allow_infinity=False)


def away(q: Fraction) -> int:
    """Round half away from zero."""
    return int(math.copysign(math.floor(abs(q) + Fraction(1, 2)), q))


def half_up(q: Fraction) -> int:
    """Round half toward +infinity."""
    return math.floor(q + Fraction(1, 2))


def even(q: Fraction) -> int:
    return round(q)  # Fraction.__round__ rounds half to even


@given(reals)
def test_quantize_multiplier_is_a_31_bit_mantissa_within_half_an_ulp(real) -> None:
    m, shift = quantize_multiplier(real)
    if shift == 0 and m == 0:
        assert real < 2.0**-32
        return
    assert 2**30 <= m < 2**31
    error = abs(Fraction(m) * Fraction(2) ** (shift - 31) - Fraction(real))
    assert error <= Fraction(2) ** (shift - 32)


def test_quantize_multiplier_edge_cases() -> None:
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(0.5) == (2**30, 0)
    assert quantize_multiplier(1.0) == (2**30, 1)
    # A mantissa that rounds up to 2^31 moves to the next exponent.
    assert quantize_multiplier(1.0 - 2.0**-40) == (2**30, 1)
    # Too small to matter: TFLite zeroes it.
    assert quantize_multiplier(2.0**-40) == (0, 0)


@given(int32s, multipliers)
def test_high_mul_rounds_half_up(a, b) -> None:
    got = int(saturating_rounding_doubling_high_mul(np.int64(a), b))
    assert got == half_up(Fraction(a * b, 2**31))


def test_high_mul_ties() -> None:
    """gemmlowp's nudge makes -0.5 round to 0 but +0.5 to 1."""
    x = np.asarray([-1, 1, -3, 3], np.int64)
    assert saturating_rounding_doubling_high_mul(x, 2**30).tolist() == [0, 1, -1, 2]


def test_high_mul_saturates_the_one_overflow() -> None:
    got = saturating_rounding_doubling_high_mul(np.int64(INT32_MIN), INT32_MIN)
    assert int(got) == INT32_MAX


@given(int32s, st.integers(0, 31))
def test_rounding_divide_by_pot_rounds_half_away_from_zero(x, exponent) -> None:
    got = int(rounding_divide_by_pot(np.int64(x), exponent))
    assert got == away(Fraction(x, 2**exponent))


@given(st.integers(-(2**24), 2**24), multipliers, st.integers(-31, 7))
def test_tflite_rescale_is_two_roundings(x, m, shift) -> None:
    """TFLite's MultiplyByQuantizedMultiplier: left shift, round the high
    product (half up), then round the power-of-two division (half away)."""
    got = int(multiply_by_quantized_multiplier(np.int64(x), m, shift))
    high = half_up(Fraction((x << max(shift, 0)) * m, 2**31))
    assert got == away(Fraction(high, 2 ** max(-shift, 0)))
    assert got == int(rescale(np.int64(x), m, shift, "tflite"))


@given(int32s, multipliers, st.integers(-31, 30))
def test_onnx_rescale_is_one_rounding_half_to_even(x, m, shift) -> None:
    got = int(rescale(np.int64(x), m, shift, "onnx"))
    assert got == even(Fraction(x * m, 2 ** (31 - shift)))


def test_the_two_modes_differ_where_double_rounding_bites() -> None:
    """x * 0.75 at x = 2: exactly 1.5. TFLite rounds away (2), ONNX to even
    (2); at x = -2: -2 both ways; at x = 10 * 0.25 = 2.5: TFLite 3, ONNX 2."""
    m, shift = quantize_multiplier(0.25)
    x = np.asarray([10, -10, 6, -6], np.int64)
    assert rescale(x, m, shift, "tflite").tolist() == [3, -3, 2, -2]
    assert rescale(x, m, shift, "onnx").tolist() == [2, -2, 2, -2]


wide_accumulators = st.integers(-(2**47) + 1, 2**47 - 1)


@given(wide_accumulators, multipliers, st.integers(-31, 7))
def test_wide_tflite_rescale_reduces_the_multiplier_to_16_bits(x, m, shift) -> None:
    got = int(rescale(np.int64(x), m, shift, "tflite", wide=True))
    reduced = (m + 2**15) >> 16 if m < 0x7FFF0000 else 0x7FFF
    exact = half_up(Fraction(x * reduced, 2 ** (15 - shift)))
    assert got == (exact + 2**31) % 2**32 - 2**31


@given(wide_accumulators, multipliers, st.integers(-31, 14))
def test_wide_onnx_rescale_is_exact(x, m, shift) -> None:
    got = int(rescale(np.int64(x), m, shift, "onnx", wide=True))
    assert got == even(Fraction(x * m, 2 ** (31 - shift)))
