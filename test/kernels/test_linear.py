"""Matrix products against the reference interpreter."""

from __future__ import annotations

import pytest
from kernels_testlib import check_layer, graph_op

from tinycc.dialects.graph import matmul_shape


@pytest.mark.parametrize(
    "clamp", ["", "{clamp_min = -0.5 : f32, clamp_max = 0.5 : f32}"]
)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("rows", [(2,), (2, 3)])
def test_fully_connected(rows, bias: bool, clamp: str) -> None:
    operands = [(*rows, 5), (4, 5), (4,)][: 3 if bias else 2]
    check_layer(graph_op(f"graph.fully_connected {clamp}", operands, (*rows, 4)))


@pytest.mark.parametrize(
    "lhs, rhs",
    [
        ((3, 4), (4, 2)),
        ((2, 3, 4), (2, 4, 5)),  # batched
        ((2, 1, 3, 4), (3, 4, 2)),  # broadcast batch dimensions
        ((1, 3, 4), (2, 4, 2)),
        ((4,), (2, 4, 3)),  # 1-D operands are promoted, then squeezed
        ((2, 3, 4), (4,)),
        ((4,), (4,)),
    ],
)
def test_matmul(lhs, rhs) -> None:
    check_layer(graph_op("graph.matmul", [lhs, rhs], matmul_shape(lhs, rhs)))
