"""What each graph op computes, on real values: one numpy kernel per op.

A kernel is `kernel(op, *operands) -> result` on real arrays (float32 in,
float32 or float64 out); `KERNELS` maps each graph op class to its kernel.
Quantization is not their business: `tinycc.interpreter.evaluate_op`
dequantizes operands before and quantizes results after, uniformly.

Sums of products (conv, matmul, pooling, reductions, normalization) run in
float64 and round once to float32 at the end: closer to the exact result than
any float32 order of summation, hence within 1e-5 relative of onnxruntime's.
Elementwise math runs in float32, as onnxruntime does, except where float64
avoids overflow or cancellation (sigmoid, hard-swish, GELU, softmax).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from xdsl.dialects.builtin import FloatAttr
from xdsl.ir import Operation

from tinycc.dialects import graph

Kernel = Callable[..., np.ndarray]
KERNELS: dict[type[Operation], Kernel] = {}


def _kernel(*op_types: type[Operation]) -> Callable[[Kernel], Kernel]:
    """Register `kernel(op, *real_operands) -> real_result` for these ops."""

    def register(kernel: Kernel) -> Kernel:
        for op_type in op_types:
            KERNELS[op_type] = kernel
        return kernel

    return register


def _f32(attr: FloatAttr) -> np.float32:
    return np.float32(attr.value.data)


def _fused_clamp(op: graph.FusedClampMixin, result: np.ndarray) -> np.ndarray:
    result = np.asarray(result, np.float32)
    if op.clamp_min is not None:
        result = np.maximum(result, _f32(op.clamp_min))
    if op.clamp_max is not None:
        result = np.minimum(result, _f32(op.clamp_max))
    return result


def _f64(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, np.float64)


# Sliding windows (conv and pooling), NHWC.


@dataclass(frozen=True)
class _Windows:
    kernel: tuple[int, int]
    strides: tuple[int, int]
    dilations: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, left, bottom, right
    output: tuple[int, int]  # OH, OW, from the result type (ceil mode included)

    def view(
        self, x: np.ndarray, pad_value: float, overhang_value: float
    ) -> np.ndarray:
        """`[N, OH, OW, C, KH, KW]` view of every window over `x`.

        `x` is padded with `pad_value` by `pads`, then with `overhang_value`
        at the end as far as ceil-mode windows reach past the padding.
        """
        top, left, bottom, right = self.pads
        spans = [
            d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilations, strict=True)
        ]
        reach = [
            (o - 1) * s + span
            for o, s, span in zip(self.output, self.strides, spans, strict=True)
        ]
        padded = np.pad(
            x, [(0, 0), (top, bottom), (left, right), (0, 0)], constant_values=pad_value
        )
        overhang = [
            max(0, r - d) for r, d in zip(reach, padded.shape[1:3], strict=True)
        ]
        padded = np.pad(
            padded,
            [(0, 0), (0, overhang[0]), (0, overhang[1]), (0, 0)],
            constant_values=overhang_value,
        )
        windows = sliding_window_view(padded, spans, axis=(1, 2))
        (sh, sw), (dh, dw), (oh, ow) = self.strides, self.dilations, self.output
        return windows[:, : oh * sh : sh, : ow * sw : sw, :, ::dh, ::dw]

    @classmethod
    def of(cls, op: graph.Conv2DOp | graph.Pool2DOp, kernel: Sequence[int]) -> _Windows:
        dilations = (
            op.dilations.get_values()
            if isinstance(op, graph.Conv2DOp)
            else op.window_dilations()
        )
        return cls(
            tuple(kernel),
            op.strides.get_values(),
            tuple(dilations),
            op.pads.get_values(),
            graph.shape_of(op.result)[1:3],
        )


@_kernel(graph.Conv2DOp)
def conv2d(op: graph.Conv2DOp, x: np.ndarray, w: np.ndarray, b=None) -> np.ndarray:
    result = conv2d_sums(op, x, w)
    if b is not None:
        result = result + b
    return _fused_clamp(op, result)


def conv2d_sums(op: graph.Conv2DOp, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The convolution without bias, in float64 (exact on integers):
    im2col, then one contraction per group (depthwise: groups = C_in)."""
    c_out, kh, kw, c_group = w.shape
    groups = op.groups.value.data
    windows = _Windows.of(op, (kh, kw)).view(_f64(x), 0.0, 0.0)
    n, oh, ow = windows.shape[:3]
    columns = windows.reshape(n, oh, ow, groups, c_group, kh, kw)
    w_groups = _f64(w).reshape(groups, c_out // groups, kh, kw, c_group)
    result = np.einsum("nhwgcij,goijc->nhwgo", columns, w_groups, optimize=True)
    return result.reshape(n, oh, ow, c_out)


@_kernel(graph.FullyConnectedOp)
def fully_connected(op: graph.FullyConnectedOp, x, w, b=None) -> np.ndarray:
    result = _f64(x) @ _f64(w).T
    if b is not None:
        result = result + b
    return _fused_clamp(op, result)


@_kernel(graph.MatMulOp)
def matmul(op: graph.MatMulOp, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return np.matmul(_f64(lhs), _f64(rhs))


# Elementwise.

_BINARY: dict[type[Operation], np.ufunc] = {
    graph.AddOp: np.add,
    graph.SubOp: np.subtract,
    graph.MulOp: np.multiply,
    graph.DivOp: np.divide,
}


@_kernel(*_BINARY)
def binary(op: graph.BinaryOp, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    # Float division by zero is inf/nan in ONNX too: no warning.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _fused_clamp(op, _BINARY[type(op)](lhs, rhs))


@_kernel(graph.PReluOp)
def prelu(op: graph.PReluOp, x: np.ndarray, slope: np.ndarray) -> np.ndarray:
    return np.where(x < 0, slope * x, x)


@_kernel(graph.LeakyReluOp)
def leaky_relu(op: graph.LeakyReluOp, x: np.ndarray) -> np.ndarray:
    return np.where(x < 0, _f32(op.alpha) * x, x)


@_kernel(graph.ReluOp)
def relu(op: graph.ReluOp, x: np.ndarray) -> np.ndarray:
    return np.maximum(x, np.float32(0))


@_kernel(graph.ClampOp)
def clamp(op: graph.ClampOp, x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, _f32(op.min)), _f32(op.max))


@_kernel(graph.SigmoidOp)
def sigmoid(op: graph.SigmoidOp, x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-x) = inf gives the right 0
        return 1.0 / (1.0 + np.exp(-_f64(x)))


@_kernel(graph.TanhOp)
def tanh(op: graph.TanhOp, x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


@_kernel(graph.ExpOp)
def exp(op: graph.ExpOp, x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.exp(x)


@_kernel(graph.HardSigmoidOp)
def hard_sigmoid(op: graph.HardSigmoidOp, x: np.ndarray) -> np.ndarray:
    return np.clip(_f32(op.alpha) * x + _f32(op.beta), 0, 1)


@_kernel(graph.HardSwishOp)
def hard_swish(op: graph.HardSwishOp, x: np.ndarray) -> np.ndarray:
    return x * np.clip(_f64(x) + 3, 0, 6) / 6


_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is exact


@_kernel(graph.GeluOp)
def gelu(op: graph.GeluOp, x: np.ndarray) -> np.ndarray:
    x = _f64(x)
    if op.approximate.data == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)).astype(np.float64))


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = _f64(x) - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@_kernel(graph.SoftmaxOp)
def softmax(op: graph.SoftmaxOp, x: np.ndarray) -> np.ndarray:
    return np.exp(_log_softmax(x, op.axis.value.data))


@_kernel(graph.LogSoftmaxOp)
def log_softmax(op: graph.LogSoftmaxOp, x: np.ndarray) -> np.ndarray:
    return _log_softmax(x, op.axis.value.data)


# Pooling.


@_kernel(graph.MaxPool2DOp)
def max_pool2d(op: graph.MaxPool2DOp, x: np.ndarray) -> np.ndarray:
    # Padding never wins over an input cell: it is the lowest float32. Not
    # -inf: a dilated window may hold only padding, and onnxruntime (whose
    # max starts from the lowest float) gives the lowest float there.
    lowest = np.finfo(np.float32).min
    windows = _Windows.of(op, op.kernel.get_values()).view(x, lowest, lowest)
    return windows.max(axis=(-2, -1))


@_kernel(graph.AvgPool2DOp)
def avg_pool2d(op: graph.AvgPool2DOp, x: np.ndarray) -> np.ndarray:
    """Sum over the window, divided by the number of cells that count.

    Input cells always count; padding cells only with count_include_pad;
    cells past the padded end, which ceil-mode windows reach, never do
    (onnxruntime's behaviour, and ONNX's reference).
    """
    sums, counts = avg_pool2d_sums(op, x)
    return sums / counts


def avg_pool2d_sums(op: graph.AvgPool2DOp, x: np.ndarray):
    """The sum over each window (float64, exact on integers) and the number
    of cells that count there (broadcastable to the sums)."""
    windows = _Windows.of(op, op.kernel.get_values())
    sums = windows.view(_f64(x), 0.0, 0.0).sum(axis=(-2, -1))
    pad_counts = 1.0 if op.count_include_pad is not None else 0.0
    cells = np.ones((1, *x.shape[1:3], 1))
    counts = windows.view(cells, pad_counts, 0.0).sum(axis=(-2, -1))
    return sums, counts


@_kernel(graph.GlobalAvgPoolOp)
def global_avg_pool(op: graph.GlobalAvgPoolOp, x: np.ndarray) -> np.ndarray:
    return np.mean(x, axis=(1, 2), keepdims=True, dtype=np.float64)


@_kernel(graph.GlobalMaxPoolOp)
def global_max_pool(op: graph.GlobalMaxPoolOp, x: np.ndarray) -> np.ndarray:
    return np.max(x, axis=(1, 2), keepdims=True)


# Data movement.


@_kernel(graph.ReshapeOp)
def reshape(op: graph.ReshapeOp, x: np.ndarray) -> np.ndarray:
    return x.reshape(graph.shape_of(op.result))


@_kernel(graph.TransposeOp)
def transpose(op: graph.TransposeOp, x: np.ndarray) -> np.ndarray:
    return np.transpose(x, op.perm.get_values())


@_kernel(graph.ConcatOp)
def concat(op: graph.ConcatOp, *inputs: np.ndarray) -> np.ndarray:
    return np.concatenate(inputs, axis=op.axis.value.data)


@_kernel(graph.PadOp)
def pad(op: graph.PadOp, x: np.ndarray) -> np.ndarray:
    pads = op.pads.get_values()
    widths = list(zip(pads[: x.ndim], pads[x.ndim :], strict=True))
    if op.mode.data == "constant":
        return np.pad(x, widths, constant_values=_f32(op.value))
    return np.pad(x, widths, mode=op.mode.data)


@_kernel(graph.SliceOp)
def slice_(op: graph.SliceOp, x: np.ndarray) -> np.ndarray:
    # Normalized bounds may end at -1 (a negative step down to index 0), which
    # a Python slice would read as "the last element": index explicitly, with
    # the very ranges `graph.slice_shape` counts.
    ranges = zip(
        op.starts.get_values(), op.ends.get_values(), op.steps.get_values(), strict=True
    )
    return x[np.ix_(*(np.arange(s, e, st) for s, e, st in ranges))]


def _reduce_args(op: graph.ReduceOp) -> dict[str, Any]:
    return {"axis": op.axes.get_values(), "keepdims": op.keepdims is not None}


@_kernel(graph.ReduceMeanOp)
def reduce_mean(op: graph.ReduceMeanOp, x: np.ndarray) -> np.ndarray:
    return np.mean(x, dtype=np.float64, **_reduce_args(op))


@_kernel(graph.ReduceSumOp)
def reduce_sum(op: graph.ReduceSumOp, x: np.ndarray) -> np.ndarray:
    return np.sum(x, dtype=np.float64, **_reduce_args(op))


@_kernel(graph.ReduceMaxOp)
def reduce_max(op: graph.ReduceMaxOp, x: np.ndarray) -> np.ndarray:
    return np.max(x, **_reduce_args(op))


# Normalization and resampling.


@_kernel(graph.BatchNormOp)
def batch_norm(op: graph.BatchNormOp, x, scale, bias, mean, variance) -> np.ndarray:
    epsilon = float(_f32(op.epsilon))
    return (_f64(x) - mean) / np.sqrt(_f64(variance) + epsilon) * scale + bias


def _source_coordinates(
    mode: str, out_len: int, in_len: int, scale: float
) -> np.ndarray:
    """ONNX Resize's coordinate transform, in float32 and in onnxruntime's
    order of operations: which neighbour is nearest depends on the rounding."""
    x, s = np.arange(out_len, dtype=np.float32), np.float32(scale)
    half = np.float32(0.5)
    if out_len == 1 and mode in ("align_corners", "pytorch_half_pixel"):
        return np.zeros(1, np.float32)
    if mode == "asymmetric":
        return x / s
    if mode == "align_corners":
        return x * np.float32(in_len - 1) / np.float32(out_len - 1)
    if mode == "half_pixel_symmetric":
        adjustment = np.float32(out_len) / (s * np.float32(in_len))
        offset = np.float32(in_len) / 2 * (1 - adjustment)
        return (offset + (_f64(x) + 0.5) / s - 0.5).astype(np.float32)
    return (x + half) / s - half  # half_pixel and pytorch_half_pixel


def _nearest_indices(coords: np.ndarray, mode: str, in_len: int) -> np.ndarray:
    if mode == "floor":
        indices = np.floor(coords)
    elif mode == "ceil":
        indices = np.ceil(coords)
    elif mode == "round_prefer_ceil":
        indices = np.floor(coords + np.float32(0.5))
    else:  # round_prefer_floor
        indices = np.ceil(coords - np.float32(0.5))
    return np.clip(indices, 0, in_len - 1).astype(np.int64)


def _resize_axis(op: graph.ResizeOp, x: np.ndarray, axis: int, scale: float):
    """Resize `x` along one axis (separable: bilinear = linear along H, then W)."""
    in_len, out_len = x.shape[axis], graph.shape_of(op.result)[axis]
    coords = _source_coordinates(op.coordinate_mode.data, out_len, in_len, scale)
    if op.mode.data == "nearest":
        indices = _nearest_indices(coords, op.nearest_mode.data, in_len)
        return np.take(x, indices, axis=axis)
    # Linear: outside the input, the edge value (coordinates are clamped).
    coords = np.clip(_f64(coords), 0, in_len - 1)
    low = np.floor(coords).astype(np.int64)
    high = np.minimum(low + 1, in_len - 1)
    weight = (coords - low).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    return (
        np.take(x, low, axis=axis) * (1 - weight) + np.take(x, high, axis=axis) * weight
    )


@_kernel(graph.ResizeOp)
def resize(op: graph.ResizeOp, x: np.ndarray) -> np.ndarray:
    scale_h, scale_w = op.scales.get_values()
    return _resize_axis(op, _resize_axis(op, x, 1, scale_h), 2, scale_w)


@_kernel(graph.QuantizeOp, graph.DequantizeOp)
def identity(op: graph.QuantizeOp | graph.DequantizeOp, x: np.ndarray) -> np.ndarray:
    """Both are the identity on real values: `evaluate_op` does the work."""
    return x
