"""What every integer kernel shares: centered loads, constant operands, and
the requantizing store (`tinycc.interpreter.integer.requantize` as IR).

Integer kernels compute in i32 like TFLite's: an int8 value is loaded,
sign-extended and centered (`x - zp`), products accumulate in i32, and the
accumulator is rescaled by a fixed-point multiplier (`tinycc.kernels.
fixedpoint`), offset by the result's zero point, clamped and truncated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import IntegerType, i32
from xdsl.ir import BlockArgument, SSAValue

from tinycc.dialects import graph, tile
from tinycc.integer import Rounding
from tinycc.integer.params import Multipliers, activation_range, qtype, zero_point
from tinycc.kernels.builder import Index, IndexLike, KernelBuilder, Scalar
from tinycc.kernels.fixedpoint import rescale


def constant_operand(value: SSAValue) -> np.ndarray | None:
    """The stored values of an operand that is a `graph.constant`, looking
    through the block argument of an enclosing `tile.compute`."""
    if isinstance(value, BlockArgument):
        compute = value.block.parent_op()
        if not isinstance(compute, tile.ComputeOp):
            return None
        value = compute.inputs[value.index]
    owner = value.owner
    return owner.array if isinstance(owner, graph.ConstantOp) else None


def load_centered(
    kb: KernelBuilder,
    buffer: SSAValue,
    indices: Sequence[IndexLike],
    zp: int | Scalar,
    name: str,
) -> Scalar:
    """`buffer[indices] - zp` as an i32."""
    value = kb.convert(kb.load(buffer, indices, name), i32)
    if isinstance(zp, int) and zp == 0:
        return value
    return (value - zp).named(f"{name}c")


def store_requantized(
    kb: KernelBuilder,
    op: graph.GraphOp,
    acc: Scalar,
    multipliers: Multipliers,
    channel: Index | None,
    rounding: Rounding,
    y: SSAValue,
    indices: Sequence[IndexLike],
) -> None:
    """`y[indices] = clamp(rescale(acc) + zp_out)`, clamped to the result
    type and the fused activation."""
    scaled = rescale(kb, acc, multipliers, channel, rounding)
    store_clamped(kb, op, scaled + zero_point(op.results[0]), rounding, y, indices)


def store_clamped(
    kb: KernelBuilder,
    op: graph.GraphOp,
    value: Scalar,
    rounding: Rounding,
    y: SSAValue,
    indices: Sequence[IndexLike],
) -> None:
    """`y[indices] = value` clamped to the result's range (and activation)."""
    low, high = activation_range(op, op.results[0], rounding)
    clamped = kb.minimum(kb.maximum(value, low), high).named("q")
    storage = qtype(op.results[0]).storage
    assert isinstance(storage, IntegerType)
    kb.store(kb.convert(clamped, storage), y, indices)
