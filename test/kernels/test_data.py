"""Data movement layers against the reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest
from kernels_testlib import check_layer, graph_op
from xdsl.dialects import arith

from tinycc.dialects.graph import slice_shape


@pytest.mark.parametrize(
    "source, target",
    [
        ((1, 2, 3, 4), (1, 24)),  # flatten
        ((1, 24), (1, 2, 3, 4)),  # unflatten
        ((2, 3, 4), (3, 2, 4)),  # the first group divides both ways
        ((6, 1, 4), (2, 3, 1, 4, 1)),
        ((1, 1), (1,)),
    ],
)
def test_reshape(source, target) -> None:
    check_layer(graph_op("graph.reshape", [source], target))


def test_flatten_divides_nothing() -> None:
    function = check_layer(graph_op("graph.reshape", [(1, 2, 3, 4)], (1, 24)))
    assert not any(
        isinstance(op, (arith.DivSIOp, arith.RemSIOp)) for op in function.walk()
    )


@pytest.mark.parametrize("perm", [(0, 2, 1), (2, 0, 1), (1, 2, 0)])
def test_transpose(perm) -> None:
    source = (2, 3, 4)
    target = tuple(source[p] for p in perm)
    op = f"graph.transpose {{perm = array<i64: {', '.join(map(str, perm))}>}}"
    check_layer(graph_op(op, [source], target))


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_concat(axis: int) -> None:
    shapes = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]
    for i, shape in enumerate(shapes):
        shapes[i] = tuple(d + i if a == axis else d for a, d in enumerate(shape))
    target = list(shapes[0])
    target[axis] = sum(s[axis] for s in shapes)
    check_layer(graph_op(f"graph.concat {{axis = {axis} : i64}}", shapes, target))


def pad(mode: str, pads, source, value: float = -2.5):
    rank = len(source)
    target = [d + pads[i] + pads[i + rank] for i, d in enumerate(source)]
    props = (
        f"pads = array<i64: {', '.join(map(str, pads))}>, "
        f'value = {value} : f32, mode = "{mode}"'
    )
    return graph_op(f"graph.pad {{{props}}}", [source], target)


@pytest.mark.parametrize(
    "pads", [(0, 2, 1, 1, 0, 2), (1, 0, 0, 0, 2, 3), (0, 0, 0, 0, 0, 0)]
)
@pytest.mark.parametrize("mode", ["constant", "reflect", "edge", "wrap"])
def test_pad(mode: str, pads) -> None:
    check_layer(pad(mode, pads, (3, 4, 4)))


def test_wrap_pad_wider_than_the_input() -> None:
    check_layer(pad("wrap", (5, 0, 7, 1), (2, 3)))


@pytest.mark.parametrize(
    "starts, ends, steps",
    [
        ((0, 1, 0), (2, 3, 4), (1, 1, 2)),
        ((1, 2, 3), (-1, -1, 0), (-1, -2, -1)),  # negative steps down to index 0
        ((0, 2, 1), (2, 0, 4), (1, -1, 3)),
    ],
)
def test_slice(starts, ends, steps) -> None:
    source = (2, 3, 4)
    props = ", ".join(
        f"{name} = array<i64: {', '.join(map(str, values))}>"
        for name, values in (("starts", starts), ("ends", ends), ("steps", steps))
    )
    target = slice_shape(source, starts, ends, steps)
    check_layer(graph_op(f"graph.slice {{{props}}}", [source], target))


def test_constant_pad_selects_the_value() -> None:
    """The pad value comes from a select on clamped, in-bounds reads (the
    interpreter checks every index): no branch, no out-of-range read."""
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    function = check_layer(pad("constant", (2, 1, 2, 3), (3, 4), 7.0), arrays=[x])
    assert any(isinstance(op, arith.SelectOp) for op in function.walk())
