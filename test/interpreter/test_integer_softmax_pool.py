"""The numpy integer softmax and pooling against independent oracles.

The int8 softmax (TFLite's algorithm, and the onnx mode's fixed point)
against the float softmax of the dequantized row, quantized; average pooling
against exact rational arithmetic with Python's Fraction.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_interpreter_ops import make_op, pool_configs, pool_props
from xdsl.dialects.builtin import IntegerAttr, TensorType, UnitAttr

from tinycc.dialects import graph
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.errors import TinyccError
from tinycc.integer import Rounding
from tinycc.interpreter.integer_pool import avg_pool2d
from tinycc.interpreter.integer_softmax import log_softmax, softmax

EXAMPLES = settings(max_examples=80, deadline=None)
SEEDS = st.integers(0, 2**16)
ROUNDINGS = st.sampled_from(["tflite", "onnx"])


def int8(scale: float, zero_point: int) -> UniformQuantizedType:
    return UniformQuantizedType("i8", [float(np.float32(scale))], [zero_point], -1)


def tensor(element: UniformQuantizedType, shape) -> TensorType:
    return TensorType(element, list(shape))


# Softmax -------------------------------------------------------------------------


def _softmax_op(
    shape, axis: int, input_type, output_type, op_type=graph.SoftmaxOp
) -> graph.AxisUnaryOp:
    return make_op(
        op_type,
        [tensor(input_type, shape)],
        tensor(output_type, shape),
        axis=IntegerAttr(axis, 64),
    )


def _float_log_softmax(x: np.ndarray, scale: float, zero_point: int, axis: int):
    real = (x.astype(np.float64) - zero_point) * float(np.float32(scale))
    shifted = real - real.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _float_softmax(x: np.ndarray, scale: float, zero_point: int, axis: int):
    return np.exp(_float_log_softmax(x, scale, zero_point, axis))


softmax_cases = st.tuples(
    st.floats(2**-10, 2.0),  # input scale
    st.integers(-128, 127),  # input zero point
    st.integers(1, 40),  # row length
    SEEDS,
)


@EXAMPLES
@given(softmax_cases, st.sampled_from([1 / 256, 1 / 255, 1 / 200]))
@example((2.0, 0, 2, 0), 1 / 256)  # logits far apart: one 1, one 0
def test_tflite_softmax_is_within_one_lsb(case, output_scale: float) -> None:
    """TFLite's algorithm, and our requantization of its probabilities to
    another output scale, against the quantized float softmax."""
    scale, zero_point, length, seed = case
    x = np.random.default_rng(seed).integers(-128, 128, (3, length), np.int8)
    op = _softmax_op(x.shape, 1, int8(scale, zero_point), int8(output_scale, -128))
    got = softmax(op, "tflite", x).astype(np.int64)
    want = _float_softmax(x, scale, zero_point, 1) / float(np.float32(output_scale))
    assert np.abs(got + 128 - want).max() <= 1.0


@EXAMPLES
@given(softmax_cases, st.sampled_from([1 / 256, 1 / 255, 0.0123]))
def test_onnx_softmax_rounds_the_exact_softmax(case, output_scale: float) -> None:
    """`round_half_even(p / s_out) + zp`: exactly that, but where `p / s_out`
    is within 2^-16 of a tie (the table holds exp to 2^-30)."""
    scale, zero_point, length, seed = case
    x = np.random.default_rng(seed).integers(-128, 128, (3, length), np.int8)
    op = _softmax_op(x.shape, 0, int8(scale, zero_point), int8(output_scale, -100))
    got = softmax(op, "onnx", x.T.copy()).T.astype(np.int64)
    real = _float_softmax(x, scale, zero_point, 1) / float(np.float32(output_scale))
    want = np.clip(np.rint(real) - 100, -128, 127)
    near_tie = np.abs(real - np.floor(real) - 0.5) < 2**-16
    assert np.all((got == want) | near_tie)
    assert np.abs(got - want).max() <= 1


@EXAMPLES
@given(softmax_cases, st.sampled_from([(16 / 256, 127), (0.05, 100), (1 / 64, 127)]))
def test_log_softmax_is_within_one_lsb(case, output) -> None:
    """TFLite's int8 log-softmax (its own output quantization, and others
    covering no more than its [-16, 0]) and the onnx mode's: within 1 LSB of
    the quantized float log-softmax; the onnx mode exact but near ties."""
    scale, zero_point, length, seed = case
    x = np.random.default_rng(seed).integers(-128, 128, (3, length), np.int8)
    output_type = int8(*output)
    op = _softmax_op(
        x.shape, 1, int8(scale, zero_point), output_type, graph.LogSoftmaxOp
    )
    real = _float_log_softmax(x, scale, zero_point, 1) / output_type.scale_values[0]
    want = np.clip(np.rint(real) + output[1], -128, 127)
    for rounding in ("tflite", "onnx"):
        got = log_softmax(op, rounding, x).astype(np.int64)
        assert np.abs(got - want).max() <= 1, rounding
    near_tie = np.abs(real - np.floor(real) - 0.5) < 2**-12
    assert np.all((got == want) | near_tie)


def test_tflite_log_softmax_rejects_outputs_below_its_range() -> None:
    op = _softmax_op((2, 5), 1, int8(0.1, 0), int8(0.2, 0), graph.LogSoftmaxOp)
    with pytest.raises(TinyccError, match="below the -16.0"):
        log_softmax(op, "tflite", np.zeros((2, 5), np.int8))


# Average pooling -----------------------------------------------------------------


def _round_half_away(value: Fraction) -> int:
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def _round_half_even(value: Fraction) -> int:
    return round(value)  # Fraction.__round__ ties to even


def _exact_average(x, zp, kernel, strides, pads, include_pad, out_shape, rounding):
    """The stored averages, window by window, in exact arithmetic."""
    _, height, width, channels = x.shape
    top, left, bottom, right = pads
    result = np.zeros(out_shape, np.int64)
    for n, oh, ow, c in np.ndindex(*out_shape):
        total, count = 0, 0
        for kh in range(kernel[0]):
            for kw in range(kernel[1]):
                h, w = oh * strides[0] - top + kh, ow * strides[1] - left + kw
                inside = 0 <= h < height and 0 <= w < width
                padded = h < height + bottom and w < width + right
                if inside:
                    total, count = total + int(x[n, h, w, c]) - zp, count + 1
                elif include_pad and padded:
                    count += 1
        average = Fraction(total, count)
        if rounding == "tflite":  # TFLite divides the stored values
            stored = _round_half_away(average + zp)
        else:
            stored = _round_half_even(average) + zp
        result[n, oh, ow, c] = min(max(stored, -128), 127)
    return result


@EXAMPLES
@given(
    pool_configs(dilated=False), st.booleans(), st.integers(-128, 127), SEEDS, ROUNDINGS
)
# Ceil-mode windows reaching past the end padding, padding counted.
@example(((3, 3), (2, 2), (1, 1), [0, 0, 1, 1], [6, 6], True), True, 3, 0, "tflite")
@example(((2, 2), (2, 2), (1, 1), [1, 1, 1, 1], [3, 3], False), True, -5, 1, "onnx")
def test_avg_pool2d_matches_exact_rounding(
    config, include_pad: bool, zp: int, seed: int, rounding: Rounding
) -> None:
    kernel, strides, _, pads, (h, w), ceil_mode = config
    x = np.random.default_rng(seed).integers(-128, 128, (2, h, w, 3), np.int8)
    props = pool_props(kernel, strides, pads, ceil_mode)
    if include_pad:
        props["count_include_pad"] = UnitAttr()
    out_shape = graph.pool2d_shape(x.shape, kernel, strides, (1, 1), pads, ceil_mode)
    q = int8(0.05, zp)
    op = make_op(graph.AvgPool2DOp, [tensor(q, x.shape)], tensor(q, out_shape), **props)
    want = _exact_average(
        x, zp, kernel, strides, pads, include_pad, out_shape, rounding
    )
    np.testing.assert_array_equal(avg_pool2d(op, rounding, x), want)
