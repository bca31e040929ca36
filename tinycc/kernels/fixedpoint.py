"""Fixed-point rescaling as loop-level IR: `tinycc.integer.fixedpoint` in
`arith` ops, operation for operation, so C and numpy agree bit for bit.

A per-tensor multiplier folds into constants; a per-channel one is read from
tables (`<layer>_multiplier`, `<layer>_shift`, ...) indexed by the channel.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import i32, i64

from tinycc.integer import Rounding
from tinycc.integer.params import Multipliers
from tinycc.kernels.builder import Index, KernelBuilder, Scalar


def _per_channel(
    kb: KernelBuilder, name: str, values: np.ndarray, channel: Index | None, type_
) -> Scalar | int:
    """A constant if every channel shares the value, else a table read."""
    if np.all(values == values.flat[0]):
        return int(values.flat[0])
    assert channel is not None, "per-channel multipliers need the channel index"
    return kb.load(kb.table(name, values, type_), [channel], name)


def _wide(kb: KernelBuilder, m: Scalar | int) -> Scalar:
    return kb.scalar(m, i64) if isinstance(m, int) else kb.convert(m, i64)


def _bit(kb: KernelBuilder, condition, type_) -> Scalar:
    """1 if `condition` holds, else 0."""
    return kb.select(condition, kb.scalar(1, type_), 0)


def rescale(
    kb: KernelBuilder,
    x: Scalar,
    multipliers: Multipliers,
    channel: Index | None,
    rounding: Rounding,
) -> Scalar:
    """`x * m * 2^(shift - 31)` for an i32 `x`, rounded as `rounding` says."""
    if rounding == "tflite":
        return _double_rounding(kb, x, multipliers, channel)
    return _single_rounding(kb, x, multipliers, channel)


def _double_rounding(
    kb: KernelBuilder, x: Scalar, multipliers: Multipliers, channel: Index | None
) -> Scalar:
    """TFLite's `MultiplyByQuantizedMultiplier`."""
    left = np.maximum(multipliers.shift, 0)
    right = np.maximum(-multipliers.shift, 0)
    m = _per_channel(kb, "multiplier", multipliers.multiplier, channel, i32)
    left_shift = _per_channel(kb, "left_shift", left, channel, i32)
    right_shift = _per_channel(kb, "right_shift", right, channel, i32)
    if not (isinstance(left_shift, int) and left_shift == 0):
        x = (x << left_shift).named("shifted")
    # saturating_rounding_doubling_high_mul: m > 0, so no saturation case
    product = (kb.convert(x, i64) * _wide(kb, m)).named("prod")
    nudge = kb.select(
        kb.compare("ge", product, 0), kb.scalar(1 << 30, i64), 1 - (1 << 30)
    )
    high = kb.divide_truncating(product + nudge, 1 << 31)
    high = kb.convert(high, i32, "high")
    if isinstance(right_shift, int) and right_shift == 0:
        return high
    # rounding_divide_by_pot
    if isinstance(right_shift, int):
        mask: Scalar | int = (1 << right_shift) - 1
        half: Scalar | int = mask >> 1
    else:
        mask = ((kb.scalar(1, i32) << right_shift) - 1).named("mask")
        half = mask >> 1
    remainder = (high & mask).named("rem")
    threshold = half + _bit(kb, kb.compare("lt", high, 0), i32)
    up = _bit(kb, kb.compare("gt", remainder, threshold), i32)
    return ((high >> right_shift) + up).named("scaled")


def _single_rounding(
    kb: KernelBuilder, x: Scalar, multipliers: Multipliers, channel: Index | None
) -> Scalar:
    """`x * m / 2^(31 - shift)`, one rounding, ties to even."""
    m = _per_channel(kb, "multiplier", multipliers.multiplier, channel, i32)
    exponent = _per_channel(kb, "exponent", 31 - multipliers.shift, channel, i64)
    product = (kb.convert(x, i64) * _wide(kb, m)).named("prod")
    quotient = (product >> exponent).named("quot")
    remainder = (product - (quotient << exponent)).named("rem")
    if isinstance(exponent, int):
        half: Scalar | int = 1 << (exponent - 1)
    else:
        half = kb.scalar(1, i64) << (exponent - 1)
    above = kb.compare("gt", remainder, half)
    odd_tie = kb.all_of(
        [kb.compare("eq", remainder, half), kb.compare("eq", quotient & 1, 1)]
    )
    up = _bit(kb, kb.any_of([above, odd_tie]), i64)
    return kb.convert(quotient + up, i32, "scaled")
