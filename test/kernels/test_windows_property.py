"""Sliding windows on random geometries: the folded tap bounds must hold for
every combination of size, kernel, stride, dilation and padding (and the
interpreter checks that no access leaves its buffer)."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from kernels_testlib import check_layer, conv, pool
from xdsl.utils.exceptions import VerifyException

from tinycc.dialects.graph import window_output_size

EXAMPLES = settings(max_examples=60, deadline=None)
pads = st.tuples(*[st.integers(0, 3)] * 4)


def fits(size, kernel, stride, dilation, pads, ceil_mode=False) -> bool:
    try:
        for axis in (0, 1):
            window_output_size(
                size[axis], kernel[axis], stride[axis], dilation[axis],
                pads[axis], pads[axis + 2], ceil_mode,
            )  # fmt: skip
    except VerifyException:
        return False
    return True


@EXAMPLES
@given(
    size=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    strides=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilations=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    pads=pads,
    depthwise=st.booleans(),
)
def test_conv_geometry(size, kernel, strides, dilations, pads, depthwise) -> None:
    assume(fits(size, kernel, strides, dilations, pads))
    groups = 2 if depthwise else 1
    check_layer(conv(2, 2, kernel, strides, dilations, pads, groups, size=size))


@EXAMPLES
@given(
    size=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    strides=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilations=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    ceil_mode=st.booleans(),
    kind=st.sampled_from(["max", "avg", "avg_include_pad"]),
    data=st.data(),
)
def test_pool_geometry(size, kernel, strides, dilations, ceil_mode, kind, data) -> None:
    # Pool padding is smaller than the kernel; only max pooling dilates.
    pads = data.draw(st.tuples(*(st.integers(0, k - 1) for k in (*kernel, *kernel))))
    if kind != "max":
        dilations = (1, 1)
    assume(fits(size, kernel, strides, dilations, pads, ceil_mode))
    op = pool(
        "max_pool2d" if kind == "max" else "avg_pool2d",
        kernel,
        strides,
        pads,
        dilations,
        ceil_mode,
        kind == "avg_include_pad",
        x=(1, *size, 1),
    )
    check_layer(op)
