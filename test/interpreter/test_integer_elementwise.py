"""The numpy integer elementwise kernels against independent oracles.

TFLite's kernels approximate the real function with fixed point, so their
oracle is the real function (float64 or exact `Fraction` arithmetic) within
1 LSB, on every int8 input of a unary op and every pair of a binary one. The
`onnx` kernels promise one rounding, half to even, of the exact result: the
oracle is `Fraction` arithmetic, exact but where the exact result lies
within the documented error of a tie. Where TFLite's result is known
exactly (RELU, RELU6 on the input's type) it is compared exactly.

(Bit-exactness with TFLite Micro itself was checked outside the test suite,
against the `tflite-micro` Python interpreter on single-op models.)
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects.builtin import FloatAttr, TensorType, f32
from xdsl.ir import Block, Operation

from tinycc.dialects import graph
from tinycc.dialects.quant import PER_TENSOR, UniformQuantizedType
from tinycc.interpreter.integer import INTEGER_KERNELS
from tinycc.interpreter.integer_elementwise import lookup_table

INT8 = np.arange(-128, 128)
A, B = (g.ravel() for g in np.meshgrid(INT8, INT8))  # every int8 pair


def qtensor(scale: float, zp: int, shape=(256,)) -> TensorType:
    return TensorType(UniformQuantizedType("i8", [scale], [zp], PER_TENSOR), shape)


def f32_value(x: float) -> float:
    return float(np.float32(x))


def unary(op_type, input_q, output_q, **properties) -> Operation:
    block = Block(arg_types=[qtensor(*input_q)])
    return op_type.create(
        operands=[block.args[0]],
        result_types=[qtensor(*output_q)],
        properties={k: FloatAttr(v, f32) for k, v in properties.items()},
    )


def binary(op_type, a_q, b_q, out_q, shape=(65536,), **clamp) -> Operation:
    block = Block(arg_types=[qtensor(*a_q, shape), qtensor(*b_q, shape)])
    return op_type.create(
        operands=list(block.args),
        result_types=[qtensor(*out_q, shape)],
        properties={k: FloatAttr(v, f32) for k, v in clamp.items()},
    )


def requantized(real: np.ndarray, output_q) -> np.ndarray:
    """The real result quantized (ties either way), clamped to int8."""
    scale, zp = output_q
    return np.clip(real / scale + zp, -128, 127)


def assert_within_one(got: np.ndarray, real_steps: np.ndarray) -> None:
    assert np.abs(got.astype(np.float64) - real_steps).max() < 1 + 1e-9


SCALES = [(0.05, 3), (0.1, -10), (0.02, 0), (0.2, 100), (0.0039, -128), (1.0, 0)]


@pytest.mark.parametrize("input_q", SCALES)
def test_tflite_logistic_within_one_lsb(input_q) -> None:
    output_q = (1 / 256, -128)
    table = lookup_table(unary(graph.SigmoidOp, input_q, output_q), "tflite")
    real = 1 / (1 + np.exp(-(INT8 - input_q[1]) * f32_value(input_q[0])))
    assert_within_one(table, requantized(real, output_q))
    assert np.all(np.diff(table.astype(int)) >= 0)


@pytest.mark.parametrize("input_q", SCALES)
def test_tflite_tanh_within_one_lsb(input_q) -> None:
    output_q = (1 / 128, 0)
    table = lookup_table(unary(graph.TanhOp, input_q, output_q), "tflite")
    real = np.tanh((INT8 - input_q[1]) * f32_value(input_q[0]))
    assert_within_one(table, requantized(real, output_q))
    assert np.all(np.diff(table.astype(int)) >= 0)


@pytest.mark.parametrize(
    "input_q, output_q", [((0.05, 3), (0.04, -90)), ((0.1, 0), (0.1, -100))]
)
def test_tflite_hard_swish_and_leaky_relu_within_one_lsb(input_q, output_q) -> None:
    real_x = (INT8 - input_q[1]) * f32_value(input_q[0])
    hard_swish = real_x * np.clip(real_x + 3, 0, 6) / 6
    table = lookup_table(unary(graph.HardSwishOp, input_q, output_q), "tflite")
    assert_within_one(table, requantized(hard_swish, output_q))
    leaky = np.where(real_x < 0, 0.2 * real_x, real_x)
    op = unary(graph.LeakyReluOp, input_q, output_q, alpha=0.2)
    assert_within_one(lookup_table(op, "tflite"), requantized(leaky, output_q))


def test_tflite_relu_and_relu6_on_the_input_type_are_exact() -> None:
    q = (0.05, -7)
    relu = lookup_table(unary(graph.ReluOp, q, q), "tflite")
    np.testing.assert_array_equal(relu, np.maximum(INT8, -7))
    relu6 = lookup_table(unary(graph.ClampOp, q, q, min=0.0, max=6.0), "tflite")
    six = -7 + 120  # 6 / 0.05
    np.testing.assert_array_equal(relu6, np.clip(INT8, -7, six))


def away(q: Fraction) -> int:
    return int(math.copysign(math.floor(abs(q) + Fraction(1, 2)), q))


@pytest.mark.parametrize("rounding, rule", [("tflite", away), ("onnx", round)])
def test_functions_without_a_tflite_kernel_are_rounded_reals(rounding, rule) -> None:
    """EXP (and a sigmoid on another output type than TFLite's): the real
    function, rounded half away from zero (tflite) or to even (onnx)."""
    input_q, output_q = (0.125, 0), (0.25, -128)
    op = unary(graph.ExpOp, input_q, output_q)
    steps = [Fraction(math.exp(i * 0.125)) / Fraction(0.25) for i in range(-128, 128)]
    expected = [min(127, rule(s) - 128) for s in steps]
    np.testing.assert_array_equal(lookup_table(op, rounding), expected)
    sigmoid = unary(graph.SigmoidOp, input_q, (0.5 / 128, 0))
    real = 1 / (1 + np.exp(-INT8 * 0.125))
    assert_within_one(
        lookup_table(sigmoid, rounding), requantized(real, (0.5 / 128, 0))
    )


def exact_steps(a, b, a_q, b_q, out_q, sign=1) -> list[Fraction]:
    """The exact sum (difference) in output steps, before the zero point."""
    (sa, za), (sb, zb), so = a_q, b_q, out_q[0]
    fa, fb, fo = Fraction(sa), Fraction(sb), Fraction(so)
    return [
        ((int(x) - za) * fa + sign * (int(y) - zb) * fb) / fo
        for x, y in zip(a, b, strict=True)
    ]


QUANTS = [
    ((0.04, 3), (0.11, -20), (0.1, 5)),
    ((0.05, -128), (0.05, -128), (0.1, -128)),
    ((0.3, 10), (0.001, 0), (0.2, 0)),
]


@pytest.mark.parametrize("a_q, b_q, out_q", QUANTS)
@pytest.mark.parametrize("op_type, sign", [(graph.AddOp, 1), (graph.SubOp, -1)])
def test_tflite_add_sub_within_one_lsb_of_the_real_result(
    op_type, sign, a_q, b_q, out_q
) -> None:
    a_q, b_q, out_q = (tuple((f32_value(s), z)) for s, z in (a_q, b_q, out_q))
    op = binary(op_type, a_q, b_q, out_q)
    got = INTEGER_KERNELS[op_type](op, "tflite", A, B)
    real = (A - a_q[1]) * a_q[0] + sign * (B - b_q[1]) * b_q[0]
    assert_within_one(got, requantized(real, out_q))


def test_tflite_mul_within_one_lsb_of_the_real_product() -> None:
    a_q, b_q, out_q = (0.04, 3), (0.11, -20), (0.3, 5)
    op = binary(graph.MulOp, a_q, b_q, out_q)
    got = INTEGER_KERNELS[graph.MulOp](op, "tflite", A, B)
    real = (A - 3) * f32_value(0.04) * (B + 20) * f32_value(0.11)
    assert_within_one(got, requantized(real, (f32_value(0.3), 5)))


@pytest.mark.parametrize("rounding", ["tflite", "onnx"])
def test_prelu_within_one_lsb_of_the_real_result(rounding) -> None:
    x_q, slope_q, out_q = (0.04, 3), (0.01, -20), (0.03, -10)
    op = binary(graph.PReluOp, x_q, slope_q, out_q)
    got = INTEGER_KERNELS[graph.PReluOp](op, rounding, A, B)
    x = (A - 3) * f32_value(0.04)
    real = np.where(x >= 0, x, x * (B + 20) * f32_value(0.01))
    assert_within_one(got, requantized(real, (f32_value(0.03), -10)))


def test_fused_clamp_bounds_the_sum() -> None:
    q = (0.05, -20)
    op = binary(graph.AddOp, q, q, q, clamp_min=0.0, clamp_max=1.0)
    for rounding in ("tflite", "onnx"):
        got = INTEGER_KERNELS[graph.AddOp](op, rounding, A, B)
        assert got.min() == -20 and got.max() == 0


float32_scales = st.floats(1e-3, 1.0).map(f32_value)
zero_points = st.integers(-128, 127)
quantizations = st.tuples(float32_scales, zero_points)
int8s = st.lists(st.integers(-128, 127), min_size=16, max_size=16)


def assert_rounds_exact_half_to_even(got, steps: list[Fraction], zp, slack) -> None:
    """`got` is the exact result rounded half to even, plus the zero point,
    clamped; except within `slack` of a tie (the documented error)."""
    for value, q in zip(got, steps, strict=True):
        if abs(q - math.floor(q) - Fraction(1, 2)) < slack:
            continue
        assert value == min(127, max(-128, round(q) + zp))


@settings(max_examples=200, deadline=None)
@given(quantizations, quantizations, quantizations, int8s, int8s, st.booleans())
def test_onnx_add_sub_round_the_exact_result_once(a_q, b_q, out_q, a, b, subtract):
    op_type, sign = (graph.SubOp, -1) if subtract else (graph.AddOp, 1)
    op = binary(op_type, a_q, b_q, out_q, shape=(16,))
    got = INTEGER_KERNELS[op_type](op, "onnx", np.array(a), np.array(b))
    ratio = max(a_q[0], b_q[0]) / out_q[0]
    slack = Fraction(255 * ratio) / 2**29  # ExactAdd's bound, with room
    steps = exact_steps(a, b, a_q, b_q, out_q, sign)
    assert_rounds_exact_half_to_even(got, steps, out_q[1], slack)


@settings(max_examples=200, deadline=None)
@given(quantizations, quantizations, quantizations, int8s, int8s)
def test_onnx_mul_rounds_the_exact_product_once(a_q, b_q, out_q, a, b) -> None:
    op = binary(graph.MulOp, a_q, b_q, out_q, shape=(16,))
    got = INTEGER_KERNELS[graph.MulOp](op, "onnx", np.array(a), np.array(b))
    (sa, za), (sb, zb), (so, zo) = a_q, b_q, out_q
    steps = [
        (x - za) * (y - zb) * Fraction(sa) * Fraction(sb) / Fraction(so)
        for x, y in zip(a, b, strict=True)
    ]
    # The 31-bit multiplier is within 2^-31 relative of the real one.
    slack = Fraction(65025 * sa * sb / so) / 2**30
    assert_rounds_exact_half_to_even(got, steps, zo, slack)


@pytest.mark.parametrize("op_type", [graph.AddOp, graph.SubOp, graph.MulOp])
def test_onnx_ties_go_to_even(op_type) -> None:
    """Power-of-two scale ratios make the fixed point exact, ties included."""
    a_q, b_q, out_q = (0.5, 1), (0.25, -2), (2.0, 3)
    a, b = (g.ravel() for g in np.meshgrid(INT8[::3], INT8[1::3]))
    op = binary(op_type, a_q, b_q, out_q, shape=a.shape)
    got = INTEGER_KERNELS[op_type](op, "onnx", a, b)
    if op_type is graph.MulOp:
        steps = [Fraction((x - 1) * (y + 2), 16) for x, y in zip(a, b, strict=True)]
    else:
        sign = 1 if op_type is graph.AddOp else -1
        steps = exact_steps(a, b, a_q, b_q, out_q, sign)
    assert_rounds_exact_half_to_even(got, steps, 3, slack=0)
