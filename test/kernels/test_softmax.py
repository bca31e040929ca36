"""Softmax and log-softmax along every axis."""

from __future__ import annotations

import numpy as np
import pytest
from kernels_testlib import check_layer, graph_op

SHAPE = (2, 3, 4)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_axes(op: str, axis: int) -> None:
    check_layer(graph_op(f"graph.{op} {{axis = {axis} : i64}}", [SHAPE], SHAPE))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_is_stable(op: str) -> None:
    """exp(1000) overflows float32: the maximum must be subtracted first."""
    x = np.array([[1000.0, 999.0, -1000.0], [-5.0, 0.0, 88.0]], np.float32)
    check_layer(
        graph_op(f"graph.{op} {{axis = 1 : i64}}", [x.shape], x.shape), arrays=[x]
    )
