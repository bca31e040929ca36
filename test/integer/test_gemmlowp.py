"""gemmlowp's fixed-point functions against independent oracles: `math.exp`,
`math.log` and `1 / (1 + x)` within their accuracy, and exact rational
arithmetic with Python's Fraction.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from tinycc.integer.gemmlowp import (
    exp_on_negative_values,
    get_reciprocal,
    log_x_for_x_greater_than_or_equal_to_1,
    one_over_one_plus_x_for_x_in_0_1,
)


def test_exp_on_negative_values_is_within_its_accuracy() -> None:
    """Q5.26 inputs over [-32, 0] (a sample of every 2^12-th, and the ends)
    against exp: within 2^-21 absolute, exp(0) saturated to the largest Q0.31."""
    raw = np.concatenate([np.arange(-(32 << 26), 1, 1 << 12), [-1, -2, 0]])
    got = exp_on_negative_values(raw, 5) / 2**31
    want = np.exp(raw / 2**26)
    assert np.abs(got - want).max() <= 2**-21
    assert exp_on_negative_values(np.int64(0), 5) == 2**31 - 1


@given(st.integers(0, 2**31 - 1))
@example(0)
def test_one_over_one_plus_x_is_within_its_accuracy(raw: int) -> None:
    got = int(one_over_one_plus_x_for_x_in_0_1(np.int64(raw)))
    want = 2**31 / (1 + raw / 2**31)
    assert abs(got - min(want, 2**31 - 1)) <= 16


@given(st.integers(1 << 19, (1 << 31) - 1))
def test_get_reciprocal_normalizes_a_q12_sum(raw: int) -> None:
    """`scale * 2^-num_bits_over_unit` is 1 / x, the scale about [1/2, 1]."""
    scale, bits = get_reciprocal(np.int64(raw), 12)
    real = Fraction(int(scale), 2**31) / 2 ** int(bits)
    assert 2**30 - 16 <= int(scale) < 2**31
    assert abs(real * Fraction(raw, 2**19) - 1) <= Fraction(1, 2**26)


def test_log_x_is_within_its_accuracy() -> None:
    """Q12.19 inputs over [1, 4096) against log, in Q5.26: within 2^-23."""
    raw = np.concatenate([np.arange(1 << 19, 2**31 - 1, 4099 << 8), [2**31 - 1]])
    got = log_x_for_x_greater_than_or_equal_to_1(raw, 12, 5) / 2**26
    assert np.abs(got - np.log(raw / 2**19)).max() <= 2**-23
