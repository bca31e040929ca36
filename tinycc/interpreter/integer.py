"""The integer kernels in numpy: what a quantized op computes once
`quant.rounding` is set (see `tinycc.integer`).

A kernel is `kernel(op, rounding, *operands) -> result` on storage integers
(int8 arrays and the like, as the interpreter holds quantized values);
`INTEGER_KERNELS` maps each graph op class to its kernel. Accumulation is
exact (int64, or float64 on integers where a float kernel is reused), then
`requantize` rescales, adds the output zero point and clamps, as TFLite's
reference kernels do. The helpers every kernel module shares (`centered`,
`store`, `requantize`, `exact_int64`) are defined here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.ir import Operation, SSAValue

from tinycc.dialects import graph
from tinycc.integer import Rounding
from tinycc.integer.fixedpoint import rescale
from tinycc.integer.params import (
    Multipliers,
    activation_range,
    bias_in_accumulator_units,
    output_multipliers,
    qtype,
    wide_accumulator,
    zero_point,
    zero_points,
)
from tinycc.interpreter.kernels import conv2d_sums

IntegerKernel = Callable[..., np.ndarray]
INTEGER_KERNELS: dict[type[Operation], IntegerKernel] = {}


def integer_kernel(
    *op_types: type[Operation],
) -> Callable[[IntegerKernel], IntegerKernel]:
    def register(kernel: IntegerKernel) -> IntegerKernel:
        for op_type in op_types:
            INTEGER_KERNELS[op_type] = kernel
        return kernel

    return register


def centered(stored: np.ndarray, value: SSAValue) -> np.ndarray:
    """Stored integers of a per-tensor quantized `value` minus its zero
    point, as int64."""
    return np.asarray(stored, np.int64) - zero_point(value)


def _centered_per_axis(stored: np.ndarray, value: SSAValue) -> np.ndarray:
    """Stored integers minus their zero points (per channel along the
    quantization axis of a per-axis `value`), as int64."""
    return np.asarray(stored, np.int64) - zero_points(value)


def exact_int64(sums: np.ndarray) -> np.ndarray:
    """Float64 sums of integers (exact below 2^53), as a float kernel
    reused on integers computes them, back to int64."""
    return np.rint(sums).astype(np.int64)


def store(op: Operation, values: np.ndarray, rounding: Rounding) -> np.ndarray:
    """Result values clamped to the result type, narrowed by its fused
    activation, in its storage dtype."""
    low, high = activation_range(op, op.results[0], rounding)
    return np.clip(values, low, high).astype(qtype(op.results[0]).numpy_dtype)


def requantize(
    op: Operation, acc: np.ndarray, multipliers: Multipliers, rounding: Rounding
) -> np.ndarray:
    """`clamp(rescale(acc) + zp_out)` into the result's storage type; a
    per-channel multiplier applies along the last axis."""
    wide = wide_accumulator(op)
    scaled = rescale(acc, multipliers.multiplier, multipliers.shift, rounding, wide)
    return store(op, scaled + zero_point(op.results[0]), rounding)


@integer_kernel(graph.Conv2DOp)
def conv2d(op: graph.Conv2DOp, rounding: Rounding, x, w, b=None) -> np.ndarray:
    """`sum (x - zp_x) * (w - zp_w[c]) + bias[c]`, requantized per channel.
    Padding is the input's zero point, i.e. a centered 0."""
    x_centered = _centered_per_axis(x, op.input)
    w_centered = _centered_per_axis(w, op.weight)
    acc = exact_int64(conv2d_sums(op, x_centered, w_centered))
    if b is not None:
        acc = acc + bias_in_accumulator_units(b, op.bias, op.input, op.weight, rounding)
    return requantize(
        op, acc, output_multipliers(op.input, op.weight, op.result), rounding
    )


@integer_kernel(graph.FullyConnectedOp)
def fully_connected(
    op: graph.FullyConnectedOp, rounding: Rounding, x, w, b=None
) -> np.ndarray:
    """`sum_k (x[k] - zp_x) * (w[o, k] - zp_w[o]) + bias[o]`, requantized."""
    acc = _centered_per_axis(x, op.input) @ _centered_per_axis(w, op.weight).T
    if b is not None:
        acc = acc + bias_in_accumulator_units(b, op.bias, op.input, op.weight, rounding)
    return requantize(
        op, acc, output_multipliers(op.input, op.weight, op.result), rounding
    )


# The other op families register their kernels when imported.
from tinycc.interpreter import (  # noqa: E402, F401
    integer_data,
    integer_elementwise,
    integer_pool,
    integer_softmax,
)
