"""Integer convolution and fully connected layers (int8, per-channel weights).

    for n, oh, ow, co:                         (loops as in `conv`)
      acc = bias[co]                           i32, on the scale s_in * s_w[co]
      for taps inside the input, ic:
        acc += (x[...] - zp_x) * (w[co, ...] - zp_w[co])
      y[n, oh, ow, co] = clamp(rescale_co(acc) + zp_y)

int16 activations with int8 weights ("16x8", TFLite's mode for audio models)
accumulate in i64 and rescale with TFLite's int64 multiplier.

Padding cells are the input's zero point, a centered 0: skipping them (the
window bounds of `conv`) is exact. Symmetric weights (TFLite's rule) emit no
weight subtraction. A bias not on the accumulator's scale is rescaled at
compile time into a table (`<layer>_bias`).
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import i32, i64
from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.integer import Rounding
from tinycc.integer.params import (
    bias_in_accumulator_units,
    output_multipliers,
    qtype,
    wide_accumulator,
    zero_point,
)
from tinycc.kernels.builder import Index, KernelBuilder, Scalar, shape
from tinycc.kernels.conv import OutputPosition, output_positions
from tinycc.kernels.quantized import constant_operand, load_centered, store_requantized
from tinycc.kernels.window import fold_window


def _weight_zero_point(kb: KernelBuilder, op, co: Index) -> int | Scalar:
    """The weight zero point of output channel `co` (0 when symmetric)."""
    points = np.asarray(qtype(op.weight).zero_point_values, np.int64)
    if np.all(points == points[0]):
        return int(points[0])
    return kb.convert(kb.load(kb.table("weight_zp", points, i32), [co], "wzp"), i32)


def _bias(
    kb: KernelBuilder, op, bias: list[SSAValue], co: Index, rounding: Rounding
) -> Scalar:
    """The initial accumulator of output channel `co`: i32, or i64 in the
    16x8 kernels."""
    accumulator = i64 if wide_accumulator(op) else i32
    if not bias:
        return kb.scalar(0, accumulator)
    buffer = bias[0]
    stored = constant_operand(op.bias)
    if stored is not None:
        adjusted = bias_in_accumulator_units(
            stored, op.bias, op.input, op.weight, rounding
        )
        if not np.array_equal(adjusted, np.asarray(stored, np.int64).reshape(-1)):
            buffer = kb.table("bias", adjusted, i32)
    return kb.convert(kb.load(buffer, [co], "b"), accumulator)


def _accumulate(acc: Scalar, xv: Scalar, wv: Scalar) -> Scalar:
    """`acc + xv * wv`: the i32 product widened for an i64 accumulator."""
    product = xv * wv
    return (acc + acc.kb.convert(product, acc.type)).named("acc")


def conv2d(
    kb: KernelBuilder,
    op: graph.Conv2DOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    x, w, *bias = inputs
    multipliers = output_multipliers(op.input, op.weight, op.result)
    for at in output_positions(kb, op, x, w, y):
        acc = _taps(kb, op, x, w, at, _bias(kb, op, bias, at.co, rounding))
        cell = [at.n, at.oh, at.ow, at.co]
        store_requantized(kb, op, acc, multipliers, at.co, rounding, y, cell)


def _taps(
    kb: KernelBuilder,
    op: graph.Conv2DOp,
    x: SSAValue,
    w: SSAValue,
    at: OutputPosition,
    acc: Scalar,
) -> Scalar:
    """`acc` plus the centered products over the window of channel `co`."""
    x_zp, w_zp = zero_point(op.input), _weight_zero_point(kb, op, at.co)

    def tap(kh: Index, kw: Index, ih: Index, iw: Index, acc: Scalar) -> Scalar:
        def channel(ic: Index, acc: Scalar) -> Scalar:
            xv = load_centered(kb, x, [at.n, ih, iw, at.ci0 + ic], x_zp, "xv")
            wv = load_centered(kb, w, [at.co, kh, kw, ic], w_zp, "wv")
            return _accumulate(acc, xv, wv)

        return kb.fold(0, shape(w)[3], "ic", acc, channel)

    return fold_window(kb, at.rows, at.cols, acc, tap)


def fully_connected(
    kb: KernelBuilder,
    op: graph.FullyConnectedOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    x, w, *bias = inputs
    multipliers = output_multipliers(op.input, op.weight, op.result)
    for row in kb.grid(shape(x)[:-1]):
        for o in kb.range(0, shape(w)[0], "o"):
            acc = _dot(kb, op, x, row, w, o, _bias(kb, op, bias, o, rounding))
            store_requantized(kb, op, acc, multipliers, o, rounding, y, [*row, o])


def _dot(
    kb: KernelBuilder,
    op: graph.FullyConnectedOp,
    x: SSAValue,
    row: list[Index],
    w: SSAValue,
    o: Index,
    acc: Scalar,
) -> Scalar:
    """`acc + sum_k (x[*row, k] - zp_x) * (w[o, k] - zp_w[o])`."""
    x_zp, w_zp = zero_point(op.input), _weight_zero_point(kb, op, o)

    def product(k: Index, acc: Scalar) -> Scalar:
        xv = load_centered(kb, x, [*row, k], x_zp, "xv")
        wv = load_centered(kb, w, [o, k], w_zp, "wv")
        return _accumulate(acc, xv, wv)

    return kb.fold(0, shape(x)[-1], "k", acc, product)


INTEGER_KERNELS = {graph.Conv2DOp: conv2d, graph.FullyConnectedOp: fully_connected}
