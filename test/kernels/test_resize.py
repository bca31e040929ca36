"""Resize with every mode, against the reference interpreter."""

from __future__ import annotations

import pytest
from kernels_testlib import check_layer, graph_op

from tinycc.dialects.graph import COORDINATE_MODES, NEAREST_MODES


def resize(mode: str, coordinate: str, nearest: str, x, y, scales):
    props = (
        f'mode = "{mode}", coordinate_mode = "{coordinate}", '
        f'nearest_mode = "{nearest}", scales = array<f64: {scales[0]}, {scales[1]}>'
    )
    return graph_op(f"graph.resize {{{props}}}", [x], y)


# Up, down and fractional factors; one output row (a special case of
# align_corners and pytorch_half_pixel); one input row.
SIZES = [
    ((1, 3, 4, 2), (1, 6, 8, 2), (2.0, 2.0)),
    ((1, 5, 4, 1), (1, 3, 3, 1), (0.6, 0.75)),
    ((1, 4, 3, 1), (1, 1, 5, 1), (0.25, 5.0 / 3.0)),
    ((1, 1, 3, 2), (1, 2, 6, 2), (2.0, 2.0)),  # one input row
]


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("nearest", NEAREST_MODES)
@pytest.mark.parametrize("coordinate", COORDINATE_MODES)
def test_nearest(coordinate: str, nearest: str, sizes) -> None:
    check_layer(resize("nearest", coordinate, nearest, *sizes))


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("coordinate", COORDINATE_MODES)
def test_linear(coordinate: str, sizes) -> None:
    check_layer(resize("linear", coordinate, "round_prefer_floor", *sizes))
