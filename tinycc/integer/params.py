"""Compile-time constants of integer kernels, derived from quantized types.

Both the numpy reference (`tinycc.interpreter.integer`) and the C kernels
(`tinycc.kernels`) take their numbers from here, so the two cannot drift
apart. Scales are the float32 values of the types, combined in double
precision as TFLite's kernel preparation does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from xdsl.ir import Operation, SSAValue

from tinycc.dialects import graph
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.errors import TinyccError
from tinycc.integer import Rounding
from tinycc.integer.fixedpoint import quantize_multiplier


def qtype(value: SSAValue) -> UniformQuantizedType:
    """The quantized element type of a tensor value."""
    element = graph.tensor_type(value).element_type
    if not isinstance(element, UniformQuantizedType):
        raise TinyccError(f"expected a quantized tensor, got {element}")
    return element


def scales(value: SSAValue) -> np.ndarray:
    """The value's scales as float64 (one per channel if per axis)."""
    return np.asarray(qtype(value).scale_values, np.float32).astype(np.float64)


def _per_tensor(value: SSAValue) -> UniformQuantizedType:
    element = qtype(value)
    if element.is_per_axis:
        raise TinyccError(f"expected per-tensor quantization, got {element}")
    return element


def scale(value: SSAValue) -> float:
    """The scale of a per-tensor quantized value (a float32 value)."""
    return float(np.float32(_per_tensor(value).scale_values[0]))


def zero_point(value: SSAValue) -> int:
    """The zero point of a per-tensor quantized value."""
    return _per_tensor(value).zero_point_values[0]


def round_half(x: float, rounding: Rounding) -> int:
    """Round a real: half away from zero (TFLite's `TfLiteRound`) or half to
    even (ONNX's QuantizeLinear)."""
    if rounding == "onnx":
        return int(np.rint(x))
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


@dataclass(frozen=True)
class Multipliers:
    """Fixed-point multipliers, one per output channel (or a single one)."""

    multiplier: np.ndarray  # int64 values of int32 mantissas
    shift: np.ndarray  # int64

    @classmethod
    def of(cls, reals: np.ndarray) -> Multipliers:
        pairs = [quantize_multiplier(float(r)) for r in np.ravel(reals)]
        return cls(
            np.asarray([m for m, _ in pairs], np.int64),
            np.asarray([s for _, s in pairs], np.int64),
        )

    @property
    def per_channel(self) -> bool:
        return self.multiplier.size > 1


def output_multipliers(
    input_: SSAValue, weight: SSAValue, output: SSAValue
) -> Multipliers:
    """`s_in * s_w[c] / s_out` for each output channel of a product (conv,
    fully connected, matmul)."""
    return Multipliers.of(scales(input_) * scales(weight) / scales(output))


def activation_range(op: Operation, output: SSAValue, rounding: Rounding):
    """The storage range the result is clamped to: the type's range narrowed
    by a fused activation (TFLite's `CalculateActivationRangeQuantized`)."""
    low, high = qtype(output).storage_range
    if not isinstance(op, graph.FusedClampMixin):
        return low, high
    if op.clamp_min is not None:
        low = max(low, storage_bound(output, op.clamp_min.value.data, rounding))
    if op.clamp_max is not None:
        high = min(high, storage_bound(output, op.clamp_max.value.data, rounding))
    return low, high


def storage_bound(output: SSAValue, real: float, rounding: Rounding) -> int:
    """The stored value of the bound `real`: `zp + round(real / scale)`, the
    division in float32 as TFLite computes it."""
    step = np.float32(real) / np.float32(scales(output)[0])
    return zero_point(output) + round_half(float(step), rounding)


def bias_in_accumulator_units(
    stored: np.ndarray,
    bias: SSAValue,
    input_: SSAValue,
    weight: SSAValue,
    rounding: Rounding,
) -> np.ndarray:
    """The int32 bias on the accumulator's scale `s_in * s_w[c]`: the stored
    values when the bias is quantized on that scale (TFLite's rule, which
    tf2onnx and onnxruntime follow), else rescaled once at compile time."""
    stored = np.asarray(stored, np.int64).reshape(-1)
    zero_points = np.asarray(qtype(bias).zero_point_values, np.int64)
    accumulator_scale = (scales(input_) * scales(weight)).astype(np.float32)
    bias_scale = scales(bias)
    if np.all(zero_points == 0) and np.allclose(
        bias_scale, accumulator_scale, rtol=1e-6, atol=0
    ):
        return stored
    real = (stored - zero_points) * bias_scale / accumulator_scale
    return np.asarray([round_half(float(r), rounding) for r in real], np.int64)


def zero_points(value: SSAValue) -> np.ndarray:
    """The value's zero points as int64, shaped to broadcast along its
    quantization axis (a scalar array if per tensor)."""
    element = qtype(value)
    points = np.asarray(element.zero_point_values, np.int64)
    if not element.is_per_axis:
        return points.reshape(())
    shape = [1] * len(graph.shape_of(value))
    shape[element.axis.data] = -1
    return points.reshape(shape)


def wide_accumulator(op: Operation) -> bool:
    """True for the 16x8 kernels (int16 activations, int8 weights), which
    accumulate in int64 and rescale with TFLite's int64 multiplier."""
    return qtype(op.operands[0]).storage.width.data == 16
