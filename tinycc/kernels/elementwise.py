"""Elementwise ops: one loop per result dimension, the last innermost.

    for i0, ..., in:  y[i] = f(a[bcast(i)], b[bcast(i)])

Broadcast operands read index 0 along their size-1 dimensions. Activations
are branch-free scalar code (`arith.select`, `maximumf`/`minimumf`) with
`math.exp`/`math.tanh`/`math.erf` for the transcendental ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from xdsl.dialects.builtin import FloatAttr
from xdsl.ir import Operation, SSAValue

from tinycc.dialects import graph
from tinycc.kernels.builder import Index, KernelBuilder, Scalar, shape


def _value(attr: FloatAttr | None) -> float | None:
    return None if attr is None else attr.value.data


def fused_clamp(kb: KernelBuilder, op: graph.FusedClampMixin, x: Scalar) -> Scalar:
    """The activation fused into a producer (conv, fully connected, binary)."""
    return kb.clamp(x, _value(op.clamp_min), _value(op.clamp_max))


def broadcast_indices(
    operand_shape: tuple[int, ...], indices: list[Index]
) -> list[Index | int]:
    """numpy broadcasting: the operand's dimensions align with the trailing
    result dimensions; a dimension of size 1 always reads index 0."""
    aligned = indices[len(indices) - len(operand_shape) :]
    return [0 if d == 1 else i for d, i in zip(operand_shape, aligned, strict=True)]


_BINARY: dict[type[Operation], Callable[[Scalar, Scalar], Scalar]] = {
    graph.AddOp: lambda a, b: a + b,
    graph.SubOp: lambda a, b: a - b,
    graph.MulOp: lambda a, b: a * b,
    graph.DivOp: lambda a, b: a / b,
}


def binary(
    kb: KernelBuilder, op: graph.BinaryOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    a, b = inputs
    for at in kb.grid(shape(y)):
        av = kb.load(a, broadcast_indices(shape(a), at), "av")
        bv = kb.load(b, broadcast_indices(shape(b), at), "bv")
        kb.store(fused_clamp(kb, op, _BINARY[type(op)](av, bv)), y, at)


def prelu(
    kb: KernelBuilder, op: graph.PReluOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    x, slope = inputs
    for at in kb.grid(shape(y)):
        xv = kb.load(x, at, "xv")
        sv = kb.load(slope, broadcast_indices(shape(slope), at), "slope")
        kb.store(kb.select(kb.less(xv, 0.0), sv * xv, xv), y, at)


def _gelu(kb: KernelBuilder, op: graph.GeluOp, x: Scalar) -> Scalar:
    if op.approximate.data == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * (x * x * x))
        return 0.5 * x * (1.0 + kb.tanh(inner))
    return 0.5 * x * (1.0 + kb.erf(x * math.sqrt(0.5)))


_UNARY: dict[type[Operation], Callable[[KernelBuilder, Operation, Scalar], Scalar]] = {
    graph.ReluOp: lambda kb, op, x: kb.maximum(x, 0.0),
    graph.ClampOp: lambda kb, op, x: kb.clamp(x, _value(op.min), _value(op.max)),
    graph.LeakyReluOp: lambda kb, op, x: kb.select(
        kb.less(x, 0.0), _value(op.alpha) * x, x
    ),
    graph.SigmoidOp: lambda kb, op, x: 1.0 / (1.0 + kb.exp(-x)),
    graph.TanhOp: lambda kb, op, x: kb.tanh(x),
    graph.ExpOp: lambda kb, op, x: kb.exp(x),
    graph.HardSigmoidOp: lambda kb, op, x: kb.clamp(
        _value(op.alpha) * x + _value(op.beta), 0.0, 1.0
    ),
    # `* (1 / 6)`: a multiplication is cheaper than a division on an MCU.
    graph.HardSwishOp: lambda kb, op, x: x * kb.clamp(x + 3.0, 0.0, 6.0) * (1 / 6),
    graph.GeluOp: _gelu,
}


def unary(
    kb: KernelBuilder, op: graph.UnaryOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    (x,) = inputs
    for at in kb.grid(shape(y)):
        kb.store(_UNARY[type(op)](kb, op, kb.load(x, at, "xv")), y, at)


def batch_norm(
    kb: KernelBuilder, op: graph.BatchNormOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    """`(x - mean) * (scale / sqrt(variance + epsilon)) + bias`, channels
    outermost so that the square root and the division run once per channel."""
    x, scale, bias, mean, variance = inputs
    *outer, channels = shape(y)
    for c in kb.range(0, channels, "c"):
        std = kb.sqrt(kb.load(variance, [c], "var") + _value(op.epsilon), "std")
        gain = (kb.load(scale, [c], "scale") / std).named("gain")
        mu, beta = kb.load(mean, [c], "mean"), kb.load(bias, [c], "beta")
        for at in kb.grid(outer):
            xv = kb.load(x, [*at, c], "xv")
            kb.store((xv - mu) * gain + beta, y, [*at, c])


KERNELS = {
    **dict.fromkeys(_BINARY, binary),
    graph.PReluOp: prelu,
    **dict.fromkeys(_UNARY, unary),
    graph.BatchNormOp: batch_norm,
}
