"""Elementwise layers against the reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest
from kernels_testlib import check_layer, graph_op

SHAPE = (2, 3, 4)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize(
    "lhs, rhs",
    [
        ((2, 3, 4), (2, 3, 4)),
        ((2, 3, 4), (4,)),
        ((2, 1, 4), (3, 1)),  # both sides broadcast
        ((1,), (2, 3, 1)),
    ],
)
def test_binary_broadcasting(op: str, lhs, rhs) -> None:
    result = np.broadcast_shapes(lhs, rhs)
    check_layer(graph_op(f"graph.{op}", [lhs, rhs], result))


@pytest.mark.parametrize(
    "clamp",
    [
        "{clamp_min = 0.0 : f32}",
        "{clamp_max = 0.25 : f32}",
        "{clamp_min = -1.0 : f32, clamp_max = 1.0 : f32}",
    ],
)
def test_binary_fused_clamp(clamp: str) -> None:
    check_layer(graph_op(f"graph.add {clamp}", [SHAPE, SHAPE], SHAPE))


@pytest.mark.parametrize(
    "op",
    [
        "graph.relu",
        "graph.clamp {min = -0.5 : f32, max = 1.5 : f32}",
        "graph.leaky_relu {alpha = 0.1 : f32}",
        "graph.sigmoid",
        "graph.tanh",
        "graph.exp",
        "graph.hard_sigmoid {alpha = 0.2 : f32, beta = 0.5 : f32}",
        "graph.hard_swish",
        'graph.gelu {approximate = "none"}',
        'graph.gelu {approximate = "tanh"}',
    ],
)
def test_unary(op: str) -> None:
    check_layer(graph_op(op, [SHAPE], SHAPE))


def test_unary_on_large_values() -> None:
    """Overflowing exp stays finite where it must: sigmoid of -100 is 0."""
    x = np.array([[-100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0]], np.float32)
    for name in ("graph.sigmoid", "graph.tanh", "graph.hard_swish"):
        check_layer(graph_op(name, [x.shape], x.shape), arrays=[x])


@pytest.mark.parametrize("slope", [(4,), (3, 1), (2, 3, 4)])
def test_prelu(slope) -> None:
    check_layer(graph_op("graph.prelu", [SHAPE, slope], SHAPE))


def test_batch_norm() -> None:
    x, channel = (1, 2, 3, 4), (4,)
    op = graph_op("graph.batch_norm {epsilon = 1.0e-3 : f32}", [x, *[channel] * 4], x)
    rng = np.random.default_rng(1)
    scale, bias, mean = (rng.standard_normal(channel) for _ in range(3))
    variance = rng.uniform(0.5, 2.0, channel)
    arrays = [rng.standard_normal(x), scale, bias, mean, variance]
    check_layer(op, arrays=[a.astype(np.float32) for a in arrays])
