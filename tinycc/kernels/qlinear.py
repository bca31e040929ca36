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
from tinycc.kernels.window import WindowAxis, fold_window


def _weight_zero_point(kb: KernelBuilder, op, co: Index) -> int | Scalar:
    """The weight zero point of output channel `co` (0 when symmetric)."""
    points = np.asarray(qtype(op.weight).zero_point_values, np.int64)
    if np.all(points == points[0]):
        return int(points[0])
    return kb.convert(kb.load(kb.table("weight_zp", points, i32), [co], "wzp"), i32)


def _initial(
    kb: KernelBuilder,
    op: graph.Conv2DOp | graph.FullyConnectedOp,
    bias: list[SSAValue],
    co: Index,
    rounding: Rounding,
    full_window: bool,
) -> tuple[Scalar, int]:
    """The initial accumulator of output channel `co` (i32, or i64 in the
    16x8 kernels) and the input zero point the taps subtract.

    When every tap of the window lies inside the input and the weights are
    constant, `sum (x - zp_x) * w = sum x * w - zp_x * sum w`: the second term
    folds into the bias at compile time (a `<layer>_bias` table) and the taps
    read `x` as stored, one subtraction less per multiply-accumulate. Integer
    arithmetic makes the two forms equal, bit for bit."""
    accumulator = i64 if wide_accumulator(op) else i32
    x_zp = zero_point(op.input)
    values = _bias_values(op, bias, rounding)
    weights = constant_operand(op.weight)
    if full_window and x_zp and weights is not None and accumulator == i32:
        centered = np.asarray(weights, np.int64) - _weight_zero_points(op, weights)
        sums = centered.reshape(len(centered), -1).sum(axis=1)
        folded = (0 if values is None else values) - x_zp * sums
        return kb.load(kb.table("bias", folded, i32), [co], "b"), 0
    if values is None:
        return kb.scalar(0, accumulator), x_zp
    if bias and np.array_equal(values, _stored(op)):
        return kb.convert(kb.load(bias[0], [co], "b"), accumulator), x_zp
    table = kb.table("bias", values, i32)
    return kb.convert(kb.load(table, [co], "b"), accumulator), x_zp


def _bias_values(op, bias: list[SSAValue], rounding: Rounding) -> np.ndarray | None:
    """The bias on the accumulator's scale, if the bias is a constant (None
    without a bias, or with a bias only known at run time)."""
    stored = _stored(op) if bias else None
    if stored is None:
        return None
    return bias_in_accumulator_units(stored, op.bias, op.input, op.weight, rounding)


def _stored(op) -> np.ndarray | None:
    stored = constant_operand(op.bias)
    return None if stored is None else np.asarray(stored, np.int64).reshape(-1)


def _weight_zero_points(op, weights: np.ndarray) -> np.ndarray:
    """Each output channel's weight zero point, shaped to broadcast."""
    points = np.asarray(qtype(op.weight).zero_point_values, np.int64)
    return np.broadcast_to(points, (len(weights),)).reshape(
        (-1,) + (1,) * (weights.ndim - 1)
    )


def _accumulate(acc: Scalar, xv: Scalar, wv: Scalar) -> Scalar:
    """`acc + xv * wv`: the i32 product widened for an i64 accumulator."""
    product = xv * wv
    return (acc + acc.kb.convert(product, acc.type)).named("acc")


def _covers(axis: WindowAxis, kernel: int) -> bool:
    """Whether every tap along `axis` is inside the input, whatever the
    output position (the ranges of the tap bounds say so)."""
    return axis.lo.static == 0 and axis.hi.static == kernel


def conv2d(
    kb: KernelBuilder,
    op: graph.Conv2DOp,
    inputs: list[SSAValue],
    y: SSAValue,
    rounding: Rounding,
) -> None:
    x, w, *bias = inputs
    multipliers = output_multipliers(op.input, op.weight, op.result)
    _, kernel_h, kernel_w, _ = shape(w)
    for at in output_positions(kb, op, x, w, y):
        full = _covers(at.rows, kernel_h) and _covers(at.cols, kernel_w)
        init, x_zp = _initial(kb, op, bias, at.co, rounding, full)
        acc = _taps(kb, op, x, w, at, init, x_zp)
        cell = [at.n, at.oh, at.ow, at.co]
        store_requantized(kb, op, acc, multipliers, at.co, rounding, y, cell)


def _taps(
    kb: KernelBuilder,
    op: graph.Conv2DOp,
    x: SSAValue,
    w: SSAValue,
    at: OutputPosition,
    acc: Scalar,
    x_zp: int,
) -> Scalar:
    """`acc` plus the products over the window of channel `co`, the input
    less `x_zp` and the weights centered."""
    w_zp = _weight_zero_point(kb, op, at.co)

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
            init, x_zp = _initial(kb, op, bias, o, rounding, full_window=True)
            acc = _dot(kb, x, row, w, o, init, x_zp, _weight_zero_point(kb, op, o))
            store_requantized(kb, op, acc, multipliers, o, rounding, y, [*row, o])


def _dot(
    kb: KernelBuilder,
    x: SSAValue,
    row: list[Index],
    w: SSAValue,
    o: Index,
    acc: Scalar,
    x_zp: int,
    w_zp: int | Scalar,
) -> Scalar:
    """`acc + sum_k (x[*row, k] - x_zp) * (w[o, k] - w_zp)`."""

    def product(k: Index, acc: Scalar) -> Scalar:
        xv = load_centered(kb, x, [*row, k], x_zp, "xv")
        wv = load_centered(kb, w, [o, k], w_zp, "wv")
        return _accumulate(acc, xv, wv)

    return kb.fold(0, shape(x)[-1], "k", acc, product)


INTEGER_KERNELS = {graph.Conv2DOp: conv2d, graph.FullyConnectedOp: fully_connected}
