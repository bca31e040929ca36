"""Integer elementwise kernels: add, sub, mul and prelu with numpy
broadcasting, and the unary activations as a table lookup (`tinycc.
interpreter.integer_elementwise` is the numpy twin and defines the
arithmetic).

    ADD/SUB, tflite:                  for i0, ..., in:
      a = (x[bcast(i)] - zp_x) << 20        b = (w[bcast(i)] - zp_w) << 20
      acc = rescale_x(a) +- rescale_w(b)    i32, each rescaled to 2 max(s_x, s_w)
      y[i] = clamp(rescale_y(acc) + zp_y)

    ADD/SUB, onnx:
      acc = (x[bcast(i)] - zp_x) * M_x + (w[bcast(i)] - zp_w) * M_w    i64
      y[i] = clamp(round_half_even(acc / 2^E) + zp_y)

    MUL:
      y[i] = clamp(rescale((x[bcast(i)] - zp_x) * (w[bcast(i)] - zp_w)) + zp_y)

    PRELU:
      v = x[i] - zp_x
      y[i] = clamp((v >= 0 ? rescale_1(v) : rescale_2(v * (s[bcast(i)] - zp_s))) + zp_y)

    unary (relu, clamp, leaky_relu, sigmoid, tanh, exp, hard_sigmoid,
    hard_swish, gelu):
      y[i] = table[x[i] + 128]              `<layer>_table`, 256 entries

The clamp is the result type's range narrowed by the fused activation. A
table holds `lookup_table(op, rounding)`, the numpy reference's result for
every int8 input, so the C computes the reference's values by construction.
"""

from __future__ import annotations

from xdsl.dialects.builtin import i32, i64
from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.integer import Rounding
from tinycc.integer.params import output_multipliers, qtype, zero_point
from tinycc.interpreter.integer_elementwise import (
    UNARY_OPS,
    ExactAdd,
    TfliteAdd,
    lookup_table,
    prelu_multipliers,
    require_int8,
)
from tinycc.kernels.builder import Index, KernelBuilder, Scalar, shape
from tinycc.kernels.elementwise import broadcast_indices
from tinycc.kernels.fixedpoint import rescale, round_half_even_shift
from tinycc.kernels.quantized import load_centered, store_clamped, store_requantized


def _operands(
    kb: KernelBuilder, op: graph.BinaryOp, inputs: list[SSAValue], at: list[Index]
) -> tuple[Scalar, Scalar]:
    """Both operands at result position `at`, broadcast, centered, as i32."""
    a, b = inputs
    av = load_centered(kb, a, broadcast_indices(shape(a), at), zero_point(op.lhs), "av")
    bv = load_centered(kb, b, broadcast_indices(shape(b), at), zero_point(op.rhs), "bv")
    return av, bv


def add(
    kb: KernelBuilder,
    op: graph.AddOp | graph.SubOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    if rounding == "onnx":
        _exact_add(kb, op, inputs, y, ExactAdd.of(op))
        return
    require_int8(op, rounding)
    params = TfliteAdd.of(op)
    for at in kb.grid(shape(y)):
        av, bv = _operands(kb, op, inputs, at)
        sa = rescale(kb, av << params.LEFT_SHIFT, params.lhs, None, rounding)
        sb = rescale(kb, bv << params.LEFT_SHIFT, params.rhs, None, rounding)
        acc = (sa - sb if params.subtract else sa + sb).named("acc")
        store_requantized(kb, op, acc, params.output, None, rounding, y, at)


def _exact_add(
    kb: KernelBuilder,
    op: graph.AddOp | graph.SubOp,
    inputs: list[SSAValue],
    y: SSAValue,
    exact: ExactAdd,
) -> None:
    for at in kb.grid(shape(y)):
        av, bv = _operands(kb, op, inputs, at)
        acc = kb.convert(av, i64) * exact.lhs + kb.convert(bv, i64) * exact.rhs
        scaled = round_half_even_shift(kb, acc.named("acc"), exact.exponent)
        value = kb.convert(scaled, i32, "scaled") + zero_point(op.result)
        store_clamped(kb, op, value, "onnx", y, at)


def mul(
    kb: KernelBuilder,
    op: graph.MulOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    require_int8(op, rounding)
    multipliers = output_multipliers(op.lhs, op.rhs, op.result)
    for at in kb.grid(shape(y)):
        av, bv = _operands(kb, op, inputs, at)
        product = (av * bv).named("prod")
        store_requantized(kb, op, product, multipliers, None, rounding, y, at)


def prelu(
    kb: KernelBuilder,
    op: graph.PReluOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    require_int8(op, rounding)
    x, slope = inputs
    identity, sloped = prelu_multipliers(op)
    for at in kb.grid(shape(y)):
        xv = load_centered(kb, x, at, zero_point(op.input), "xv")
        slope_at = broadcast_indices(shape(slope), at)
        sv = load_centered(kb, slope, slope_at, zero_point(op.slope), "sv")
        positive = rescale(kb, xv, identity, None, rounding)
        negative = rescale(kb, (xv * sv).named("prod"), sloped, None, rounding)
        scaled = kb.select(kb.compare("ge", xv, 0), positive, negative)
        store_clamped(kb, op, scaled + zero_point(op.result), rounding, y, at)


def lookup(
    kb: KernelBuilder,
    op: graph.UnaryOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    (x,) = inputs
    low, high = qtype(op.input).storage_range
    if high - low >= 256:
        raise TinyccError(
            f"{op.name}: integer lookup tables are for 8-bit inputs, not "
            f"{qtype(op.input).storage_name}"
        )
    table = kb.table("table", lookup_table(op, rounding), qtype(op.result).storage)
    for at in kb.grid(shape(y)):
        xv = kb.convert(kb.load(x, at, "xv"), i32)
        entry = kb.index_of(xv - low, 0, high - low).named("entry")
        kb.store(kb.load(table, [entry], "yv"), y, at)


INTEGER_KERNELS = {
    graph.AddOp: add,
    graph.SubOp: add,
    graph.MulOp: mul,
    graph.PReluOp: prelu,
    **dict.fromkeys(UNARY_OPS, lookup),
}
