"""Integer pooling in numpy: average and max pooling, windowed and global.

Average pooling sums the centered values `x - zp_in` of the cells that count
(padding cells, which `count_include_pad` counts, are a centered 0):

- input and result quantized alike (TFLite's requirement, and what
  onnxruntime's quantizer writes):
  - `tflite`: TFLite's `AveragePool` on the stored values, `total =
    sum + count * zp` divided by `count` rounding half away from zero
    (C's `(total +- count / 2) / count`);
  - `onnx`: `round_half_even(sum / count) + zp`, computed exactly as
    `round_half_even((sum + K count) / count) - K + zp`: with `K = 2^bits`
    of the storage type the numerator is non-negative, and `K` is even, so
    ties still go to even.
- quantized differently: `rescale(sum, s_in / (s_out count)) + zp_out`, one
  fixed-point multiplier per possible count (a table indexed by the count in
  C), rounded as the mode says: TFLite's MEAN requantizes that way, with one
  multiplier for its one count.

Global average pooling is the same over the whole plane (one count); when
it requantizes, `tflite` mode folds `1 / count` into the multiplier as
TFLite Micro's MEAN does. `reduce_mean` over H and W is TFLite's MEAN: that
multiplier, even with equal quantization.

Max pooling keeps the largest stored value; padding never wins, and a window
holding only padding (dilation) gives the lowest stored value, as
onnxruntime's lowest float quantizes. Quantized differently, the maximum is
requantized: `rescale(max - zp_in, s_in / s_out) + zp_out`.
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import Operation, SSAValue

from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.integer import Rounding
from tinycc.integer.fixedpoint import (
    divide_half_even,
    divide_truncating,
    quantize_multiplier,
    rescale,
)
from tinycc.integer.params import Multipliers, qtype, scale, scales, zero_point
from tinycc.interpreter.integer import centered, exact_int64, integer_kernel, store
from tinycc.interpreter.kernels import avg_pool2d_sums
from tinycc.interpreter.kernels import max_pool2d as float_max_pool2d


def same_quantization(op: Operation) -> bool:
    """Whether input and result share scale and zero point."""
    return qtype(op.operands[0]) == qtype(op.results[0])


def average_multipliers(
    op: Operation, counts: np.ndarray, rounding: Rounding
) -> Multipliers:
    """`s_in / s_out / count` for each of `counts` (0 for a count of 0,
    which no window has). In `tflite` mode a global average (one count, as
    TFLite's MEAN) folds `1 / count` into the multiplier of `s_in / s_out`
    the way TFLite Micro's MEAN does: `m * 2^k / count` truncated, shift
    `- k`, with `k = min(floor(log2 count), 32, 31 + shift)`."""
    counts = np.asarray(counts, np.int64)
    ratio = scale(op.operands[0]) / scale(op.results[0])
    if rounding == "tflite" and _is_mean(op):
        (count,) = counts.tolist()
        m, shift = quantize_multiplier(ratio)
        k = min(count.bit_length() - 1, 32, 31 + shift)
        return Multipliers(
            np.asarray([(m << k) // count], np.int64),
            np.asarray([shift - k], np.int64),
        )
    reals = np.divide(
        ratio, counts.astype(np.float64), out=np.zeros(counts.shape), where=counts > 0
    )
    return Multipliers.of(reals)


def _is_mean(op: Operation) -> bool:
    """A global average: TFLite's MEAN over the plane."""
    return isinstance(op, graph.GlobalAvgPoolOp | graph.ReduceMeanOp)


def uses_multipliers(op: Operation) -> bool:
    """Whether an average rescales its sum by multipliers (else it divides
    by the count): when it requantizes, and always for `reduce_mean`, which
    is TFLite's MEAN (its rounding even with equal quantization)."""
    return not same_quantization(op) or isinstance(op, graph.ReduceMeanOp)


def offset(value: SSAValue) -> int:
    """`K` above: at least any centered value's magnitude, and even."""
    return 1 << qtype(value).storage.width.data


def _average(
    op: Operation, rounding: Rounding, sums: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """The stored average of windows with centered `sums` over `counts` cells."""
    zp_in, zp_out = zero_point(op.operands[0]), zero_point(op.results[0])
    if uses_multipliers(op):
        distinct, which = np.unique(counts, return_inverse=True)
        table = average_multipliers(op, distinct, rounding)
        m, shift = (table.multiplier[which], table.shift[which])
        scaled = rescale(
            sums, m.reshape(sums.shape), shift.reshape(sums.shape), rounding
        )
        return store(op, scaled + zp_out, rounding)
    if rounding == "tflite":
        total = sums + counts * zp_in
        half = counts // 2
        numerator = np.where(total > 0, total + half, total - half)
        return store(op, divide_truncating(numerator, counts), rounding)
    k = offset(op.operands[0])
    quotient = divide_half_even(sums + k * counts, counts)
    return store(op, quotient - k + zp_out, rounding)


@integer_kernel(graph.AvgPool2DOp)
def avg_pool2d(op: graph.AvgPool2DOp, rounding: Rounding, x) -> np.ndarray:
    sums, counts = avg_pool2d_sums(op, centered(x, op.input).astype(np.float64))
    sums, counts = np.broadcast_arrays(exact_int64(sums), exact_int64(counts))
    return _average(op, rounding, sums, counts)


@integer_kernel(graph.GlobalAvgPoolOp, graph.ReduceMeanOp)
def global_avg_pool(
    op: graph.GlobalAvgPoolOp | graph.ReduceMeanOp, rounding: Rounding, x
) -> np.ndarray:
    check_mean(op)
    sums = centered(x, op.input).sum(axis=(1, 2), keepdims=True)
    count = int(np.prod(graph.shape_of(op.input)[1:3]))
    averages = _average(op, rounding, sums, np.full_like(sums, count))
    return averages.reshape(graph.shape_of(op.result))


def mean_unsupported(op: Operation) -> str | None:
    """Why the integer kernels cannot compute a `reduce_mean`, if they cannot:
    they average over the plane of an NHWC tensor (TFLite's MEAN over H, W)."""
    if not isinstance(op, graph.ReduceMeanOp):
        return None
    rank = len(graph.shape_of(op.input))
    if rank != 4 or sorted(op.axes.get_values()) not in ([1, 2], [-3, -2]):
        return "int8 reduce_mean is supported over the H and W axes of NHWC only"
    return None


def check_mean(op: Operation) -> None:
    reason = mean_unsupported(op)
    if reason is not None:
        raise TinyccError(f"{op.name}: {reason}")


def _maximum(
    op: Operation, rounding: Rounding, peaks: np.ndarray, empty: np.ndarray
) -> np.ndarray:
    """The stored result of window maxima `peaks` (stored input values, the
    lowest one for `empty` windows)."""
    if same_quantization(op):
        return store(op, peaks, rounding)
    multipliers = Multipliers.of(scales(op.operands[0]) / scales(op.results[0]))
    scaled = rescale(
        centered(peaks, op.operands[0]),
        multipliers.multiplier,
        multipliers.shift,
        rounding,
    )
    low, _ = qtype(op.results[0]).storage_range
    return store(op, np.where(empty, low, scaled + zero_point(op.results[0])), rounding)


@integer_kernel(graph.MaxPool2DOp)
def max_pool2d(op: graph.MaxPool2DOp, rounding: Rounding, x) -> np.ndarray:
    # The float kernel pads with the lowest float32: below every stored value.
    peaks = float_max_pool2d(op, np.asarray(x, np.float64))
    low, _ = qtype(op.input).storage_range
    empty = peaks < low
    return _maximum(op, rounding, exact_int64(np.where(empty, low, peaks)), empty)


@integer_kernel(graph.GlobalMaxPoolOp)
def global_max_pool(op: graph.GlobalMaxPoolOp, rounding: Rounding, x) -> np.ndarray:
    peaks = np.asarray(x, np.int64).max(axis=(1, 2), keepdims=True)
    return _maximum(op, rounding, peaks, np.zeros(peaks.shape, bool))
