"""Integer elementwise kernels: add, sub, mul and prelu with broadcasting,
and the unary activations as lookup tables.

Binary ops (numpy broadcasting, fused clamp from `activation_range`):

- `tflite`: TFLite's int8 ADD/SUB (`reference_integer_ops::AddFunc`, TFLM's
  `CalculateOpDataAdd`/`CalculateOpDataSub`): both centered inputs shifted
  left by 20, each rescaled to twice the larger input scale
  (`MultiplyByQuantizedMultiplierSmallerThanOneExp`), summed (subtracted),
  the sum rescaled to the output. MUL: `(a - z_a) * (b - z_b)` rescaled by
  `s_a * s_b / s_out` (`MultiplyByQuantizedMultiplier`).
- `onnx`: one rounding, half to even, of the real result computed in fixed
  point (`ExactAdd`, and MUL's product through `rescale(..., "onnx")`).

Unary ops are a function of the stored input only, so each is the table of
its value on every stored input (`lookup_table`): the C kernel reads the same
table, so C == numpy by construction. In `tflite` mode the table follows
TFLite Micro's int8 kernel where TFLM has one (`_TFLITE_KERNELS`: RELU,
RELU6-like clamps, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH), replicated in
int32/int16 arithmetic (LOGISTIC and TANH in gemmlowp's fixed point,
`tinycc.integer.gemmlowp`); otherwise (EXP, GELU, HARD_SIGMOID, and the cases
named in each kernel's docstring where TFLM's kernel does not apply) and in
`onnx` mode it is `quantize(f(dequantize(x)))` in float64, `f` the
interpreter's float kernel, rounded half away from zero (`tflite`, TFLite's
`TfLiteRound`) or half to even (`onnx`).

DIV has no integer kernel (TFLM's int8 DIV is not supported): a quantized
div keeps its float QDQ meaning and the C back end rejects it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from xdsl.ir import Operation

from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.integer import Rounding
from tinycc.integer.fixedpoint import (
    INT32_MAX,
    divide_truncating,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rescale,
    round_half_even_shift,
    rounding_divide_by_pot,
    wrap,
)
from tinycc.integer.gemmlowp import logistic, tanh
from tinycc.integer.params import (
    Multipliers,
    output_multipliers,
    qtype,
    round_half,
    scale,
    scales,
    storage_bound,
    zero_point,
)
from tinycc.interpreter.integer import centered, integer_kernel, requantize, store
from tinycc.interpreter.kernels import KERNELS


def _is_int8(op: Operation) -> bool:
    values = (*op.operands, *op.results)
    return all(qtype(v).numpy_dtype == np.int8 for v in values)


def require_int8(op: Operation, rounding: Rounding) -> None:
    """`tflite` mode replicates TFLite's int8 kernels; its int16 kernels
    rescale differently and are not replicated (`onnx` mode takes any
    width)."""
    if rounding == "tflite" and not _is_int8(op):
        raise TinyccError(f"{op.name}: TFLite's kernel is implemented for int8 only")


# Binary ops --------------------------------------------------------------------


@dataclass(frozen=True)
class TfliteAdd:
    """TFLite's int8 ADD/SUB parameters (TFLM `CalculateOpDataAdd`/`...Sub`):
    centered inputs are shifted left by 20, rescaled by `lhs`/`rhs` to twice
    the larger input scale, added (subtracted for SUB: TFLM's int8 SUB
    subtracts, only its int16 SUB negates a multiplier and adds) and the
    result rescaled by `output`."""

    LEFT_SHIFT = 20

    lhs: Multipliers
    rhs: Multipliers
    output: Multipliers
    subtract: bool

    @classmethod
    def of(cls, op: graph.AddOp | graph.SubOp) -> TfliteAdd:
        """ADD computes the real multipliers in double, SUB divides in float
        (TFLM's add_common.cc, sub_common.cc)."""
        s_a, s_b, s_out = (scale(v) for v in (op.lhs, op.rhs, op.result))
        twice_max = 2 * max(s_a, s_b)
        reals = [s_a / twice_max, s_b / twice_max, twice_max / (2**20 * s_out)]
        subtract = isinstance(op, graph.SubOp)
        if subtract:
            f32 = np.float32
            reals = [
                float(f32(s_a) / f32(twice_max)),
                float(f32(s_b) / f32(twice_max)),
                float(f32(twice_max) / (f32(2**20) * f32(s_out))),
            ]
        lhs, rhs, output = (Multipliers.of(np.asarray(r)) for r in reals)
        return cls(lhs, rhs, output, subtract)


@dataclass(frozen=True)
class ExactAdd:
    """The `onnx` ADD/SUB in fixed point: `acc = (a - z_a) * lhs + (b - z_b)
    * rhs` in int64, the result `round_half_even(acc / 2^exponent) + z_out`.

    `lhs`, `rhs` are `s_a / s_out`, `+-s_b / s_out` (float64 ratios of the
    float32 scales) times `2^exponent`, rounded to integers, the exponent
    the largest that keeps both below 2^31. Each is within 1/2 of the real
    ratio times 2^exponent, so `acc / 2^exponent` is within `(|a - z_a| +
    |b - z_b|) / 2^(exponent + 1) <= 255 * r_max / 2^30` output steps of
    the exact real result (2^-22 steps for ratios up to 1): the result is
    the exact result rounded half to even, except where the exact result
    lies that close to a tie, closer than float32 arithmetic resolves.
    """

    lhs: int
    rhs: int
    exponent: int

    @classmethod
    def of(cls, op: graph.AddOp | graph.SubOp) -> ExactAdd:
        s_out = scale(op.result)
        sign = -1 if isinstance(op, graph.SubOp) else 1
        ratios = (scale(op.lhs) / s_out, sign * scale(op.rhs) / s_out)
        exponent = min(62, 31 - math.frexp(max(abs(r) for r in ratios))[1])
        if round(max(abs(r) for r in ratios) * 2**exponent) >= 2**31:
            exponent -= 1
        if exponent < 1:
            raise TinyccError(f"{op.name}: input/output scale ratio too large")
        lhs, rhs = (round(r * 2**exponent) for r in ratios)
        return cls(lhs, rhs, exponent)


@integer_kernel(graph.AddOp, graph.SubOp)
def add(op: graph.AddOp | graph.SubOp, rounding: Rounding, a, b) -> np.ndarray:
    """TFLite's ADD/SUB (`TfliteAdd`) or the exact sum (`ExactAdd`)."""
    a_centered, b_centered = centered(a, op.lhs), centered(b, op.rhs)
    if rounding == "onnx":
        exact = ExactAdd.of(op)
        acc = a_centered * exact.lhs + b_centered * exact.rhs
        return store(
            op,
            round_half_even_shift(acc, exact.exponent) + zero_point(op.result),
            rounding,
        )
    require_int8(op, rounding)
    params = TfliteAdd.of(op)
    scaled_a, scaled_b = (
        rescale(x << params.LEFT_SHIFT, m.multiplier, m.shift, rounding)
        for x, m in ((a_centered, params.lhs), (b_centered, params.rhs))
    )
    total = scaled_a - scaled_b if params.subtract else scaled_a + scaled_b
    return requantize(op, total, params.output, rounding)


@integer_kernel(graph.MulOp)
def mul(op: graph.MulOp, rounding: Rounding, a, b) -> np.ndarray:
    """`(a - z_a) * (b - z_b)` rescaled by `s_a * s_b / s_out`: TFLite's MUL
    in `tflite` mode, one rounding of the product (exact but for the 31-bit
    multiplier) in `onnx` mode."""
    require_int8(op, rounding)
    product = centered(a, op.lhs) * centered(b, op.rhs)
    multipliers = output_multipliers(op.lhs, op.rhs, op.result)
    return requantize(op, product, multipliers, rounding)


def prelu_multipliers(op: graph.PReluOp) -> tuple[Multipliers, Multipliers]:
    """TFLM's `CalculatePreluParams`: `s_x / s_out` and `s_x * s_slope /
    s_out`, in double."""
    identity = Multipliers.of(scales(op.input) / scales(op.result))
    return identity, output_multipliers(op.input, op.slope, op.result)


@integer_kernel(graph.PReluOp)
def prelu(op: graph.PReluOp, rounding: Rounding, x, slope) -> np.ndarray:
    """TFLM's PRELU (`reference_ops::BroadcastPrelu4DSlow`): `x - z_x`
    rescaled by `s_x / s_out` where it is >= 0, else `(x - z_x) * (slope -
    z_slope)` rescaled by `s_x * s_slope / s_out`; in `onnx` mode each with
    one rounding."""
    require_int8(op, rounding)
    xc = centered(x, op.input)
    identity, sloped = prelu_multipliers(op)
    product = xc * centered(slope, op.slope)
    scaled = np.where(
        xc >= 0,
        rescale(xc, identity.multiplier, identity.shift, rounding),
        rescale(product, sloped.multiplier, sloped.shift, rounding),
    )
    return store(op, scaled + zero_point(op.result), rounding)


# Unary ops: TFLite Micro's int8 kernels -----------------------------------------

_INT16_MIN, _INT16_MAX = -(2**15), 2**15 - 1


def _clamped(op: Operation, x, low: float | None, high: float | None):
    """TFLM's RELU (`ReluQuantized`), generalized to any bounds: the
    centered input rescaled by `s_in / s_out`, then clamped to the stored
    bounds. With the same input and output type this is also TFLM's RELU6
    (`min(max(x, zp), quantize(6))`); with different types TFLM's RELU6
    ignores the output quantization, which is not followed here."""
    m = Multipliers.of(scales(op.operands[0]) / scales(op.results[0]))
    scaled = multiply_by_quantized_multiplier(
        centered(x, op.operands[0]), m.multiplier, m.shift
    )
    output = op.results[0]
    lo, hi = qtype(output).storage_range
    if low is not None:
        lo = max(lo, storage_bound(output, low, "tflite"))
    if high is not None:
        hi = min(hi, storage_bound(output, high, "tflite"))
    return np.clip(scaled + zero_point(output), lo, hi)


def _relu(op: graph.ReluOp, x):
    return _clamped(op, x, 0.0, None)


def _clamp(op: graph.ClampOp, x):
    return _clamped(op, x, op.min.value.data, op.max.value.data)


def _leaky_relu(op: graph.LeakyReluOp, x):
    """TFLM's LEAKY_RELU (`QuantizeLeakyRelu`): the identity multiplier
    `s_in / s_out` for `x >= zp`, `s_in * alpha / s_out` below, both
    computed in float. None (the requantized real function) for a negative
    alpha, which our fixed-point multipliers do not represent."""
    alpha, s_in, s_out = (
        np.float32(v) for v in (op.alpha.value.data, scale(op.input), scale(op.result))
    )
    if alpha < 0:
        return None
    xc = centered(x, op.input)
    identity = Multipliers.of(np.asarray(float(s_in / s_out)))
    slope = Multipliers.of(np.asarray(float(s_in * alpha / s_out)))
    scaled = np.where(
        xc >= 0,
        multiply_by_quantized_multiplier(xc, identity.multiplier, identity.shift),
        multiply_by_quantized_multiplier(xc, slope.multiplier, slope.shift),
    )
    low, high = qtype(op.result).storage_range
    return np.clip(scaled + zero_point(op.result), low, high)


def _fixed_point_input(op: Operation, x) -> tuple[np.ndarray, int, np.ndarray]:
    """TFLM's int8 LOGISTIC/TANH input stage: the centered input, the
    `input_range_radius` beyond which the result saturates
    (`CalculateInputRadius`), and the input in Q4.27 (`input_multiplier`,
    `input_left_shift`: frexp of `s_in * 2^27`, `TfLiteRound` of the
    mantissa), meaningful inside the radius."""
    mantissa, shift = math.frexp(scale(op.operands[0]) * 2**27)
    multiplier = round_half(mantissa * 2**31, "tflite")
    radius = math.floor(1.0 * 15 * 2**27 / 2.0**shift)
    xc = centered(x, op.operands[0])
    return (
        xc,
        radius,
        multiply_by_quantized_multiplier(xc, multiplier, shift),
    )


def _saturated(xc: np.ndarray, radius: int, result: np.ndarray) -> np.ndarray:
    return np.where(xc <= -radius, -128, np.where(xc >= radius, 127, result))


def _has_output(op: Operation, output_scale: float, zp: int) -> bool:
    return scale(op.results[0]) == output_scale and zero_point(op.results[0]) == zp


def _logistic_kernel(op: graph.SigmoidOp, x):
    """TFLM's int8 LOGISTIC (`reference_integer_ops::Logistic`), whose
    result is on scale 1/256, zero point -128 (TFLM checks the zero point
    and assumes the scale): None for another output type."""
    if not _has_output(op, 1 / 256, -128):
        return None
    xc, radius, fixed = _fixed_point_input(op, x)
    result = np.clip(rounding_divide_by_pot(logistic(fixed), 23) - 128, -128, 127)
    return _saturated(xc, radius, result)


def _tanh_kernel(op: graph.TanhOp, x):
    """TFLM's int8 TANH (`reference_integer_ops::Tanh`), whose result is on
    scale 1/128, zero point 0 (assumed by TFLM): None for another output
    type."""
    if not _has_output(op, 1 / 128, 0):
        return None
    xc, radius, fixed = _fixed_point_input(op, x)
    result = np.clip(rounding_divide_by_pot(tanh(fixed), 24), -128, 127)
    return _saturated(xc, radius, result)


# TFLite's int16 helpers of HARD_SWISH (reference/hard_swish.h).


def _rounding_doubling_high_mul16(a: np.ndarray, b: int) -> np.ndarray:
    """gemmlowp's int16 `SaturatingRoundingDoublingHighMul`."""
    product = a * b
    nudge = np.where(product >= 0, 1 << 14, 1 - (1 << 14))
    high = wrap(divide_truncating(product + nudge, 1 << 15), 16)
    return np.where((a == _INT16_MIN) & (b == _INT16_MIN), _INT16_MAX, high)


def _doubling_high_mul16(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """TFLite's `SaturatingDoublingHighMul`: rounds toward zero."""
    high = wrap(divide_truncating(a * b, 1 << 15), 16)
    return np.where((a == _INT16_MIN) & (b == _INT16_MIN), _INT16_MAX, high)


def _shift_left16(x: np.ndarray, amount: int) -> np.ndarray:
    """TFLite's `SaturatingLeftShift` on int16."""
    return np.clip(x * (1 << amount), _INT16_MIN, _INT16_MAX)


def _int16_multiplier(real: np.float32) -> tuple[int, int]:
    """`QuantizeMultiplier`, then `DownScaleInt32ToInt16Multiplier`."""
    m32, exponent = quantize_multiplier(float(real))
    if m32 >= INT32_MAX - (1 << 15):
        return _INT16_MAX, exponent
    return (m32 + (1 << 15)) >> 16, exponent


def _hard_swish(op: graph.HardSwishOp, x):
    """TFLM's int8 HARD_SWISH (`reference_ops::HardSwish`, parameters from
    TFLM's `HardSwishPrepare`, in float): int16 fixed point. None where TFLM
    rejects the types (output multiplier above 1) or a shift leaves int16."""
    hires_scale = np.float32(1 / 128) * np.float32(scale(op.input))
    output_m, output_exponent = _int16_multiplier(
        hires_scale / np.float32(scale(op.result))
    )
    reluish_m, reluish_exponent = _int16_multiplier(
        hires_scale / (np.float32(3) / np.float32(32768))
    )
    if output_exponent > 0 or output_exponent < -15 or reluish_exponent < -15:
        return None
    hires = centered(x, op.input) * (1 << 7)
    preshift_output = _rounding_doubling_high_mul16(hires, output_m)
    reluish = hires
    if reluish_exponent > 0:
        reluish = _shift_left16(reluish, reluish_exponent - 1)
    reluish = _rounding_doubling_high_mul16(reluish, reluish_m)
    if reluish_exponent > 0:
        reluish = _shift_left16(reluish, 1)
    if reluish_exponent < 0:
        reluish = rounding_divide_by_pot(reluish, -reluish_exponent)
    reluish = (reluish + (1 << 15)) >> 1
    preshift = _doubling_high_mul16(reluish, preshift_output)
    output = rounding_divide_by_pot(preshift, -output_exponent)
    return np.clip(wrap(output + zero_point(op.result), 16), -128, 127)


UnaryKernel = Callable[[Operation, np.ndarray], "np.ndarray | None"]

# The TFLite-exact tables; each may decline (None) where TFLM's kernel does
# not apply to the op's types.
_TFLITE_KERNELS: dict[type[Operation], UnaryKernel] = {
    graph.ReluOp: _relu,
    graph.ClampOp: _clamp,
    graph.LeakyReluOp: _leaky_relu,
    graph.SigmoidOp: _logistic_kernel,
    graph.TanhOp: _tanh_kernel,
    graph.HardSwishOp: _hard_swish,
}

UNARY_OPS = (
    graph.ReluOp,
    graph.ClampOp,
    graph.LeakyReluOp,
    graph.SigmoidOp,
    graph.TanhOp,
    graph.HardSwishOp,
    graph.ExpOp,
    graph.GeluOp,
    graph.HardSigmoidOp,
)


def _requantized_real(op: Operation, x: np.ndarray, rounding: Rounding) -> np.ndarray:
    """`quantize(f(dequantize(x)))` in float64, rounded as `rounding` says."""
    real = centered(x, op.operands[0]) * scale(op.operands[0])
    with np.errstate(over="ignore"):
        steps = np.asarray(KERNELS[type(op)](op, real), np.float64) / scale(
            op.results[0]
        )
    low, high = qtype(op.results[0]).storage_range
    zp = zero_point(op.results[0])
    steps = np.clip(steps, low - zp - 1, high - zp + 1)  # inf and far beyond
    rounded = np.vectorize(round_half, otypes=[np.int64])(steps, rounding)
    return np.clip(rounded + zp, low, high)


def lookup_table(op: Operation, rounding: Rounding) -> np.ndarray:
    """The stored result for every stored input, in order from the lowest."""
    require_int8(op, rounding)
    low, high = qtype(op.operands[0]).storage_range
    domain = np.arange(low, high + 1, dtype=np.int64)
    exact = _TFLITE_KERNELS.get(type(op)) if rounding == "tflite" else None
    values = exact(op, domain) if exact is not None else None
    if values is None:
        values = _requantized_real(op, domain, rounding)
    return np.asarray(values).astype(qtype(op.results[0]).numpy_dtype)


@integer_kernel(*UNARY_OPS)
def unary(op: Operation, rounding: Rounding, x) -> np.ndarray:
    """The op's `lookup_table` at each stored input."""
    low = qtype(op.operands[0]).storage_range[0]
    return lookup_table(op, rounding)[np.asarray(x, np.int64) - low]
