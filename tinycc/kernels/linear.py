"""Matrix products: `fully_connected` and batched, broadcasting `matmul`.

    fully_connected (weight [N, K]):     matmul ([..., M, K] @ [..., K, N]):
      for rows..., o:                      for batch..., m, o:
        acc = bias[o]                        acc = 0
        for k: acc += x[..., k] * w[o, k]    for k: acc += a[..., m, k] * b[..., k, o]
        y[..., o] = clamp(acc)               y[..., m, o] = acc

The reduction is innermost with the accumulator in a register; `k` is
contiguous in the input and in the fully-connected weight.
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.kernels.builder import Index, KernelBuilder, Scalar, shape
from tinycc.kernels.elementwise import broadcast_indices, fused_clamp


def dot(
    kb: KernelBuilder,
    acc: float | Scalar,
    depth: int,
    a: SSAValue,
    a_prefix: list[Index | int],
    b: SSAValue,
    b_prefix: list[Index | int],
    b_suffix: list[Index | int],
) -> Scalar:
    """`acc + sum_k a[*a_prefix, k] * b[*b_prefix, k, *b_suffix]`."""

    def product(k: Index, acc: Scalar) -> Scalar:
        av = kb.load(a, [*a_prefix, k], "av")
        bv = kb.load(b, [*b_prefix, k, *b_suffix], "bv")
        return (acc + av * bv).named("acc")

    return kb.fold(0, depth, "k", acc, product)


def fully_connected(
    kb: KernelBuilder, op: graph.FullyConnectedOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    x, w, *bias = inputs
    for row in kb.grid(shape(x)[:-1]):
        for o in kb.range(0, shape(w)[0], "o"):
            acc = kb.load(bias[0], [o], "b") if bias else 0.0
            acc = dot(kb, acc, shape(x)[-1], x, row, w, [o], [])
            kb.store(fused_clamp(kb, op, acc), y, [*row, o])


def matmul(
    kb: KernelBuilder, op: graph.MatMulOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    a, b = inputs
    a_shape, b_shape = shape(a), shape(b)
    # numpy promotes a 1-D operand to a matrix and drops that dimension from
    # the result: the loop over it has one trip and its index is not used.
    a_matrix, b_matrix = len(a_shape) > 1, len(b_shape) > 1
    rows = a_shape[-2] if a_matrix else 1
    cols = b_shape[-1] if b_matrix else 1
    batch = graph.broadcast_shape(a_shape[:-2], b_shape[:-2])
    names = [*(f"b{d}" for d in range(len(batch))), "m", "n"]
    for *at, m, o in kb.grid([*batch, rows, cols], names):
        row = [m] if a_matrix else []
        col = [o] if b_matrix else []
        a_prefix = [*broadcast_indices(a_shape[:-2], at), *row]
        b_prefix = broadcast_indices(b_shape[:-2], at)
        acc = dot(kb, 0.0, a_shape[-1], a, a_prefix, b, b_prefix, col)
        kb.store(acc, y, [*at, *row, *col])


KERNELS = {graph.FullyConnectedOp: fully_connected, graph.MatMulOp: matmul}
