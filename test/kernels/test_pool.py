"""Pooling layers against the reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest
from kernels_testlib import check_layer, graph_op, pool

X = (1, 7, 6, 2)  # the default input of `pool`


WINDOWS = [
    dict(),
    dict(pads=(1, 1, 1, 1)),
    dict(pads=(0, 1, 2, 0), strides=(1, 2)),
    dict(ceil_mode=True),
    dict(ceil_mode=True, pads=(1, 0, 1, 1), strides=(3, 2)),
    dict(kernel=(2, 3), strides=(2, 1), pads=(1, 2, 0, 1), ceil_mode=True),
]


@pytest.mark.parametrize("window", WINDOWS)
def test_max_pool(window) -> None:
    # All inputs negative: a padded tap counted as 0 would win.
    x = -np.abs(np.random.default_rng(0).standard_normal(X)).astype(np.float32) - 1
    check_layer(pool("max_pool2d", **window), arrays=[x])


@pytest.mark.parametrize(
    "window",
    [
        dict(dilations=(2, 2), pads=(1, 1, 1, 1)),
        dict(dilations=(2, 1), pads=(2, 0, 2, 2), ceil_mode=True, strides=(3, 2)),
    ],
)
def test_dilated_max_pool(window) -> None:
    """A dilated window may hold only padding: the lowest float, like onnxruntime."""
    check_layer(pool("max_pool2d", **window))


@pytest.mark.parametrize("count_include_pad", [False, True])
@pytest.mark.parametrize("window", WINDOWS)
def test_avg_pool(window, count_include_pad: bool) -> None:
    check_layer(pool("avg_pool2d", count_include_pad=count_include_pad, **window))


@pytest.mark.parametrize("kind", ["global_avg_pool", "global_max_pool"])
def test_global_pool(kind: str) -> None:
    check_layer(graph_op(f"graph.{kind}", [(2, 3, 4, 5)], (2, 1, 1, 5)))
