"""Integer softmax and log-softmax (8-bit), the IR twin of
`tinycc.interpreter.integer_softmax`.

    for every index i off the axis:
      peak = max_j x[i, j]
      d_j  = peak - x[i, j]                      0 <= d_j < 256: a table index
    softmax, tflite:
      sum   = sum_j RoundingDivideByPOT(E[d_j], 12)        i32, Q12.19
      scale, bits = GetReciprocal(sum)                     straight-line i32
      y[i, j] = clamp(RoundingDivideByPOT(SRDHM(scale, E[d_j]), bits + 23) + zp)
    softmax, onnx:
      sum  = sum_j T[d_j]                                  i64
      y[i, j] = clamp(round_half_even((T[d_j] << k) / (sum * a)) + zp)
    log-softmax, tflite:
      log_sum = log(sum of E as above)                     straight-line i32
      y[i, j] = -d_j > limit ? clamp(RoundingDivideByPOT(R[d_j] - log_sum, 22)
                                     + zp) : lowest
    log-softmax, onnx:
      log_term = rescale(log(sum of T, as Q12.19))
      y[i, j] = clamp(round_half_even((A[d_j] - log_term) / 2^16) + zp)

The tables (`<layer>_exp`, `<layer>_diff`) are the numpy reference's own,
so the only fixed-point work left to the IR is per row (the reciprocal, the
log) and the final roundings, written here operation for operation as the
numpy functions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.dialects.builtin import i32, i64
from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.integer import Rounding
from tinycc.integer.fixedpoint import INT32_MAX, INT32_MIN
from tinycc.integer.gemmlowp import (
    ALPHA_D,
    ALPHA_F,
    ALPHA_I,
    ALPHA_N,
    CONSTANT_48_OVER_17,
    CONSTANT_NEG_32_OVER_17,
    LOG_2,
    ONE_QUARTER,
    SQRT_HALF,
    SQRT_SQRT_HALF,
)
from tinycc.integer.params import qtype
from tinycc.interpreter.integer_softmax import (
    ACCUMULATION_INTEGER_BITS,
    LOG_ONNX_BITS,
    LOG_OUTPUT_FRACTION_BITS,
    ONNX_FRACTION_BITS,
    SCALED_DIFF_INTEGER_BITS,
    TABLE_SIZE,
    ONNXLogSoftmax,
    ONNXSoftmax,
    TFLiteLogSoftmax,
    TFLiteSoftmax,
)
from tinycc.kernels.builder import Index, KernelBuilder, Scalar, shape
from tinycc.kernels.fixedpoint import (
    divide_half_even,
    rescale,
    round_half_even_shift,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    saturating_shift_left,
)
from tinycc.kernels.quantized import store_clamped

# gemmlowp and TFLite's common.h in IR: the per-row functions -----------------------


def rounding_half_sum(kb: KernelBuilder, a: Scalar, b: int) -> Scalar:
    """gemmlowp's `RoundingHalfSum` on i32s: `(a + b) / 2`, ties away."""
    total = kb.convert(a, i64) + b
    nudge = kb.select(kb.compare("ge", total, 0), kb.scalar(1, i64), -1)
    return kb.convert(kb.divide_truncating(total + nudge, 2), i32, "half_sum")


def _saturated(kb: KernelBuilder, x: Scalar) -> Scalar:
    """An i64 clamped to the int32 range, as an i32."""
    return kb.convert(kb.clamp(x, INT32_MIN, INT32_MAX), i32)


def one_over_one_plus_x_for_x_in_0_1(kb: KernelBuilder, a: Scalar) -> Scalar:
    """gemmlowp's Newton-Raphson reciprocal, unrolled."""
    srdhm = saturating_rounding_doubling_high_mul
    half_denominator = rounding_half_sum(kb, a, INT32_MAX)
    x = CONSTANT_48_OVER_17 + srdhm(kb, half_denominator, CONSTANT_NEG_32_OVER_17)
    for _ in range(3):
        one_minus = (1 << 29) - srdhm(kb, half_denominator, x)
        x = (x + saturating_shift_left(kb, srdhm(kb, x, one_minus), 2)).named("x")
    return saturating_shift_left(kb, x, 1)


def count_leading_zeros(kb: KernelBuilder, x: Scalar) -> tuple[Scalar, Scalar]:
    """The leading zeros of a positive i32 (as an i32) and `x << zeros` (an
    i64 with its top bit at 2^31)."""
    normalized = kb.convert(x, i64)
    zeros: Scalar | int = 0
    for width in (16, 8, 4, 2, 1):
        small = kb.compare("lt", normalized, 1 << (32 - width))
        added = zeros + width if isinstance(zeros, Scalar) else kb.scalar(width, i32)
        zeros = kb.select(small, added, zeros).named("zeros")
        normalized = kb.select(small, normalized << width, normalized)
    assert isinstance(zeros, Scalar)
    return zeros, normalized


def get_reciprocal(kb: KernelBuilder, total: Scalar) -> tuple[Scalar, Scalar]:
    """TFLite's `GetReciprocal(total, 12)` for a positive i32: the Q0.31
    scale and the leading zeros of `total`, from which `num_bits_over_unit
    = 12 - zeros`."""
    zeros, normalized = count_leading_zeros(kb, total)
    shifted_sum_minus_one = kb.convert(normalized - (1 << 31), i32)
    return one_over_one_plus_x_for_x_in_0_1(kb, shifted_sum_minus_one), zeros


def log_x_for_x_greater_than_or_equal_to_1(
    kb: KernelBuilder, x: Scalar, input_integer_bits: int, output_integer_bits: int
) -> Scalar:
    """TFLite's fixed-point log, unrolled (see the numpy twin)."""
    srdhm = saturating_rounding_doubling_high_mul
    accumulation_bits = output_integer_bits + 1
    shifted_quarter = ONE_QUARTER >> accumulation_bits  # exact

    def pow_2_adjustment(headroom: Scalar, offset: int) -> Scalar:
        """The power-of-two part, `input_integer_bits - headroom` as Q(acc)."""
        exponent = saturating_shift_left(
            kb, input_integer_bits - headroom, 31 - accumulation_bits
        )
        return _saturated(kb, kb.convert(exponent, i64) + offset)

    z_a_headroom_plus_1, _ = count_leading_zeros(kb, x)
    r_a_tmp = saturating_shift_left(kb, x, z_a_headroom_plus_1 - 1)
    r_a_raw = saturating_shift_left(kb, srdhm(kb, r_a_tmp, SQRT_HALF), 1)
    z_a_pow_2_adj = pow_2_adjustment(z_a_headroom_plus_1, shifted_quarter)
    z_b = srdhm(kb, x, SQRT_HALF)
    z_b_headroom = count_leading_zeros(kb, z_b)[0] - 1
    r_b_raw = saturating_shift_left(kb, x, z_b_headroom)
    z_b_pow_2_adj = pow_2_adjustment(z_b_headroom, -shifted_quarter)
    r = kb.minimum(r_a_raw, r_b_raw).named("r")
    z_pow_2_adj = kb.maximum(z_a_pow_2_adj, z_b_pow_2_adj)
    p = rounding_half_sum(kb, r, SQRT_SQRT_HALF)
    q = (r - SQRT_SQRT_HALF) * 2
    common_sq = srdhm(kb, q, q)
    num = srdhm(kb, q, r) + srdhm(kb, srdhm(kb, q, common_sq), ALPHA_N)
    denominator_minus_one = srdhm(
        kb, p, (ALPHA_I + q) + srdhm(kb, common_sq, ALPHA_D)
    ) + srdhm(kb, q, ALPHA_F)
    reciprocal = one_over_one_plus_x_for_x_in_0_1(kb, denominator_minus_one)
    num_scaled = rounding_divide_by_pot(kb, num, accumulation_bits)
    log = srdhm(kb, z_pow_2_adj, LOG_2) + srdhm(kb, num_scaled, reciprocal)
    return saturating_shift_left(kb, log, accumulation_bits - output_integer_bits)


# The kernels ---------------------------------------------------------------------


class _Row:
    """One line along the axis: its indices, maximum and table lookups."""

    def __init__(
        self, kb: KernelBuilder, x: SSAValue, at: list[Index], axis: int, low: int
    ) -> None:
        """`low`: the lowest stored value, where the maximum starts."""
        self.kb, self.x, self.at, self.axis = kb, x, at, axis
        self.length = shape(x)[axis]

        def keep_max(j: Index, peak: Scalar) -> Scalar:
            return kb.maximum(peak, self.load(j)).named("peak")

        self.peak = kb.fold(0, self.length, "j", kb.scalar(low, i32), keep_max, "peak")

    def along(self, j: Index) -> list[Index]:
        return [*self.at[: self.axis], j, *self.at[self.axis :]]

    def load(self, j: Index) -> Scalar:
        return self.kb.convert(self.kb.load(self.x, self.along(j), "xv"), i32)

    def difference(self, j: Index) -> Scalar:
        """`peak - x[j]`, in `[0, 256)`."""
        return (self.peak - self.load(j)).named("d")

    def lookup(self, table: SSAValue, difference: Scalar, name: str) -> Scalar:
        """`table[difference]`."""
        index = self.kb.index_of(difference, 0, TABLE_SIZE - 1)
        return self.kb.load(table, [index], name)

    def fold(self, init: Scalar, step: Callable[[Scalar], Scalar]) -> Scalar:
        """`init + sum_j step(d_j)`."""

        def add(j: Index, total: Scalar) -> Scalar:
            return (total + step(self.difference(j))).named("sum")

        return self.kb.fold(0, self.length, "j", init, add, "sum")


def _q12_sum(kb: KernelBuilder, row: _Row, exps: SSAValue) -> Scalar:
    """TFLite's Q12.19 sum of the row's exponentials, an i32
    (`ScaledDifferences.sum_of_exps`)."""

    def term(d: Scalar) -> Scalar:
        e = row.lookup(exps, d, "e")
        return rounding_divide_by_pot(kb, e, ACCUMULATION_INTEGER_BITS).named("term")

    return row.fold(kb.scalar(0, i32), term)


def _exact_sum(kb: KernelBuilder, row: _Row, exps: SSAValue) -> Scalar:
    """The onnx mode's sum of the row's exponentials, an i64."""
    return row.fold(
        kb.scalar(0, i64), lambda d: kb.convert(row.lookup(exps, d, "e"), i64)
    )


RowKernel = Callable[[KernelBuilder, graph.AxisUnaryOp, _Row, SSAValue, Rounding], None]


def _rows(body: RowKernel):
    """The kernel running `body` on every line along the op's axis."""

    def kernel(
        kb: KernelBuilder,
        op: graph.AxisUnaryOp,
        inputs: list[SSAValue],
        y: SSAValue,
        rounding: Rounding,
    ) -> None:
        (x,) = inputs
        sizes = shape(x)
        axis = op.axis.value.data
        low, _ = qtype(op.input).storage_range
        for at in kb.grid([*sizes[:axis], *sizes[axis + 1 :]]):
            body(kb, op, _Row(kb, x, at, axis, low), y, rounding)

    return kernel


def _softmax_row(
    kb: KernelBuilder, op: graph.SoftmaxOp, row: _Row, y: SSAValue, rounding
) -> None:
    if rounding == "onnx":
        _onnx_softmax_row(kb, op, row, y, rounding)
        return
    params = TFLiteSoftmax.of(op)
    exps = kb.table("exp", params.differences.exps(np.arange(TABLE_SIZE)), i32)
    total = _q12_sum(kb, row, exps)
    scale, zeros = get_reciprocal(kb, total)
    # num_bits_over_unit + 31 - 8, num_bits_over_unit = 12 - zeros
    exponent = kb.convert(35 + params.output_shift - zeros, i64, "exponent")
    for j in kb.range(0, row.length, "j"):
        e = row.lookup(exps, row.difference(j), "e")
        probability = saturating_rounding_doubling_high_mul(kb, scale, e)
        if params.output is not None:
            probability = saturating_rounding_doubling_high_mul(
                kb, probability, int(params.output.multiplier[0])
            )
        wide = kb.convert(probability, i64)
        scaled = rounding_divide_by_pot(kb, wide, exponent).named("scaled")
        value = scaled + params.output_zero_point
        store_clamped(kb, op, value, rounding, y, row.along(j))


def _onnx_softmax_row(
    kb: KernelBuilder, op: graph.SoftmaxOp, row: _Row, y: SSAValue, rounding
) -> None:
    params = ONNXSoftmax.of(op)
    exps = kb.table("exp", params.exps, i32)
    total = _exact_sum(kb, row, exps)
    denominator = (total * params.denominator).named("den")
    for j in kb.range(0, row.length, "j"):
        numerator = kb.convert(row.lookup(exps, row.difference(j), "e"), i64)
        if params.numerator_shift:
            numerator = (numerator << params.numerator_shift).named("num")
        quotient = divide_half_even(kb, numerator, denominator)
        value = quotient + params.output_zero_point
        store_clamped(kb, op, value, rounding, y, row.along(j))


def _log_softmax_row(
    kb: KernelBuilder, op: graph.LogSoftmaxOp, row: _Row, y: SSAValue, rounding
) -> None:
    if rounding == "onnx":
        _onnx_log_softmax_row(kb, op, row, y, rounding)
        return
    params = TFLiteLogSoftmax.of(op)
    scaled = params.differences
    d = np.arange(TABLE_SIZE)
    exps = kb.table("exp", scaled.exps(d), i32)
    rescaled = kb.table("diff", scaled.rescaled(d), i32)
    total = _q12_sum(kb, row, exps)
    log_sum = log_x_for_x_greater_than_or_equal_to_1(
        kb, total, ACCUMULATION_INTEGER_BITS, SCALED_DIFF_INTEGER_BITS
    ).named("log_sum")
    # TFLite's adjusted_diff_min
    reverse = rescale(kb, log_sum + INT32_MIN, params.reverse, None, "tflite")
    limit = kb.maximum(reverse, scaled.diff_min - 1).named("limit")
    low, _ = qtype(op.result).storage_range
    for j in kb.range(0, row.length, "j"):
        difference = row.difference(j)
        log_probability = (row.lookup(rescaled, difference, "r") - log_sum).named("lp")
        if params.output is None:
            shift = 31 - SCALED_DIFF_INTEGER_BITS - LOG_OUTPUT_FRACTION_BITS
            unsaturated = rounding_divide_by_pot(kb, log_probability, shift)
        else:
            unsaturated = rescale(kb, log_probability, params.output, None, "tflite")
        kept = kb.compare("gt", 0 - difference, limit)
        value = kb.select(kept, unsaturated + params.output_zero_point, low)
        store_clamped(kb, op, value, rounding, y, row.along(j))


def _onnx_log_softmax_row(
    kb: KernelBuilder, op: graph.LogSoftmaxOp, row: _Row, y: SSAValue, rounding
) -> None:
    params = ONNXLogSoftmax.of(op)
    exps = kb.table("exp", params.exps, i32)
    differences = kb.table("diff", params.differences, i32)
    total = _exact_sum(kb, row, exps)
    q12 = rounding_divide_by_pot(kb, total, ONNX_FRACTION_BITS - 19).named("q12")
    log_sum = log_x_for_x_greater_than_or_equal_to_1(kb, kb.convert(q12, i32), 12, 5)
    log_term = rescale(kb, log_sum, params.log_scale, None, "onnx").named("log_term")
    for j in kb.range(0, row.length, "j"):
        value = row.lookup(differences, row.difference(j), "a") - log_term
        rounded = round_half_even_shift(kb, value, LOG_ONNX_BITS)
        store_clamped(
            kb, op, rounded + params.output_zero_point, rounding, y, row.along(j)
        )


INTEGER_KERNELS = {
    graph.SoftmaxOp: _rows(_softmax_row),
    graph.LogSoftmaxOp: _rows(_log_softmax_row),
}
