"""Gemm and MatMul: `graph.fully_connected` on constant weights, else `matmul`."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import TensorType, f32
from xdsl.ir import Attribute, SSAValue

from tinycc.dialects.graph import (
    AddOp,
    FullyConnectedOp,
    MatMulOp,
    MulOp,
    matmul_shape,
    shape_of,
)
from tinycc.importer import layout
from tinycc.importer.context import NodeContext, converts
from tinycc.importer.ops_elementwise import binary
from tinycc.importer.tensors import Const, QuantConst, Tensor, Value, perm_of

TRANSPOSED = (1, 0)


def fully_connected(
    ctx: NodeContext,
    x: Tensor,
    weight: SSAValue,
    bias: SSAValue | None,
    element: Attribute = f32,
) -> Value:
    """`x @ weight.T + bias` over the last axis; `weight` is `[N, K]`.

    A tagged input whose last IR axis is its last ONNX axis is used as is,
    and the result keeps its tag.
    """
    perm = perm_of(x)
    if perm[-1] != len(perm) - 1:
        perm = layout.identity(len(perm))
    lhs = ctx.value(x, perm)
    shape = (*shape_of(lhs)[:-1], shape_of(weight)[0])
    return ctx.output(
        FullyConnectedOp, [lhs, weight, bias], TensorType(element, shape), perm
    )


def matmul(ctx: NodeContext, a: Tensor, b: Tensor, element: Attribute = f32) -> Value:
    if isinstance(b, Const | QuantConst) and len(b.shape) == 2:
        return fully_connected(ctx, a, ctx.value(b, TRANSPOSED), None, element)
    lhs = ctx.value(a, layout.identity(len(a.shape)))
    rhs = ctx.value(b, layout.identity(len(b.shape)))
    shape = matmul_shape(shape_of(lhs), shape_of(rhs))
    return ctx.output(
        MatMulOp, [lhs, rhs], TensorType(element, shape), layout.identity(len(shape))
    )


@converts("MatMul")
def convert_matmul(ctx: NodeContext) -> Value:
    return matmul(ctx, ctx.input(0), ctx.input(1))


def _bias_row(c: Tensor, n: int) -> bool:
    """True if `c` broadcasts to `[M, N]` as one row of N values (or a scalar)."""
    return c.shape[-1:] in ((), (1,), (n,)) and all(d == 1 for d in c.shape[:-1])


def _fused_bias(ctx: NodeContext, c: Tensor, beta: float, n: int) -> SSAValue | None:
    """`beta * C` as a `[N]` bias operand, if that is how C broadcasts."""
    if not _bias_row(c, n):
        return None
    if isinstance(c, Const):
        row = np.broadcast_to(c.array.reshape(-1), (n,)) * np.float32(beta)
        return ctx.value(Const(c.name, row.astype(np.float32)))
    if isinstance(c, QuantConst) and c.shape == (n,) and beta == 1:
        return ctx.value(c)
    return None


def _scaled(ctx: NodeContext, tensor: Tensor, factor: float) -> Tensor:
    if factor == 1:
        return tensor
    if isinstance(tensor, Const):
        return Const(
            tensor.name, (tensor.array * np.float32(factor)).astype(np.float32)
        )
    return binary(
        ctx, MulOp, tensor, Const(f"{ctx.name}.factor", np.array(factor, np.float32))
    )


@converts("Gemm")
def convert_gemm(ctx: NodeContext) -> Tensor:
    """`alpha * A' @ B' + beta * C`, alpha and beta folded into constants."""
    a, b = ctx.input(0), ctx.input(1)
    c = ctx.input(2) if ctx.has_input(2) else None
    alpha, beta = ctx.attr("alpha", 1.0), ctx.attr("beta", 1.0)
    lhs = Value(ctx.value(a, TRANSPOSED if ctx.attr("transA", 0) else (0, 1)), (0, 1))
    trans_b = bool(ctx.attr("transB", 0))
    weight_perm = (0, 1) if trans_b else TRANSPOSED  # B as [N, K]
    if isinstance(b, Const):
        b, alpha = _scaled(ctx, b, alpha), 1.0
    if isinstance(b, Value):
        rhs = ctx.value(b, TRANSPOSED if trans_b else (0, 1))  # B as [K, N]
        y = matmul(ctx, lhs, Value(rhs, (0, 1)))
        bias = None
    else:
        weight = ctx.value(b, weight_perm)
        n = shape_of(weight)[0]
        bias = None if c is None or alpha != 1 else _fused_bias(ctx, c, beta, n)
        y = fully_connected(ctx, lhs, weight, bias)
    y = _scaled(ctx, y, alpha)
    if c is not None and bias is None:
        y = binary(ctx, AddOp, y, _scaled(ctx, c, beta))
    return y
