"""Integer softmax and log-softmax in numpy: TFLite's int8 SOFTMAX and
LOG_SOFTMAX bit for bit, or the ONNX quantized ops in fixed point.

Along the axis, every output depends on the row only through its maximum
`peak` and the differences `d = peak - x` (`0 <= d < 256` for 8-bit
inputs), so all per-element nonlinear work is a 256-entry table indexed by
`d`, computed at compile time; the C kernels (`tinycc.kernels.qsoftmax`)
read the same tables and repeat the per-row arithmetic operation for
operation.

Softmax:

- `tflite`: TFLite's `reference_ops::Softmax` for int8 with TFLM's
  parameters (`softmax_common.cc`): `E[d] = exp_on_negative_values(SRDHM(-d
  << left_shift, m))` in gemmlowp's Q0.31, with `m, left_shift` from
  `PreprocessSoftmaxScaling(beta=1, s_in, 5)` (the difference in Q5.26), and
  0 below `diff_min`, where TFLite skips the term. Then

      sum   = sum_j RoundingDivideByPOT(E[d_j], 12)       Q12.19
      scale = GetReciprocal(sum, 12) -> (1/sum in Q0.31, num_bits_over_unit)
      y_j   = RoundingDivideByPOT(SRDHM(scale, E[d_j]), num_bits_over_unit + 23)
              + zp_out, clamped

  TFLM requires the output quantization `(1/256, -128)`. For another output
  scale, `SRDHM(scale, E[d_j])` (the probability in units of
  `2^-(31 + num_bits_over_unit)`) is first multiplied by the fixed-point
  `1 / (256 s_out)` (`SRDHM` with its mantissa, its exponent joining the
  final rounding shift): TFLite's kernel, requantized once more.
- `onnx`: `round_half_even(p / s_out) + zp_out` with `p` the softmax of the
  dequantized row: `T[d] = round(exp(-s_in d) 2^Q)` at compile time, the
  row sum `S` in int64, and `y_j = round_half_even(T[d_j] 2^k / (S a))`
  computed with one exact integer division, where `s_out = a 2^-k` exactly
  (a float32 is a 24-bit integer times a power of two).

Log-softmax:

- `tflite`: TFLite's `reference_ops::LogSoftmax` for int8 (TFLM's
  `log_softmax.cc` parameters): the same Q12.19 sum, its log by TFLite's
  fixed-point `log_x_for_x_greater_than_or_equal_to_1` (Q5.26), then
  `y_j = RoundingDivideByPOT(R[d_j] - log_sum, 22) + zp` for the kept
  differences (above TFLite's `adjusted_diff_min`), the lowest value for the
  others; `R[d]` is the Q5.26 difference. TFLM requires `(16/256, 127)`;
  another output scale takes `R[d] - log_sum` through the multiplier
  `2^-26 / s_out` instead, and is rejected if its range reaches below -16,
  where TFLite's algorithm drops values.
- `onnx`: `round_half_even(log p / s_out) + zp` computed in units of
  `s_out / 2^16`: a table `A[d] = round(-s_in d / s_out 2^16)` minus the
  log of the sum of `T` (TFLite's fixed-point log again, rescaled once).

gemmlowp's fixed-point functions are written here on int64 arrays holding
int32 values, operation for operation as in `fixedpoint/fixedpoint.h` and
TFLite's `kernels/internal/common.h`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.integer import Rounding
from tinycc.integer.fixedpoint import (
    INT32_MAX,
    INT32_MIN,
    quantize_multiplier,
    rescale,
    round_half_even_shift,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
)
from tinycc.integer.params import Multipliers, qtype, scales, zero_point
from tinycc.interpreter.integer import integer_kernel

SCALED_DIFF_INTEGER_BITS = 5  # the exp input is Q5.26
ACCUMULATION_INTEGER_BITS = 12  # the sum of exps is Q12.19
TABLE_SIZE = 256  # differences of 8-bit values
ONNX_FRACTION_BITS = 30  # the onnx mode's exp table: Q1.30 at most
LOG_OUTPUT_FRACTION_BITS = 4  # TFLite's log-softmax output: 16/256 units
LOG_OUTPUT_LOWEST = -16.0  # TFLite's log-softmax output: (-128 - 127) / 16
LOG_ONNX_BITS = 16  # fraction bits of the onnx mode's log-softmax


# gemmlowp ------------------------------------------------------------------------


def _wrap32(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, np.int64) + 2**31) & 0xFFFFFFFF) - 2**31


def saturating_shift_left(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """`x * 2^exponent` saturated to int32, `0 <= exponent < 32`: gemmlowp's
    `SaturatingRoundingMultiplyByPOT` for a positive exponent, and TFLite's
    `SaturatingRoundingMultiplyByPOTParam` (which returns `x` for 0: the
    same)."""
    x, exponent = np.asarray(x, np.int64), np.asarray(exponent, np.int64)
    threshold = (np.int64(1) << (31 - exponent)) - 1
    shifted = np.where(x > threshold, INT32_MAX, _wrap32(x << exponent))
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
    nudged = total + np.where(total >= 0, 1, -1)
    return np.sign(nudged) * (np.abs(nudged) // 2)  # C's truncating division


def _saturated(x: np.ndarray) -> np.ndarray:
    return np.clip(x, INT32_MIN, INT32_MAX)


def _multiply(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """The product of two FixedPoint values (their integer bits add up)."""
    return saturating_rounding_doubling_high_mul(a, b)


def _exp_on_interval_between_negative_one_quarter_and_0_excl(
    a: np.ndarray,
) -> np.ndarray:
    """exp(a) for Q0.31 `a` in [-1/4, 0): Taylor series around -1/8."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = _wrap32(a + (1 << 28))
    x2 = _multiply(x, x)
    x3 = _multiply(x2, x)
    x4 = _multiply(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    polynomial = saturating_rounding_multiply_by_pot(
        _wrap32(_multiply(_wrap32(x4_over_4 + x3), constant_1_over_3) + x2), -1
    )
    return _wrap32(constant_term + _multiply(constant_term, _wrap32(x + polynomial)))


# exp(-2^k) in Q0.31 for k = -2..4: gemmlowp's barrel shifter.
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
    non-positive `a` in Q(integer_bits).(31 - integer_bits)."""
    a = np.asarray(a, np.int64)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = _wrap32((a & (one_quarter - 1)) - one_quarter)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(
            a_mod_quarter_minus_one_quarter, integer_bits
        )
    )
    remainder = _wrap32(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in _EXP_BARREL_SHIFTER:
        if integer_bits > exponent:
            bit = 1 << (fractional_bits + exponent)
            result = np.where(remainder & bit, _multiply(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))  # -32.0
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


CONSTANT_48_OVER_17 = 1515870810  # Q2.29
CONSTANT_NEG_32_OVER_17 = -1010580540  # Q2.29


def one_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """gemmlowp's 1 / (1 + a) in Q0.31 for Q0.31 `a` in [0, 1): three
    Newton-Raphson steps in Q2.29."""
    half_denominator = rounding_half_sum(a, INT32_MAX)  # (a + 1) / 2
    x = _wrap32(
        CONSTANT_48_OVER_17 + _multiply(half_denominator, CONSTANT_NEG_32_OVER_17)
    )
    for _ in range(3):
        one_minus_half_denominator_times_x = _wrap32(
            (1 << 29) - _multiply(half_denominator, x)
        )
        x = _wrap32(
            x
            + saturating_rounding_multiply_by_pot(
                _multiply(x, one_minus_half_denominator_times_x), 2
            )
        )
    return saturating_rounding_multiply_by_pot(x, 1)


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
    """TFLite's `GetReciprocal`: `1 / x` for a positive Q(digits) `x`, as a
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
    `x >= 1` in Q(input_integer_bits), in Q(output_integer_bits): a
    power-of-two exponent plus a rational approximation of the mantissa's
    log, everything in gemmlowp's fixed point."""
    accumulation_bits = output_integer_bits + 1
    shifted_quarter = rounding_divide_by_pot(ONE_QUARTER, accumulation_bits)
    z_a = np.asarray(x, np.int64)
    z_a_headroom_plus_1 = count_leading_zeros(z_a)
    r_a_tmp = saturating_shift_left(z_a, z_a_headroom_plus_1 - 1)
    r_a_raw = saturating_shift_left(_multiply(r_a_tmp, SQRT_HALF), 1)
    z_a_pow_2_adj = _saturated(
        saturating_shift_left(
            input_integer_bits - z_a_headroom_plus_1, 31 - accumulation_bits
        )
        + shifted_quarter
    )
    z_b = _multiply(z_a, SQRT_HALF)
    z_b_headroom = count_leading_zeros(z_b) - 1
    r_b_raw = saturating_shift_left(z_a, z_b_headroom)
    z_b_pow_2_adj = _saturated(
        saturating_shift_left(input_integer_bits - z_b_headroom, 31 - accumulation_bits)
        - shifted_quarter
    )
    r = np.minimum(r_a_raw, r_b_raw)
    z_pow_2_adj = np.maximum(z_a_pow_2_adj, z_b_pow_2_adj)
    p = rounding_half_sum(r, SQRT_SQRT_HALF)
    q = _wrap32(2 * _wrap32(r - SQRT_SQRT_HALF))
    common_sq = _multiply(q, q)
    num = _wrap32(_multiply(q, r) + _multiply(_multiply(q, common_sq), ALPHA_N))
    denominator_minus_one = _wrap32(
        _multiply(p, _wrap32(_wrap32(ALPHA_I + q) + _multiply(ALPHA_D, common_sq)))
        + _multiply(ALPHA_F, q)
    )
    reciprocal_denominator = one_over_one_plus_x_for_x_in_0_1(denominator_minus_one)
    num_scaled = rounding_divide_by_pot(num, accumulation_bits)
    log = _wrap32(
        _multiply(z_pow_2_adj, LOG_2) + _multiply(num_scaled, reciprocal_denominator)
    )
    return saturating_rounding_multiply_by_pot(
        log, accumulation_bits - output_integer_bits
    )


# Compile-time parameters -----------------------------------------------------------


def check_eight_bit(op: graph.AxisUnaryOp) -> None:
    """Reject what the 256-entry tables cannot hold."""
    for value in (op.input, op.result):
        if qtype(value).storage.width.data != 8 or qtype(value).is_per_axis:
            raise TinyccError(
                f"{op.name}: integer (log-)softmax needs 8-bit per-tensor "
                f"quantization, got {qtype(value)}"
            )
    if row_length(op) >= 1 << (31 - 19):
        raise TinyccError(
            f"{op.name}: rows of {row_length(op)} would overflow the Q12.19 sum "
            "of exponentials"
        )


def row_length(op: graph.AxisUnaryOp) -> int:
    return graph.shape_of(op.input)[op.axis.value.data]


def output_rescale(
    op: graph.AxisUnaryOp, tflite_scale: float, unit: float
) -> Multipliers | None:
    """`unit / s_out` as a fixed-point multiplier, or None when the result
    has TFLite's own output scale `tflite_scale`."""
    output_scale = float(scales(op.result)[0])
    if output_scale == tflite_scale:
        return None
    return Multipliers.of(np.asarray([unit / output_scale]))


@dataclass(frozen=True)
class ScaledDifferences:
    """TFLM's scaling of `x - peak` to Q5.26 (beta 1):
    `PreprocessSoftmaxScaling(1, s_in, 5)` and `CalculateInputRadius`."""

    multiplier: int
    left_shift: int
    diff_min: int

    @classmethod
    def of(cls, op: graph.AxisUnaryOp) -> ScaledDifferences:
        real = min(
            float(scales(op.input)[0]) * (1 << (31 - SCALED_DIFF_INTEGER_BITS)),
            (1 << 31) - 1.0,
        )
        if not 1.0 < real < 2.0**30:
            raise TinyccError(
                f"{op.name}: input scale {scales(op.input)[0]} is out of the "
                "range of TFLite's int8 (log-)softmax"
            )
        multiplier, left_shift = quantize_multiplier(real)
        # floor(31 * 2^26 / 2^left_shift)
        radius = (((1 << SCALED_DIFF_INTEGER_BITS) - 1) << 26) >> left_shift
        return cls(multiplier, left_shift, -radius)

    def rescaled(self, differences: np.ndarray) -> np.ndarray:
        """`-d` in Q5.26: `MultiplyByQuantizedMultiplier(-d, m, left_shift)`
        (wrapped where `-d < diff_min`, which TFLite never uses)."""
        diff = -np.asarray(differences, np.int64)
        shifted = _wrap32(diff << self.left_shift)
        return saturating_rounding_doubling_high_mul(shifted, self.multiplier)

    def exps(self, differences: np.ndarray) -> np.ndarray:
        """`E[d]`: exp of the scaled `-d` in Q0.31, 0 where TFLite skips the
        term (`-d < diff_min`)."""
        exps = exp_on_negative_values(
            self.rescaled(differences), SCALED_DIFF_INTEGER_BITS
        )
        return np.where(-np.asarray(differences) >= self.diff_min, exps, 0)

    def sum_of_exps(self, exps: np.ndarray) -> np.ndarray:
        """The Q12.19 sum over the last axis (keeping it)."""
        terms = rounding_divide_by_pot(exps, ACCUMULATION_INTEGER_BITS)
        return _wrap32(terms.sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class TFLiteSoftmax:
    """TFLM's `SoftmaxParams` of an 8-bit softmax, and how the Q0.31
    probabilities reach the output (TFLite's units: 1/256)."""

    differences: ScaledDifferences
    output: Multipliers | None
    output_zero_point: int

    @classmethod
    def of(cls, op: graph.SoftmaxOp) -> TFLiteSoftmax:
        check_eight_bit(op)
        output = output_rescale(op, 1 / 256, 1 / 256)
        if output is not None and not -28 <= int(output.shift[0]) <= 23:
            raise TinyccError(
                f"{op.name}: output scale {scales(op.result)[0]} is out of range"
            )
        return cls(ScaledDifferences.of(op), output, zero_point(op.result))

    @property
    def output_shift(self) -> int:
        """What the requantization adds to TFLite's final rounding shift."""
        return 0 if self.output is None else -int(self.output.shift[0])


@dataclass(frozen=True)
class TFLiteLogSoftmax:
    """TFLM's log-softmax parameters: the scaled differences, the reverse
    scaling (`PreprocessLogSoftmaxScalingExp`), and for an output scale
    other than TFLM's required 16/256 the multiplier from Q5.26 to it."""

    differences: ScaledDifferences
    reverse: Multipliers
    output: Multipliers | None
    output_zero_point: int

    @classmethod
    def of(cls, op: graph.LogSoftmaxOp) -> TFLiteLogSoftmax:
        check_eight_bit(op)
        low, _ = qtype(op.result).storage_range
        lowest = (low - zero_point(op.result)) * float(scales(op.result)[0])
        if lowest < LOG_OUTPUT_LOWEST:
            raise TinyccError(
                f"{op.name}: the output reaches {lowest:.4g}, below the "
                f"{LOG_OUTPUT_LOWEST} where TFLite's int8 log-softmax drops "
                "values (the onnx rounding mode has no such limit)"
            )
        differences = ScaledDifferences.of(op)
        real = (1 << (31 - differences.left_shift)) / differences.multiplier
        return cls(
            differences,
            Multipliers.of(np.asarray([real])),
            output_rescale(op, 2.0**-LOG_OUTPUT_FRACTION_BITS, 2.0**-26),
            zero_point(op.result),
        )

    def adjusted_diff_min(self, log_sum: np.ndarray) -> np.ndarray:
        """The smallest `-d` kept: `diff_min - 1`, or higher where
        subtracting the log of the sum would leave Q5.26."""
        shifted = _wrap32(log_sum + INT32_MIN)
        reverse = self.reverse
        limit = rescale(shifted, reverse.multiplier[0], reverse.shift[0], "tflite")
        return np.maximum(self.differences.diff_min - 1, limit)


def exp_table(op: graph.AxisUnaryOp, bits: int) -> np.ndarray:
    """`T[d] = round(exp(-s_in d) 2^bits)`, the onnx mode's exponentials."""
    d = np.arange(TABLE_SIZE, dtype=np.float64)
    exps = np.rint(np.exp(-float(scales(op.input)[0]) * d) * 2.0**bits)
    return exps.astype(np.int64)


@dataclass(frozen=True)
class ONNXSoftmax:
    """The onnx mode's table and the exact output scale `a * 2^-k`."""

    exps: np.ndarray  # T[d] = round(exp(-s_in d) 2^bits), int64
    numerator_shift: int  # max(k, 0)
    denominator: int  # a * 2^max(-k, 0)
    output_zero_point: int

    @classmethod
    def of(cls, op: graph.SoftmaxOp) -> ONNXSoftmax:
        check_eight_bit(op)
        mantissa, exponent = math.frexp(float(scales(op.result)[0]))
        a, k = int(mantissa * 2**24), 24 - exponent
        while a % 2 == 0:
            a, k = a // 2, k - 1
        denominator = a << max(-k, 0)
        # T << k and S * denominator (S <= length * 2^bits) must fit in int64.
        bits = min(
            ONNX_FRACTION_BITS,
            62 - max(k, 0),
            62 - denominator.bit_length() - row_length(op).bit_length(),
        )
        if bits < 16:
            raise TinyccError(
                f"{op.name}: output scale {scales(op.result)[0]} or rows of "
                f"{row_length(op)} leave too few bits for the fixed-point softmax"
            )
        return cls(exp_table(op, bits), max(k, 0), denominator, zero_point(op.result))


@dataclass(frozen=True)
class ONNXLogSoftmax:
    """The onnx mode's log-softmax in units of `s_out / 2^LOG_ONNX_BITS`:
    `A[d] = round(-s_in d / s_out)` (clamped below the output range) minus
    `B = log(sum_j T[d_j] / 2^30) / s_out`, the log from TFLite's fixed-point
    log of the Q12.19 sum."""

    exps: np.ndarray  # T[d], Q30
    differences: np.ndarray  # A[d], int64
    log_scale: Multipliers  # Q5.26 log -> units of s_out / 2^LOG_ONNX_BITS
    output_zero_point: int

    @classmethod
    def of(cls, op: graph.LogSoftmaxOp) -> ONNXLogSoftmax:
        check_eight_bit(op)
        s_in, s_out = float(scales(op.input)[0]), float(scales(op.result)[0])
        low, _ = qtype(op.result).storage_range
        zp = zero_point(op.result)
        # log(n) < 8.4 for rows shorter than 4096: B fits in int32.
        if 8.4 / s_out * 2**LOG_ONNX_BITS >= 2**30:
            raise TinyccError(f"{op.name}: output scale {s_out} is too small")
        d = np.arange(TABLE_SIZE, dtype=np.float64)
        floor = (low - zp - 1) * 2**LOG_ONNX_BITS  # below every output
        exact = np.rint(-d * s_in / s_out * 2**LOG_ONNX_BITS)
        differences = np.maximum(exact, floor).astype(np.int64)
        log_scale = Multipliers.of(np.asarray([2.0 ** (LOG_ONNX_BITS - 26) / s_out]))
        return cls(exp_table(op, ONNX_FRACTION_BITS), differences, log_scale, zp)


def divide_half_even(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """`numerator / denominator` for non-negative int64s, ties to even."""
    quotient = numerator // denominator
    remainder = numerator - quotient * denominator
    rest = denominator - remainder
    up = (remainder > rest) | ((remainder == rest) & (quotient % 2 == 1))
    return quotient + up


# The kernels ---------------------------------------------------------------------


def _differences(op: graph.AxisUnaryOp, x) -> np.ndarray:
    """`peak - x` along the axis, moved last (int64)."""
    rows = np.moveaxis(np.asarray(x, np.int64), op.axis.value.data, -1)
    return rows.max(axis=-1, keepdims=True) - rows


def _store(op: graph.AxisUnaryOp, values: np.ndarray) -> np.ndarray:
    low, high = qtype(op.result).storage_range
    stored = np.clip(values, low, high).astype(qtype(op.result).numpy_dtype)
    return np.moveaxis(stored, -1, op.axis.value.data)


@integer_kernel(graph.SoftmaxOp)
def softmax(op: graph.SoftmaxOp, rounding: Rounding, x) -> np.ndarray:
    differences = _differences(op, x)
    if rounding == "onnx":
        params = ONNXSoftmax.of(op)
        exps = params.exps[differences]
        total = exps.sum(axis=-1, keepdims=True)
        quotient = divide_half_even(
            exps << params.numerator_shift, total * params.denominator
        )
        return _store(op, quotient + params.output_zero_point)
    tflite = TFLiteSoftmax.of(op)
    exps = tflite.differences.exps(differences)
    total = tflite.differences.sum_of_exps(exps)
    scale, num_bits_over_unit = get_reciprocal(total, ACCUMULATION_INTEGER_BITS)
    probability = saturating_rounding_doubling_high_mul(scale, exps)
    if tflite.output is not None:
        probability = saturating_rounding_doubling_high_mul(
            probability, int(tflite.output.multiplier[0])
        )
    exponent = num_bits_over_unit + 31 - 8 + tflite.output_shift
    unsaturated = rounding_divide_by_pot(probability, exponent)
    return _store(op, unsaturated + tflite.output_zero_point)


@integer_kernel(graph.LogSoftmaxOp)
def log_softmax(op: graph.LogSoftmaxOp, rounding: Rounding, x) -> np.ndarray:
    differences = _differences(op, x)
    low, _ = qtype(op.result).storage_range
    if rounding == "onnx":
        params = ONNXLogSoftmax.of(op)
        total = params.exps[differences].sum(axis=-1, keepdims=True)
        log_sum = log_x_for_x_greater_than_or_equal_to_1(
            rounding_divide_by_pot(total, ONNX_FRACTION_BITS - 19), 12, 5
        )
        m, shift = params.log_scale.multiplier[0], params.log_scale.shift[0]
        log_term = rescale(log_sum, m, shift, "onnx")
        value = params.differences[differences] - log_term
        quotient = round_half_even_shift(value, LOG_ONNX_BITS)
        return _store(op, quotient + params.output_zero_point)
    tflite = TFLiteLogSoftmax.of(op)
    scaled = tflite.differences
    total = scaled.sum_of_exps(scaled.exps(differences))
    log_sum = log_x_for_x_greater_than_or_equal_to_1(
        total, ACCUMULATION_INTEGER_BITS, SCALED_DIFF_INTEGER_BITS
    )
    kept = -differences > tflite.adjusted_diff_min(log_sum)
    log_probability = _wrap32(scaled.rescaled(differences) - log_sum)  # Q5.26
    if tflite.output is None:
        shift = 31 - SCALED_DIFF_INTEGER_BITS - LOG_OUTPUT_FRACTION_BITS  # to 1/16
        unsaturated = rounding_divide_by_pot(log_probability, shift)
    else:
        m, shift = tflite.output.multiplier[0], tflite.output.shift[0]
        unsaturated = rescale(log_probability, m, shift, "tflite")
    return _store(op, np.where(kept, unsaturated + tflite.output_zero_point, low))
