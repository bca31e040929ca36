"""The layout-tag algebra, checked against numpy transposes of real arrays."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinycc.importer import layout

PERMS_4D = list(itertools.permutations(range(4)))


def arange(shape) -> np.ndarray:
    return np.arange(int(np.prod(shape))).reshape(shape)


def test_nhwc_is_channels_last() -> None:
    x = arange((2, 3, 4, 5))
    assert np.transpose(x, layout.NHWC).shape == (2, 4, 5, 3)
    assert layout.channels_last(4) == layout.NHWC
    assert layout.channels_last(3) == (0, 2, 1)
    assert layout.channels_last(2) == (0, 1)


@pytest.mark.parametrize("perm", PERMS_4D)
def test_permute_and_unpermute_are_numpy_shapes(perm) -> None:
    x = arange((2, 3, 4, 5))
    assert layout.permute(x.shape, perm) == np.transpose(x, perm).shape
    assert layout.unpermute(np.transpose(x, perm).shape, perm) == x.shape
    assert np.array_equal(np.transpose(np.transpose(x, perm), layout.inverse(perm)), x)


@given(st.permutations(range(4)), st.permutations(range(4)))
def test_relative_takes_one_layout_to_another(source, target) -> None:
    x = arange((2, 3, 4, 5))
    ir = np.transpose(x, source)
    moved = np.transpose(ir, layout.relative(tuple(source), tuple(target)))
    assert np.array_equal(moved, np.transpose(x, target))


@given(st.permutations(range(4)), st.permutations(range(4)))
def test_after_transpose_reuses_the_ir_tensor(perm, onnx_perm) -> None:
    x = arange((2, 3, 4, 5))
    ir = np.transpose(x, perm)  # the IR tensor of x, tagged `perm`
    y = np.transpose(x, onnx_perm)  # the ONNX Transpose
    tag = layout.after_transpose(tuple(perm), tuple(onnx_perm))
    assert np.array_equal(ir, np.transpose(y, tag))


@pytest.mark.parametrize("perm", PERMS_4D)
def test_moves_only_unit_axes_means_a_reshape_suffices(perm) -> None:
    for shape in [(1, 8, 1, 1), (1, 3, 1, 5), (2, 3, 4, 5), (1, 1, 6, 1)]:
        x = arange(shape)
        same_order = np.array_equal(np.transpose(x, perm).reshape(-1), x.reshape(-1))
        assert layout.moves_only_unit_axes(perm, shape) == same_order


@pytest.mark.parametrize("perm", PERMS_4D)
@pytest.mark.parametrize("axes", [(0,), (2,), (1, 3), (0, 2, 3)])
def test_without_axes_is_squeeze(perm, axes) -> None:
    shape = [1 if a in axes else 2 + a for a in range(4)]
    x = arange(shape)
    ir = np.transpose(x, perm)
    ir_axes = tuple(perm.index(a) for a in axes)
    tag = layout.without_axes(perm, axes)
    assert np.array_equal(
        np.squeeze(ir, ir_axes), np.transpose(np.squeeze(x, axes), tag)
    )


@pytest.mark.parametrize("perm", list(itertools.permutations(range(3))))
@pytest.mark.parametrize("axes", [(0,), (3,), (1, 4), (0, 2)])
def test_with_new_axes_is_unsqueeze(perm, axes) -> None:
    x = arange((2, 3, 4))
    y = np.expand_dims(x, axes)
    tag = layout.with_new_axes(perm, axes)
    ir = np.transpose(x, perm)
    # The IR tensor of y is a reshape of the IR tensor of x.
    assert np.array_equal(np.transpose(y, tag).reshape(-1), ir.reshape(-1))
    assert layout.with_new_axes(layout.identity(3), axes) == layout.identity(y.ndim)


def test_normalize_axis() -> None:
    assert layout.normalize_axis(-1, 4) == 3
    assert layout.normalize_axis(2, 4) == 2
