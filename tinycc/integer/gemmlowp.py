"""gemmlowp's fixed-point arithmetic in numpy, as TFLite's int8 kernels use it.

gemmlowp, Google's low-precision matrix multiplication library, ships
`fixedpoint/fixedpoint.h`: a type `FixedPoint<int32_t, I>` whose raw int32
value `r` stands for `r / 2^(31 - I)` (Q`I`.`31 - I`: `I` integer bits, the
rest fraction bits, e.g. Q0.31 in [-1, 1), Q4.27 in [-16, 16)), its
rounding and saturating primitives, and the transcendental functions TFLite's
reference kernels build their nonlinear int8 ops from (LOGISTIC, TANH,
SOFTMAX, LOG_SOFTMAX). TFLite's `kernels/internal/common.h` adds two
functions written in the same terms, `GetReciprocal` and the fixed-point log.

The functions here mirror those, operation for operation, in int32
semantics, so they give TFLite's (and TFLite Micro's) results bit for bit:
arrays are int64 holding int32 raw values; FixedPoint `+` and `-` wrap
around (int32 overflow in C++, two's complement in practice); FixedPoint `*`
is `SaturatingRoundingDoublingHighMul`; `Rescale` to fewer integer bits is
a saturating left shift, to more a rounding right shift
(`saturating_rounding_multiply_by_pot`).
"""

from __future__ import annotations

import numpy as np

from tinycc.integer.fixedpoint import (
    INT32_MAX,
    INT32_MIN,
    divide_truncating,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap,
)

_mul = saturating_rounding_doubling_high_mul  # FixedPoint operator*


def _add(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """FixedPoint `operator+`: the raw values added, wrapping."""
    return wrap(np.asarray(a, np.int64) + b)


def _saturating_add(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """TFLite's `SaturatingAddNonGemmlowp` (and `SaturatingSub` for `-b`)."""
    return np.clip(np.asarray(a, np.int64) + b, INT32_MIN, INT32_MAX)


def saturating_shift_left(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """`x * 2^exponent` saturated to int32, `0 <= exponent < 32`: gemmlowp's
    `SaturatingRoundingMultiplyByPOT` for a positive exponent, and TFLite's
    `SaturatingRoundingMultiplyByPOTParam` (which returns `x` for 0: the
    same)."""
    x, exponent = np.asarray(x, np.int64), np.asarray(exponent, np.int64)
    threshold = (np.int64(1) << (31 - exponent)) - 1
    shifted = np.where(x > threshold, INT32_MAX, wrap(x << exponent))
    return np.where(x < -threshold, INT32_MIN, shifted)


def saturating_rounding_multiply_by_pot(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp's `SaturatingRoundingMultiplyByPOT<exponent>`: a saturating
    left shift, or a rounding right shift for a negative exponent."""
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    return saturating_shift_left(x, exponent)


def rounding_half_sum(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's `RoundingHalfSum`: `(a + b) / 2`, ties away from zero."""
    total = np.asarray(a, np.int64) + b
    return divide_truncating(total + np.where(total >= 0, 1, -1), 2)


# exp ---------------------------------------------------------------------------


def exp_on_interval_between_negative_one_quarter_and_0_excl(
    a: np.ndarray,
) -> np.ndarray:
    """exp(a) for Q0.31 `a` in [-1/4, 0): a Taylor series around -1/8."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = _add(a, 1 << 28)
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    x4 = _mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    polynomial = saturating_rounding_multiply_by_pot(
        _add(_mul(_add(x4_over_4, x3), constant_1_over_3), x2), -1
    )
    return _add(constant_term, _mul(constant_term, _add(x, polynomial)))


# exp(-2^k) in Q0.31 for k = -2..4: gemmlowp's barrel shifter, one factor per
# bit of the input above its remainder modulo 1/4.
_EXP_BARREL_SHIFTER = (
    (-2, 1672461947),
    (-1, 1302514674),
    (0, 790015084),
    (1, 290630308),
    (2, 39332535),
    (3, 720401),
    (4, 242),
)


def exp_on_negative_values(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp's `exp_on_negative_values`: exp(a) in Q0.31 for a
    non-positive `a` in Q`integer_bits`.`31 - integer_bits`."""
    a = np.asarray(a, np.int64)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = _add(a & (one_quarter - 1), -one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(
            a_mod_quarter_minus_one_quarter, integer_bits
        )
    )
    remainder = _add(a_mod_quarter_minus_one_quarter, -a)
    for exponent, multiplier in _EXP_BARREL_SHIFTER:
        if integer_bits > exponent:
            bit = 1 << (fractional_bits + exponent)
            result = np.where(remainder & bit, _mul(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))  # -32.0
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


# Reciprocals, logistic and tanh ------------------------------------------------

CONSTANT_48_OVER_17 = 1515870810  # Q2.29
CONSTANT_NEG_32_OVER_17 = -1010580540  # Q2.29


def _reciprocal_of_half_sum(a: np.ndarray) -> np.ndarray:
    """`1 / ((1 + a) / 2)` in Q2.29 for Q0.31 `a` in [0, 1): three
    Newton-Raphson steps, the common part of
    `one_over_one_plus_x_for_x_in_0_1` and
    `one_minus_x_over_one_plus_x_for_x_in_0_1`."""
    half_denominator = rounding_half_sum(a, INT32_MAX)  # (a + 1) / 2
    x = _add(CONSTANT_48_OVER_17, _mul(half_denominator, CONSTANT_NEG_32_OVER_17))
    for _ in range(3):
        one_minus_half_denominator_times_x = _add(1 << 29, -_mul(half_denominator, x))
        x = _add(
            x,
            saturating_rounding_multiply_by_pot(
                _mul(x, one_minus_half_denominator_times_x), 2
            ),
        )
    return x


def one_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """gemmlowp's `1 / (1 + a)` in Q0.31 for Q0.31 `a` in [0, 1)."""
    return saturating_rounding_multiply_by_pot(_reciprocal_of_half_sum(a), 1)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """gemmlowp's `(1 - a) / (1 + a)` in Q0.31 for Q0.31 `a` in [0, 1)."""
    return saturating_rounding_multiply_by_pot(
        _add(_reciprocal_of_half_sum(a), -(1 << 29)), 2
    )


def logistic(a: np.ndarray) -> np.ndarray:
    """gemmlowp's `logistic` of a Q4.27 value, in Q0.31."""
    a = np.asarray(a, np.int64)
    positive = a > 0
    magnitude = np.where(positive, a, -a)
    if_positive = one_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(-magnitude, 4)
    )
    if_negative = _add(INT32_MAX, -if_positive)
    return np.where(a == 0, 1 << 30, np.where(positive, if_positive, if_negative))


def tanh(a: np.ndarray) -> np.ndarray:
    """gemmlowp's `tanh` of a Q4.27 value, in Q0.31: `(1 - e) / (1 + e)` of
    `e = exp(-2 |a|)`, the doubling `ExactMulByPot<1>` (the same raw value
    read as Q5.26)."""
    a = np.asarray(a, np.int64)
    negative = a < 0
    exp_negative = exp_on_negative_values(np.where(negative, a, -a), 5)
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_negative)
    return np.where(a == 0, 0, np.where(negative, -t, t))


# TFLite's common.h: GetReciprocal and the fixed-point log -----------------------


def count_leading_zeros(x: np.ndarray) -> np.ndarray:
    """Leading zero bits of a uint32 (32 for 0)."""
    x = np.asarray(x, np.int64) & 0xFFFFFFFF
    bits = np.zeros_like(x)
    for width in (16, 8, 4, 2, 1):
        small = x < (1 << (32 - width))
        bits = np.where(small, bits + width, bits)
        x = np.where(small, x << width, x)
    return np.where(x == 0, 32, bits)


def get_reciprocal(
    x: np.ndarray, x_integer_digits: int
) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's `GetReciprocal`: `1 / x` for a positive Q`digits` `x`, as a
    Q0.31 scale in (1/2, 1] and its `num_bits_over_unit`."""
    x = np.asarray(x, np.int64)
    headroom_plus_one = count_leading_zeros(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted_sum_minus_one = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit


# log(x) constants, Q0.31.
LOG_2 = 1488522236
SQRT_SQRT_HALF = 1805811301
SQRT_HALF = 1518500250
ONE_QUARTER = 536870912
ALPHA_N = 117049297  # 11/240 sqrt(sqrt(2))
ALPHA_D = 127690142  # 1/20 sqrt(sqrt(2))
ALPHA_I = 1057819769  # 2/sqrt(sqrt(2)) - sqrt(sqrt(2))
ALPHA_F = 638450708  # 1/4 sqrt(sqrt(2))


def log_x_for_x_greater_than_or_equal_to_1(
    x: np.ndarray, input_integer_bits: int, output_integer_bits: int
) -> np.ndarray:
    """TFLite's `log_x_for_x_greater_than_or_equal_to_1_impl`: log(x) for
    `x >= 1` in Q`input_integer_bits`, in Q`output_integer_bits`: a
    power-of-two exponent plus a rational approximation of the mantissa's
    log."""
    accumulation_bits = output_integer_bits + 1
    shifted_quarter = rounding_divide_by_pot(ONE_QUARTER, accumulation_bits)

    def pow_2_adjustment(headroom: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """The power-of-two part, `input_integer_bits - headroom` as Q(acc)."""
        exponent = input_integer_bits - headroom
        return _saturating_add(
            saturating_shift_left(exponent, 31 - accumulation_bits), offset
        )

    z_a = np.asarray(x, np.int64)
    z_a_headroom_plus_1 = count_leading_zeros(z_a)
    r_a_tmp = saturating_shift_left(z_a, z_a_headroom_plus_1 - 1)
    r_a_raw = saturating_shift_left(_mul(r_a_tmp, SQRT_HALF), 1)
    z_a_pow_2_adj = pow_2_adjustment(z_a_headroom_plus_1, shifted_quarter)
    z_b = _mul(z_a, SQRT_HALF)
    z_b_headroom = count_leading_zeros(z_b) - 1
    r_b_raw = saturating_shift_left(z_a, z_b_headroom)
    z_b_pow_2_adj = pow_2_adjustment(z_b_headroom, -shifted_quarter)
    r = np.minimum(r_a_raw, r_b_raw)
    z_pow_2_adj = np.maximum(z_a_pow_2_adj, z_b_pow_2_adj)
    p = rounding_half_sum(r, SQRT_SQRT_HALF)
    q = wrap(2 * _add(r, -SQRT_SQRT_HALF))
    common_sq = _mul(q, q)
    num = _add(_mul(q, r), _mul(_mul(q, common_sq), ALPHA_N))
    denominator_minus_one = _add(
        _mul(p, _add(_add(ALPHA_I, q), _mul(ALPHA_D, common_sq))), _mul(ALPHA_F, q)
    )
    reciprocal_denominator = one_over_one_plus_x_for_x_in_0_1(denominator_minus_one)
    num_scaled = rounding_divide_by_pot(num, accumulation_bits)
    log = _add(_mul(z_pow_2_adj, LOG_2), _mul(num_scaled, reciprocal_denominator))
    return saturating_rounding_multiply_by_pot(
        log, accumulation_bits - output_integer_bits
    )
