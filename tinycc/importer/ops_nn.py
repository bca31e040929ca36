"""Convolution, pooling, batch norm and resize: the NHWC ops.

Their operands are asked for in NHWC (weights in OHWI, which is the same
permutation of OIHW), so an NCHW activation produced by another NHWC op needs
no transpose, and a constant weight is permuted once, here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import (
    DenseArrayBase,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
    f32,
    f64,
    i64,
)
from xdsl.ir import Attribute

from tinycc.dialects.graph import (
    COORDINATE_MODES,
    NEAREST_MODES,
    AvgPool2DOp,
    BatchNormOp,
    Conv2DOp,
    GlobalAvgPoolOp,
    GlobalMaxPoolOp,
    MaxPool2DOp,
    ResizeOp,
    conv2d_shape,
    f32_attr,
    i64_array,
    pool2d_shape,
    shape_of,
    tensor_type,
)
from tinycc.importer import layout
from tinycc.importer.context import NodeContext, converts
from tinycc.importer.layout import NHWC, Perm
from tinycc.importer.ops_shape import squeeze, unsqueeze
from tinycc.importer.problems import Unsupported
from tinycc.importer.tensors import Tensor, Value


def unit(flag: bool) -> UnitAttr | None:
    return UnitAttr() if flag else None


def check_rank(x: Tensor, what: str) -> None:
    rank = len(x.shape)
    if rank not in (3, 4):
        raise Unsupported(f"{rank - 2}-D {what} is not supported (only 1-D and 2-D)")


@dataclass(frozen=True)
class Window:
    """A 2-D sliding window; `pads` are `[top, left, bottom, right]`."""

    kernel: list[int]
    strides: list[int]
    dilations: list[int]
    pads: list[int]


def window(ctx: NodeContext, size: Sequence[int], kernel: Sequence[int]) -> Window:
    """The window attributes of a 1-D or 2-D op, as 2-D (1-D gets a unit H)."""
    n = len(size)
    strides = ctx.attr("strides", [1] * n)
    dilations = ctx.attr("dilations", [1] * n)
    pads = window_pads(ctx, size, kernel, strides, dilations)
    if n == 2:
        return Window(list(kernel), strides, dilations, pads)
    return Window(
        [1, *kernel], [1, *strides], [1, *dilations], [0, pads[0], 0, pads[1]]
    )


def window_pads(
    ctx: NodeContext,
    size: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> list[int]:
    """All begin pads, then all end pads, from `pads` or `auto_pad`."""
    auto_pad = ctx.attr("auto_pad", "NOTSET")
    if auto_pad == "NOTSET":
        return list(ctx.attr("pads", [0] * 2 * len(size)))
    if auto_pad == "VALID":
        return [0] * 2 * len(size)
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise Unsupported(f"auto_pad={auto_pad} is not supported")
    begins, ends = [], []
    for n, k, s, d in zip(size, kernel, strides, dilations, strict=True):
        total = max(0, (-(-n // s) - 1) * s + (k - 1) * d + 1 - n)
        small, large = total // 2, total - total // 2
        begins.append(small if auto_pad == "SAME_UPPER" else large)
        ends.append(large if auto_pad == "SAME_UPPER" else small)
    return begins + ends


def as_2d(ctx: NodeContext, tensors: Sequence[Tensor]) -> list[Tensor]:
    """1-D (`[N, C, L]`) operands as 2-D ones (`[N, C, 1, L]`)."""
    return [unsqueeze(ctx, t, [2]) if len(t.shape) == 3 else t for t in tensors]


def from_2d(ctx: NodeContext, y: Value, one_d: bool) -> Tensor:
    return squeeze(ctx, y, [2]) if one_d else y


def conv2d(
    ctx: NodeContext,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    element: Attribute = f32,
) -> Tensor:
    check_rank(x, "convolution")
    win = window(ctx, x.shape[2:], weight.shape[2:])
    groups = ctx.attr("group", 1)
    one_d = len(x.shape) == 3
    x, weight = as_2d(ctx, [x, weight])
    operands = [
        ctx.value(x, NHWC),
        ctx.value(weight, NHWC),  # OIHW -> OHWI
        None if bias is None else ctx.value(bias),
    ]
    shape = conv2d_shape(
        shape_of(operands[0]),
        shape_of(operands[1]),
        win.strides,
        win.dilations,
        win.pads,
        groups,
    )
    y = ctx.output(
        Conv2DOp,
        operands,
        TensorType(element, shape),
        NHWC,
        strides=i64_array(win.strides),
        dilations=i64_array(win.dilations),
        pads=i64_array(win.pads),
        groups=IntegerAttr(groups, i64),
    )
    return from_2d(ctx, y, one_d)


@converts("Conv")
def convert_conv(ctx: NodeContext) -> Tensor:
    bias = ctx.input(2) if ctx.has_input(2) else None
    return conv2d(ctx, ctx.input(0), ctx.input(1), bias)


def pool2d(
    ctx: NodeContext,
    x: Tensor,
    maximum: bool,
    nhwc: Perm = NHWC,
    element: Attribute | None = None,
) -> Tensor:
    """MaxPool/AveragePool; `nhwc` is the layout an ONNX NHWC input needs (QLinear)."""
    check_rank(x, "pooling")
    one_d = len(x.shape) == 3
    if one_d and nhwc != NHWC:
        raise Unsupported("1-D channels-last pooling is not supported")
    spatial = x.shape[2:] if nhwc == NHWC else x.shape[1:-1]  # channels_last
    win = window(ctx, spatial, ctx.attr("kernel_shape"))
    (x,) = as_2d(ctx, [x])
    ssa = ctx.value(x, nhwc)
    element = tensor_type(ssa).element_type if element is None else element
    ceil_mode = bool(ctx.attr("ceil_mode", 0))
    shape = pool2d_shape(
        shape_of(ssa), win.kernel, win.strides, win.dilations, win.pads, ceil_mode
    )
    properties = {
        "kernel": i64_array(win.kernel),
        "strides": i64_array(win.strides),
        "pads": i64_array(win.pads),
        "ceil_mode": unit(ceil_mode),
    }
    if maximum:
        op_type = MaxPool2DOp
        properties["dilations"] = i64_array(win.dilations)
    else:
        if set(win.dilations) != {1}:
            raise Unsupported("dilated average pooling is not supported")
        op_type = AvgPool2DOp
        properties["count_include_pad"] = unit(bool(ctx.attr("count_include_pad", 0)))
    y = ctx.output(op_type, [ssa], TensorType(element, shape), nhwc, **properties)
    return from_2d(ctx, y, one_d)


@converts("MaxPool", quantized=True)
def convert_max_pool(ctx: NodeContext) -> Tensor:
    ctx.reject_outputs_from(1, "the Indices")
    return pool2d(ctx, ctx.input(0), maximum=True)


@converts("AveragePool")
def convert_average_pool(ctx: NodeContext) -> Tensor:
    return pool2d(ctx, ctx.input(0), maximum=False)


def global_pool(
    ctx: NodeContext,
    x: Tensor,
    maximum: bool,
    nhwc: Perm = NHWC,
    element: Attribute | None = None,
) -> Tensor:
    check_rank(x, "global pooling")
    one_d = len(x.shape) == 3
    (x,) = as_2d(ctx, [x])
    ssa = ctx.value(x, nhwc)
    n, _, _, c = shape_of(ssa)
    element = tensor_type(ssa).element_type if element is None else element
    op_type = GlobalMaxPoolOp if maximum else GlobalAvgPoolOp
    y = ctx.output(op_type, [ssa], TensorType(element, (n, 1, 1, c)), nhwc)
    return from_2d(ctx, y, one_d)


@converts("GlobalMaxPool", quantized=True)
def convert_global_max_pool(ctx: NodeContext) -> Tensor:
    return global_pool(ctx, ctx.input(0), maximum=True)


@converts("GlobalAveragePool")
def convert_global_average_pool(ctx: NodeContext) -> Tensor:
    return global_pool(ctx, ctx.input(0), maximum=False)


@converts("BatchNormalization")
def convert_batch_norm(ctx: NodeContext) -> Value:
    ctx.reject_outputs_from(1, "the training-mode running mean/variance")
    ctx.reject_attr("training_mode", 0, "only inference batch norm")
    x = ctx.input(0)
    perm = layout.channels_last(len(x.shape))
    ssa = ctx.value(x, perm)
    params = [ctx.value(ctx.input(i)) for i in range(1, 5)]
    return ctx.output(
        BatchNormOp,
        [ssa, *params],
        TensorType(f32, shape_of(ssa)),
        perm,
        epsilon=f32_attr(ctx.attr("epsilon", 1e-5)),
    )


@converts("Resize", quantized=True)
def convert_resize(ctx: NodeContext) -> Value:
    x = ctx.input(0)
    if len(x.shape) != 4:
        raise Unsupported("only 4-D (NCHW) tensors can be resized")
    mode = ctx.attr("mode", "nearest")
    if mode not in ("nearest", "linear"):
        raise Unsupported(f"mode={mode} is not supported (nearest and linear only)")
    coordinate_mode = ctx.attr("coordinate_transformation_mode", "half_pixel")
    if coordinate_mode not in COORDINATE_MODES:
        raise Unsupported(
            f"coordinate_transformation_mode={coordinate_mode} is not supported"
        )
    nearest_mode = ctx.attr("nearest_mode", "round_prefer_floor")
    if nearest_mode not in NEAREST_MODES:
        raise Unsupported(f"nearest_mode={nearest_mode} is not supported")
    ctx.reject_attr("exclude_outside", 0, "only exclude_outside=0")
    ctx.reject_attr("antialias", 0, "no antialiasing")
    scales, sizes = resize_scales(ctx, x.shape)
    if scales[:2] != [1.0, 1.0] or sizes[:2] != list(x.shape[:2]):
        raise Unsupported("only H and W can be resized")
    ssa = ctx.value(x, NHWC)
    if mode == "linear" and isinstance(x, Value) and x.is_quantized:
        raise Unsupported("linear resize of integer tensors is not supported")
    element = tensor_type(ssa).element_type
    return ctx.output(
        ResizeOp,
        [ssa],
        TensorType(element, layout.permute(sizes, NHWC)),
        NHWC,
        mode=StringAttr(mode),
        coordinate_mode=StringAttr(coordinate_mode),
        nearest_mode=StringAttr(nearest_mode),
        scales=DenseArrayBase.from_list(f64, scales[2:]),
    )


def resize_scales(
    ctx: NodeContext, shape: Sequence[int]
) -> tuple[list[float], list[int]]:
    """Per-axis (ONNX order) scale factors and output sizes of a Resize."""
    rank = len(shape)
    axes = [layout.normalize_axis(a, rank) for a in ctx.attr("axes", range(rank))]
    scales = ctx.optional_const(2, "scales")
    sizes = ctx.optional_const(3, "sizes")
    full_scales, full_sizes = [1.0] * rank, list(shape)
    if scales is not None and scales.size:
        for axis, scale in zip(axes, scales.tolist(), strict=True):
            full_scales[axis] = float(scale)
            full_sizes[axis] = math.floor(shape[axis] * scale)
        return full_scales, full_sizes
    if sizes is None:
        raise Unsupported("Resize needs scales or sizes")
    policy = ctx.attr("keep_aspect_ratio_policy", "stretch")
    ratios = [
        size / shape[axis] for axis, size in zip(axes, sizes.tolist(), strict=True)
    ]
    if policy != "stretch":
        common = min(ratios) if policy == "not_larger" else max(ratios)
        ratios = [common] * len(axes)
    for axis, ratio, size in zip(axes, ratios, sizes.tolist(), strict=True):
        full_scales[axis] = ratio
        full_sizes[axis] = size if policy == "stretch" else round(shape[axis] * ratio)
    return full_scales, full_sizes
