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

gemmlowp's fixed-point functions come from `tinycc.integer.gemmlowp`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.integer import Rounding
from tinycc.integer.fixedpoint import (
    INT32_MIN,
    divide_half_even,
    quantize_multiplier,
    rescale,
    round_half_even_shift,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap,
)
from tinycc.integer.gemmlowp import (
    exp_on_negative_values,
    get_reciprocal,
    log_x_for_x_greater_than_or_equal_to_1,
)
from tinycc.integer.params import Multipliers, qtype, scale, zero_point
from tinycc.interpreter.integer import integer_kernel, store

SCALED_DIFF_INTEGER_BITS = 5  # the exp input is Q5.26
ACCUMULATION_INTEGER_BITS = 12  # the sum of exps is Q12.19
TABLE_SIZE = 256  # differences of 8-bit values
ONNX_FRACTION_BITS = 30  # the onnx mode's exp table: Q1.30 at most
LOG_OUTPUT_FRACTION_BITS = 4  # TFLite's log-softmax output: 16/256 units
LOG_OUTPUT_LOWEST = -16.0  # TFLite's log-softmax output: (-128 - 127) / 16
LOG_ONNX_BITS = 16  # fraction bits of the onnx mode's log-softmax


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
    output_scale = scale(op.result)
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
            scale(op.input) * (1 << (31 - SCALED_DIFF_INTEGER_BITS)),
            (1 << 31) - 1.0,
        )
        if not 1.0 < real < 2.0**30:
            raise TinyccError(
                f"{op.name}: input scale {scale(op.input)} is out of the "
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
        shifted = wrap(diff << self.left_shift)
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
        return wrap(terms.sum(axis=-1, keepdims=True))


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
                f"{op.name}: output scale {scale(op.result)} is out of range"
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
        lowest = (low - zero_point(op.result)) * scale(op.result)
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
        shifted = wrap(log_sum + INT32_MIN)
        reverse = self.reverse
        limit = rescale(shifted, reverse.multiplier[0], reverse.shift[0], "tflite")
        return np.maximum(self.differences.diff_min - 1, limit)


def exp_table(op: graph.AxisUnaryOp, bits: int) -> np.ndarray:
    """`T[d] = round(exp(-s_in d) 2^bits)`, the onnx mode's exponentials."""
    d = np.arange(TABLE_SIZE, dtype=np.float64)
    exps = np.rint(np.exp(-scale(op.input) * d) * 2.0**bits)
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
        mantissa, exponent = math.frexp(scale(op.result))
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
                f"{op.name}: output scale {scale(op.result)} or rows of "
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
        s_in, s_out = scale(op.input), scale(op.result)
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


# The kernels ---------------------------------------------------------------------


def _differences(op: graph.AxisUnaryOp, x) -> np.ndarray:
    """`peak - x` along the axis, moved last (int64)."""
    rows = np.moveaxis(np.asarray(x, np.int64), op.axis.value.data, -1)
    return rows.max(axis=-1, keepdims=True) - rows


def _store(op: graph.AxisUnaryOp, values: np.ndarray, rounding: Rounding):
    """`store` of rows along the last axis, the axis moved back."""
    return np.moveaxis(store(op, values, rounding), -1, op.axis.value.data)


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
        return _store(op, quotient + params.output_zero_point, rounding)
    tflite = TFLiteSoftmax.of(op)
    exps = tflite.differences.exps(differences)
    total = tflite.differences.sum_of_exps(exps)
    reciprocal, num_bits_over_unit = get_reciprocal(total, ACCUMULATION_INTEGER_BITS)
    probability = saturating_rounding_doubling_high_mul(reciprocal, exps)
    if tflite.output is not None:
        probability = saturating_rounding_doubling_high_mul(
            probability, int(tflite.output.multiplier[0])
        )
    exponent = num_bits_over_unit + 31 - 8 + tflite.output_shift
    unsaturated = rounding_divide_by_pot(probability, exponent)
    return _store(op, unsaturated + tflite.output_zero_point, rounding)


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
        return _store(op, quotient + params.output_zero_point, rounding)
    tflite = TFLiteLogSoftmax.of(op)
    scaled = tflite.differences
    total = scaled.sum_of_exps(scaled.exps(differences))
    log_sum = log_x_for_x_greater_than_or_equal_to_1(
        total, ACCUMULATION_INTEGER_BITS, SCALED_DIFF_INTEGER_BITS
    )
    kept = -differences > tflite.adjusted_diff_min(log_sum)
    log_probability = wrap(scaled.rescaled(differences) - log_sum)  # Q5.26
    if tflite.output is None:
        shift = 31 - SCALED_DIFF_INTEGER_BITS - LOG_OUTPUT_FRACTION_BITS  # to 1/16
        unsaturated = rounding_divide_by_pot(log_probability, shift)
    else:
        m, shift = tflite.output.multiplier[0], tflite.output.shift[0]
        unsaturated = rescale(log_probability, m, shift, "tflite")
    return _store(
        op, np.where(kept, unsaturated + tflite.output_zero_point, low), rounding
    )
