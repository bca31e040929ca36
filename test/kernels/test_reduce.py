"""Reductions over any axes, with and without keepdims."""

from __future__ import annotations

import pytest
from kernels_testlib import check_layer, graph_op

from tinycc.dialects.graph import reduce_shape

SHAPE = (2, 3, 4)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axes", [(0,), (2,), (0, 2), (0, 1, 2)])
@pytest.mark.parametrize("kind", ["reduce_sum", "reduce_mean", "reduce_max"])
def test_reduce(kind: str, axes, keepdims: bool) -> None:
    props = f"axes = array<i64: {', '.join(map(str, axes))}>"
    if keepdims:
        props += ", keepdims"
    result = reduce_shape(SHAPE, axes, keepdims)
    check_layer(graph_op(f"graph.{kind} {{{props}}}", [SHAPE], result))
