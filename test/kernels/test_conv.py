"""Convolution layers against the reference interpreter, and their loops."""

from __future__ import annotations

import pytest
from kernels_testlib import check_layer, conv
from xdsl.dialects import arith, scf


@pytest.mark.parametrize("pads", [(0, 0, 0, 0), (1, 1, 1, 1), (2, 0, 1, 2)])
@pytest.mark.parametrize("dilations", [(1, 1), (2, 1)])
@pytest.mark.parametrize("strides", [(1, 1), (2, 2), (1, 3)])
def test_conv_windows(strides, dilations, pads) -> None:
    check_layer(conv(3, 2, strides=strides, dilations=dilations, pads=pads))


@pytest.mark.parametrize(
    "c_in, c_out, groups, pads",
    [
        (4, 4, 2, (1, 1, 1, 1)),  # grouped
        (4, 4, 4, (1, 1, 1, 1)),  # depthwise
        (4, 8, 4, (1, 0, 2, 1)),  # depthwise, channel multiplier 2
        (3, 6, 3, (0, 0, 0, 0)),
    ],
)
def test_grouped_and_depthwise_conv(c_in, c_out, groups, pads) -> None:
    check_layer(conv(c_in, c_out, pads=pads, groups=groups, strides=(2, 1)))


@pytest.mark.parametrize(
    "clamp",
    ["", ", clamp_min = 0.0 : f32", ", clamp_min = 0.0 : f32, clamp_max = 0.5 : f32"],
)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_bias_and_fused_clamp(bias: bool, clamp: str) -> None:
    check_layer(conv(3, 3, kernel=(1, 2), bias=bias, clamp=clamp))


def test_pads_wider_than_the_kernel_reach() -> None:
    """Rows of output that see only padding: the bias alone."""
    check_layer(conv(2, 3, kernel=(1, 1), pads=(2, 1, 3, 0), size=(2, 2)))


def _ops_in(op, kind) -> list:
    return [o for o in op.walk() if isinstance(o, kind)]


def test_conv_accumulates_in_iter_args() -> None:
    """The innermost loop runs over input channels and carries the sum as an
    f32 iter_arg: the loaded products feed an addf of the block argument,
    which is yielded; no memory traffic for the accumulator."""
    function = check_layer(conv(3, 2, pads=(1, 1, 1, 1)))
    loops = _ops_in(function, scf.ForOp)
    innermost = [loop for loop in loops if not _ops_in(loop.body, scf.ForOp)]
    assert len(innermost) == 1
    (inner,) = innermost
    assert inner.body.block.args[0].name_hint == "ic"
    (acc,) = inner.iter_args
    assert acc.type.name == "f32"
    (add,) = _ops_in(inner.body, arith.AddfOp)
    assert inner.body.block.args[1] in add.operands
    assert inner.body.block.last_op.operands[0] is add.result
    # The sum is stored once per output, after the loops.
    stores = [o for o in function.walk() if o.name == "memref.store"]
    assert len(stores) == 1 and _ops_in(inner.body, type(stores[0])) == []
    # Tap bounds are clamped per output row (computed in the oh loop, not
    # inside the inner ones): no branch anywhere.
    assert not _ops_in(function, scf.IfOp)
    by_name = {loop.body.block.args[0].name_hint: loop for loop in loops}
    for bound in (by_name["kh"].lb, by_name["kh"].ub):
        assert bound.owner.parent_block() is by_name["oh"].body.block
    for bound in (by_name["kw"].lb, by_name["kw"].ub):
        assert bound.owner.parent_block() is by_name["ow"].body.block


def test_unpadded_conv_has_constant_tap_bounds() -> None:
    function = check_layer(conv(2, 2, strides=(2, 2)))
    assert not _ops_in(function, arith.MaxSIOp) and not _ops_in(function, arith.MinSIOp)
    for loop in _ops_in(function, scf.ForOp):
        assert isinstance(loop.lb.owner, arith.ConstantOp)
        assert isinstance(loop.ub.owner, arith.ConstantOp)


def test_pointwise_conv_is_a_channel_dot_product() -> None:
    """1x1 kernel, batch 1: no n/kh/kw loops, only oh, ow, oc and ic."""
    function = check_layer(conv(4, 3, kernel=(1, 1)))
    names = [loop.body.block.args[0].name_hint for loop in _ops_in(function, scf.ForOp)]
    assert names == ["oh", "ow", "oc", "ic"]


def test_depthwise_conv_loops_taps_innermost() -> None:
    function = check_layer(conv(4, 4, pads=(1, 1, 1, 1), groups=4))
    names = [loop.body.block.args[0].name_hint for loop in _ops_in(function, scf.ForOp)]
    assert names == ["oh", "ow", "g", "kh", "kw"]
