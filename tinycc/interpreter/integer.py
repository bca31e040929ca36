"""The integer kernels in numpy: what a quantized op computes once
`quant.rounding` is set (see `tinycc.integer`).

A kernel is `kernel(op, rounding, *operands) -> result` on storage integers
(int8 arrays and the like, as the interpreter holds quantized values);
`INTEGER_KERNELS` maps each graph op class to its kernel. Accumulation is
exact (int64, or float64 on integers where a float kernel is reused), then
`requantize` rescales, adds the output zero point and clamps, as TFLite's
reference kernels do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.ir import Operation

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


def requantize(
    op: Operation, acc: np.ndarray, multipliers: Multipliers, rounding: Rounding
) -> np.ndarray:
    """`clamp(rescale(acc) + zp_out)` into the result's storage type; a
    per-channel multiplier applies along the last axis."""
    output = op.results[0]
    wide = wide_accumulator(op)
    scaled = rescale(acc, multipliers.multiplier, multipliers.shift, rounding, wide)
    low, high = activation_range(op, output, rounding)
    stored = np.clip(scaled + zero_point(output), low, high)
    return stored.astype(qtype(output).numpy_dtype)


def _centered(values: np.ndarray, value) -> np.ndarray:
    """Stored integers minus their zero points, as int64."""
    return np.asarray(values, np.int64) - zero_points(value)


def _exact(sums: np.ndarray) -> np.ndarray:
    """Float64 sums of integer products (exact below 2^53) back to int64."""
    return np.rint(sums).astype(np.int64)


@integer_kernel(graph.Conv2DOp)
def conv2d(op: graph.Conv2DOp, rounding: Rounding, x, w, b=None) -> np.ndarray:
    """`sum (x - zp_x) * (w - zp_w[c]) + bias[c]`, requantized per channel.
    Padding is the input's zero point, i.e. a centered 0."""
    x_centered, w_centered = _centered(x, op.input), _centered(w, op.weight)
    acc = _exact(conv2d_sums(op, x_centered, w_centered))
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
    acc = _centered(x, op.input) @ _centered(w, op.weight).T
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
