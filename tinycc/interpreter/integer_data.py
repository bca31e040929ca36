"""Integer kernels of the ops that move data: reshape, transpose, concat, pad,
slice and resize.

A stored integer stands for the same real number wherever it moves, so with
the result quantized like its operand these ops are the float kernels
(`tinycc.interpreter.kernels`) applied to the stored integers: exact in both
rounding modes. An operand quantized differently is first requantized to the
result's type, `clamp(rescale(q - zp_in) + zp_out)` with the multiplier
`s_in / s_out`; in `tflite` mode that is TFLite's QUANTIZE op on int8 (its
`Requantize`), which the TFLite converter puts before a concatenation whose
inputs differ in scale, since TFLite's and TFLM's int8 CONCATENATION require
equal scales and zero points. Equal scales only shift the zero point.

Resize reads its source cells through tables computed at compile time from
the output index, one per spatial axis, so that the C code has no float
arithmetic:

- nearest: the source index, ONNX's coordinate transform and rounding (the
  float kernel's own functions): data movement again.
- linear: the two neighbours and the weight of the upper one in `2^b` units.
  `tflite` mode is TFLite's `ResizeBilinearInteger` (TFLM's int8
  RESIZE_BILINEAR): TFLite's integer coordinates (`b = 10`), products of the
  stored values with both weights, rounded half away from zero. `onnx` mode
  takes ONNX's float coordinates to `b = 15` bits and rounds the centered
  interpolation half to even.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.integer import Rounding
from tinycc.integer.fixedpoint import (
    divide_truncating,
    rescale,
    round_half_even_shift,
)
from tinycc.integer.params import (
    Multipliers,
    qtype,
    round_half,
    scale,
    scales,
    zero_point,
)
from tinycc.interpreter.integer import integer_kernel, store
from tinycc.interpreter.kernels import (
    KERNELS,
    _nearest_indices,
    _source_coordinates,
)

# Fraction bits of a linear resize's weights, per axis.
LINEAR_FRACTION_BITS: dict[Rounding, int] = {"tflite": 10, "onnx": 15}

# ONNX coordinate modes as TFLite's (align_corners, half_pixel_centers).
_TFLITE_COORDINATES = {
    "asymmetric": (False, False),
    "align_corners": (True, False),
    "half_pixel": (False, True),
    "pytorch_half_pixel": (False, True),
}


# What the kernels support ----------------------------------------------------------


def check(op: graph.GraphOp, rounding: Rounding) -> None:
    """Raise a TinyccError saying why the kernels here (numpy and C) cannot
    compute `op`, if they cannot."""
    reason = unsupported(op, rounding)
    if reason is not None:
        raise TinyccError(f"{op.name}: {reason}")


def unsupported(op: graph.GraphOp, rounding: Rounding) -> str | None:
    """Why the kernels here cannot compute `op`, or None."""
    if any(qtype(v).is_per_axis for v in (*op.operands, *op.results)):
        return "per-axis quantized activations are not supported"
    if not isinstance(op, graph.ResizeOp) or op.mode.data == "nearest":
        return None
    if qtype(op.input) != qtype(op.result):
        return (
            "an int8 linear resize must keep its input's quantization (as "
            "TFLite's RESIZE_BILINEAR does)"
        )
    if rounding == "onnx":
        return None
    return _tflite_resize_unsupported(op)


def _tflite_resize_unsupported(op: graph.ResizeOp) -> str | None:
    """TFLite's bilinear resize knows three coordinate transforms and scales
    by the size ratio."""
    mode = op.coordinate_mode.data
    if mode not in _TFLITE_COORDINATES:
        return f"TFLite's bilinear resize has no coordinate mode '{mode}'"
    in_shape, out_shape = graph.shape_of(op.input), graph.shape_of(op.result)
    for axis, factor in zip((1, 2), op.scales.get_values(), strict=True):
        in_len, out_len = in_shape[axis], out_shape[axis]
        if mode == "pytorch_half_pixel" and out_len == 1:
            return "TFLite's bilinear resize has no pytorch_half_pixel to size 1"
        if mode != "align_corners" and not np.isclose(
            factor, out_len / in_len, rtol=1e-6, atol=0
        ):
            return (
                f"TFLite's bilinear resize scales by the size ratio {out_len}/"
                f"{in_len}, not by {factor}"
            )
    return None


# Requantizing operands ----------------------------------------------------------


def requantization(value: SSAValue, result: SSAValue) -> Multipliers | None:
    """The multiplier `s_value / s_result`, or None if the scales are equal
    (then only the zero point moves)."""
    ratio = scales(value) / scales(result)
    return None if np.all(ratio == 1.0) else Multipliers.of(ratio)


def requantized(
    stored: np.ndarray, value: SSAValue, result: SSAValue, rounding: Rounding
) -> np.ndarray:
    """Stored integers of type `value` in the quantization of `result`."""
    if qtype(value) == qtype(result):
        return np.asarray(stored)
    centered = np.asarray(stored, np.int64) - zero_point(value)
    multipliers = requantization(value, result)
    if multipliers is not None:
        centered = rescale(
            centered, multipliers.multiplier, multipliers.shift, rounding
        )
    low, high = qtype(result).storage_range
    return np.clip(centered + zero_point(result), low, high).astype(
        qtype(result).numpy_dtype
    )


def stored_pad(op: graph.PadOp, rounding: Rounding) -> graph.PadOp:
    """`op`'s properties with the pad value replaced by its stored integer in
    the result's quantization (the zero point for 0.0): what the float
    kernels, which take the value as it is, need to pad stored integers. The
    copy has no operands; only the kernels read it."""
    real = float(np.float32(op.value.value.data) / np.float32(scale(op.result)))
    low, high = qtype(op.result).storage_range
    stored = min(max(round_half(real, rounding) + zero_point(op.result), low), high)
    return graph.PadOp.create(
        properties={**op.properties, "value": graph.f32_attr(stored)}
    )


@integer_kernel(
    graph.ReshapeOp, graph.TransposeOp, graph.ConcatOp, graph.PadOp, graph.SliceOp
)
def move(op: graph.GraphOp, rounding: Rounding, *operands: np.ndarray) -> np.ndarray:
    """The float kernel on the operands requantized to the result's type."""
    check(op, rounding)
    moved = [
        requantized(stored, value, op.results[0], rounding)
        for stored, value in zip(operands, op.operands, strict=True)
    ]
    semantics = stored_pad(op, rounding) if isinstance(op, graph.PadOp) else op
    result = KERNELS[type(op)](semantics, *moved)
    return np.asarray(result, qtype(op.results[0]).numpy_dtype)


# Resize ---------------------------------------------------------------------------


def _axis_lengths(op: graph.ResizeOp, axis: int) -> tuple[int, int, float]:
    """Input length, output length and ONNX scale along spatial `axis`."""
    scale = op.scales.get_values()[axis - 1]
    return graph.shape_of(op.input)[axis], graph.shape_of(op.result)[axis], scale


def nearest_sources(op: graph.ResizeOp, axis: int) -> np.ndarray:
    """The input index each output index copies along `axis` (1: H, 2: W)."""
    in_len, out_len, scale = _axis_lengths(op, axis)
    coordinates = _source_coordinates(op.coordinate_mode.data, out_len, in_len, scale)
    return _nearest_indices(coordinates, op.nearest_mode.data, in_len)


@dataclass(frozen=True)
class LinearTaps:
    """Along one axis, per output index: the two input indices interpolated
    and the weight of `high` in `2^bits` units (`low` weighs the rest)."""

    low: np.ndarray
    high: np.ndarray
    weight: np.ndarray
    bits: int


def linear_taps(op: graph.ResizeOp, axis: int, rounding: Rounding) -> LinearTaps:
    """TFLite's integer coordinates (`tflite`) or ONNX's float ones (`onnx`)."""
    in_len, out_len, scale = _axis_lengths(op, axis)
    bits = LINEAR_FRACTION_BITS[rounding]
    if rounding == "tflite":
        fixed = _tflite_coordinates(op.coordinate_mode.data, in_len, out_len)
        low = np.maximum(divide_truncating(fixed, 1 << bits), 0)
        high = np.minimum(
            divide_truncating(fixed + (1 << bits) - 1, 1 << bits), in_len - 1
        )
        if low.max(initial=0) >= in_len:
            raise TinyccError(f"{op.name}: TFLite's resize would read past the input")
    else:
        real = _source_coordinates(op.coordinate_mode.data, out_len, in_len, scale)
        clipped = np.clip(np.asarray(real, np.float64), 0, in_len - 1)
        fixed = np.rint(clipped * (1 << bits)).astype(np.int64)
        low = fixed >> bits
        high = np.minimum(low + 1, in_len - 1)
    return LinearTaps(low, high, fixed - (low << bits), bits)


def _tflite_coordinates(mode: str, in_len: int, out_len: int) -> np.ndarray:
    """TFLite's `ComputeInterpolationValuesInteger` source coordinates in
    1/1024 units, with `ResizeBilinearInteger`'s rounded scale."""
    align_corners, half_pixel = _TFLITE_COORDINATES[mode]
    if align_corners and out_len > 1:
        scale = ((1 << 10) * (in_len - 1) + (out_len - 1) // 2) // (out_len - 1)
    else:
        scale = ((1 << 10) * in_len + out_len // 2) // out_len
    fixed = np.arange(out_len, dtype=np.int64) * scale
    return fixed + (scale // 2 - (1 << 9)) if half_pixel else fixed


def round_interpolation(acc: np.ndarray, bits: int, rounding: Rounding) -> np.ndarray:
    """`acc / 2^bits`: half away from zero as TFLite (C's truncating division
    of the nudged sum), or half to even."""
    if rounding == "onnx":
        return round_half_even_shift(acc, bits)
    nudge = np.where(acc > 0, 1 << (bits - 1), -(1 << (bits - 1)))
    return divide_truncating(acc + nudge, 1 << bits)


@integer_kernel(graph.ResizeOp)
def resize(op: graph.ResizeOp, rounding: Rounding, x: np.ndarray) -> np.ndarray:
    check(op, rounding)
    if op.mode.data == "nearest":
        moved = requantized(x, op.input, op.result, rounding)
        return moved[:, nearest_sources(op, 1)][:, :, nearest_sources(op, 2)]
    rows, cols = linear_taps(op, 1, rounding), linear_taps(op, 2, rounding)
    offset = interpolation_offset(op, rounding)
    source = np.asarray(x, np.int64) - offset
    acc = sum(
        source[:, h][:, :, w] * wh[None, :, None, None] * ww[None, None, :, None]
        for h, wh in _weighted(rows)
        for w, ww in _weighted(cols)
    )
    result = round_interpolation(acc, 2 * rows.bits, rounding) + offset
    return store(op, result, rounding)


def interpolation_offset(op: graph.ResizeOp, rounding: Rounding) -> int:
    """What is subtracted before interpolating and added back after: TFLite
    interpolates the stored values, ONNX the real ones (centered)."""
    return zero_point(op.input) if rounding == "onnx" else 0


def _weighted(taps: LinearTaps) -> Sequence[tuple[np.ndarray, np.ndarray]]:
    """`(indices, weights)` of the lower and the upper neighbour."""
    return [(taps.low, (1 << taps.bits) - taps.weight), (taps.high, taps.weight)]
