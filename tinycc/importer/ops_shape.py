"""Data movement: reshapes, transposes, concat, split, slice, pad, identities.

Reshape and Flatten need the ONNX (row-major) order of the data, so they
relayout their input to it, unless the tag only moves unit axes (the
`[N, C, 1, 1]` flatten before a classifier). Squeeze and Unsqueeze only add
or drop unit axes and keep the tag; Transpose changes only the tag.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
from onnx import helper
from xdsl.dialects.builtin import (
    IntegerAttr,
    StringAttr,
    TensorType,
    bf16,
    f16,
    f32,
    f64,
    i64,
)

from tinycc.dialects.graph import (
    PAD_MODES,
    ConcatOp,
    PadOp,
    SliceOp,
    f32_attr,
    i64_array,
    shape_of,
    slice_shape,
    tensor_type,
)
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.importer import layout
from tinycc.importer.context import NodeContext, converts
from tinycc.importer.dtypes import same_quantization
from tinycc.importer.problems import Unsupported
from tinycc.importer.tensors import Const, QuantConst, Tensor, Value, perm_of


def reshape(ctx: NodeContext, x: Tensor, shape: Sequence[int]) -> Tensor:
    """`x` reshaped row-major in ONNX order; the result has the ONNX layout."""
    shape = tuple(shape)
    if shape == x.shape:
        return x
    if isinstance(x, Const):
        return Const(x.name, x.array.reshape(shape))
    if isinstance(x, QuantConst) and not x.qtype.is_per_axis:
        return replace(x, array=x.array.reshape(shape))
    if isinstance(x, Value) and layout.moves_only_unit_axes(x.perm, x.shape):
        ssa = x.ssa
    else:
        ssa = ctx.value(x, layout.identity(len(x.shape)))
    return Value(ctx.builder.reshape(ssa, shape), layout.identity(len(shape)))


def reshape_target(
    shape: Sequence[int], requested: Sequence[int], allowzero: bool
) -> tuple[int, ...]:
    """ONNX Reshape's output shape: `0` copies a dimension, `-1` is inferred."""
    result = [
        shape[i] if size == 0 and not allowzero else size
        for i, size in enumerate(requested)
    ]
    if -1 in result:
        known = math.prod(size for size in result if size != -1)
        result[result.index(-1)] = math.prod(shape) // known if known else 0
    if math.prod(result) != math.prod(shape):
        raise Unsupported(f"cannot reshape {list(shape)} to {list(requested)}")
    return tuple(result)


@converts("Reshape", quantized=True)
def convert_reshape(ctx: NodeContext) -> Tensor:
    x = ctx.input(0)
    requested = [int(v) for v in ctx.const(1, "shape")]
    allowzero = bool(ctx.attr("allowzero", 0))
    return reshape(ctx, x, reshape_target(x.shape, requested, allowzero))


@converts("Flatten", quantized=True)
def convert_flatten(ctx: NodeContext) -> Tensor:
    x = ctx.input(0)
    rank = len(x.shape)
    axis = ctx.attr("axis", 1)
    axis = rank if axis == rank else layout.normalize_axis(axis, rank)
    shape = (math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))
    return reshape(ctx, x, shape)


def squeeze(ctx: NodeContext, x: Tensor, axes: Iterable[int]) -> Tensor:
    """`x` without its unit `axes`; a computed tensor keeps its layout."""
    axes = set(axes)
    if any(x.shape[a] != 1 for a in axes):
        raise Unsupported(
            f"cannot squeeze axes {sorted(axes)} of shape {list(x.shape)}"
        )
    shape = [size for a, size in enumerate(x.shape) if a not in axes]
    if not isinstance(x, Value):
        return reshape(ctx, x, shape)
    perm = layout.without_axes(x.perm, axes)
    return Value(ctx.builder.reshape(x.ssa, layout.permute(shape, perm)), perm)


def unsqueeze(ctx: NodeContext, x: Tensor, axes: Iterable[int]) -> Tensor:
    """`x` with unit axes inserted at `axes` (numbered in the result)."""
    axes = sorted(axes)
    if isinstance(x, QuantConst):
        return x.with_unit_axes(axes)
    shape = list(x.shape)
    for axis in axes:
        shape.insert(axis, 1)
    if not isinstance(x, Value):
        return reshape(ctx, x, shape)
    perm = layout.with_new_axes(x.perm, axes)
    return Value(ctx.builder.reshape(x.ssa, layout.permute(shape, perm)), perm)


@converts("Squeeze", quantized=True)
def convert_squeeze(ctx: NodeContext) -> Tensor:
    x = ctx.input(0)
    axes = ctx.input_or_attr(1, "axes", since=13)
    if axes is None:
        axes = [a for a, size in enumerate(x.shape) if size == 1]
    return squeeze(ctx, x, {layout.normalize_axis(a, len(x.shape)) for a in axes})


@converts("Unsqueeze", quantized=True)
def convert_unsqueeze(ctx: NodeContext) -> Tensor:
    x = ctx.input(0)
    axes = ctx.input_or_attr(1, "axes", since=13)
    if not axes:
        raise Unsupported("Unsqueeze needs axes")
    rank = len(x.shape) + len(axes)
    return unsqueeze(ctx, x, [layout.normalize_axis(a, rank) for a in axes])


@converts("Transpose", quantized=True)
def convert_transpose(ctx: NodeContext) -> Tensor:
    x = ctx.input(0)
    perm = tuple(ctx.attr("perm", reversed(range(len(x.shape)))))
    if isinstance(x, QuantConst):
        return x.transposed(perm)
    return Value(x.ssa, layout.after_transpose(x.perm, perm))


def common_element(ssas: Sequence) -> object:
    """The element type shared by concatenated integer tensors, else f32."""
    elements = [tensor_type(ssa).element_type for ssa in ssas]
    quantized = [e for e in elements if isinstance(e, UniformQuantizedType)]
    if not quantized:
        return elements[0]
    if len(quantized) != len(elements) or any(
        not same_quantization(e, quantized[0]) for e in quantized
    ):
        raise Unsupported(
            "integer tensors with different quantization cannot be joined"
        )
    return elements[0]


def concat(
    ctx: NodeContext,
    tensors: Sequence[Tensor],
    axis: int,
    element: object | None = None,
) -> Value:
    """Concatenation in the layout of the first computed input."""
    rank = len(tensors[0].shape)
    axis = layout.normalize_axis(axis, rank)
    perm = next(
        (t.perm for t in tensors if isinstance(t, Value)), layout.identity(rank)
    )
    ssas = [ctx.value(t, perm) for t in tensors]
    if element is None:
        element = common_element(ssas)
    ir_axis = layout.ir_axis(perm, axis)
    shape = list(shape_of(ssas[0]))
    shape[ir_axis] = sum(shape_of(ssa)[ir_axis] for ssa in ssas)
    return ctx.output(
        ConcatOp,
        [ssas],
        TensorType(element, shape),
        perm,
        axis=IntegerAttr(ir_axis, i64),
    )


@converts("Concat", quantized=True)
def convert_concat(ctx: NodeContext) -> Value:
    tensors = [ctx.input(i) for i in range(len(ctx.node.input)) if ctx.has_input(i)]
    return concat(ctx, tensors, ctx.attr("axis"))


def strided_slice(
    ctx: NodeContext,
    x: Tensor,
    starts: Sequence[int],
    ends: Sequence[int],
    steps: Sequence[int],
) -> Tensor:
    """A slice given normalized ONNX-order bounds for every axis."""
    if (
        list(starts) == [0] * len(starts)
        and tuple(ends) == x.shape
        and set(steps) <= {1}
    ):
        return x
    perm = perm_of(x)
    ssa = ctx.value(x, perm)
    starts, ends, steps = (layout.permute(v, perm) for v in (starts, ends, steps))
    shape = slice_shape(shape_of(ssa), starts, ends, steps)
    return ctx.output(
        SliceOp,
        [ssa],
        TensorType(tensor_type(ssa).element_type, shape),
        perm,
        starts=i64_array(starts),
        ends=i64_array(ends),
        steps=i64_array(steps),
    )


def clamp_bounds(start: int, end: int, step: int, size: int) -> tuple[int, int]:
    """ONNX Slice's clamping of one axis' bounds (it differs from Python's)."""
    start = start + size if start < 0 else start
    end = end + size if end < 0 else end
    if step > 0:
        return min(max(start, 0), size), min(max(end, 0), size)
    return min(max(start, 0), size - 1), min(max(end, -1), size - 1)


@converts("Slice", quantized=True)
def convert_slice(ctx: NodeContext) -> Tensor:
    x = ctx.input(0)
    rank = len(x.shape)
    starts = [int(v) for v in ctx.const(1, "starts")]
    ends = [int(v) for v in ctx.const(2, "ends")]
    axes = ctx.optional_const(3, "axes")
    axes = range(len(starts)) if axes is None else [int(a) for a in axes]
    steps = ctx.optional_const(4, "steps")
    steps = [1] * len(starts) if steps is None else [int(s) for s in steps]
    full_starts, full_ends, full_steps = [0] * rank, list(x.shape), [1] * rank
    for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
        axis = layout.normalize_axis(axis, rank)
        if step == 0:
            raise Unsupported("slice step 0")
        full_starts[axis], full_ends[axis] = clamp_bounds(
            start, end, step, x.shape[axis]
        )
        full_steps[axis] = step
    return strided_slice(ctx, x, full_starts, full_ends, full_steps)


@converts("Split", quantized=True)
def convert_split(ctx: NodeContext) -> list[Tensor]:
    x = ctx.input(0)
    rank = len(x.shape)
    axis = layout.normalize_axis(ctx.attr("axis", 0), rank)
    size = x.shape[axis]
    sizes = ctx.input_or_attr(1, "split", since=13)
    if sizes is None:
        count = ctx.attr("num_outputs", len(ctx.node.output))
        chunk = -(-size // count)
        sizes = [chunk] * (count - 1) + [size - chunk * (count - 1)]
    outputs, begin = [], 0
    for length in sizes:
        starts, ends = [0] * rank, list(x.shape)
        starts[axis], ends[axis] = begin, begin + length
        outputs.append(strided_slice(ctx, x, starts, ends, [1] * rank))
        begin += length
    return outputs


@converts("Pad", quantized=True)
def convert_pad(ctx: NodeContext) -> Tensor:
    mode = ctx.attr("mode", "constant")
    if mode not in PAD_MODES:
        raise Unsupported(f"mode={mode} is not supported (only {', '.join(PAD_MODES)})")
    x = ctx.input(0)
    rank = len(x.shape)
    pads = [int(p) for p in ctx.const(1, "pads")]
    axes = ctx.optional_const(3, "axes")
    axes = (
        range(rank)
        if axes is None
        else [layout.normalize_axis(int(a), rank) for a in axes]
    )
    begins, ends = [0] * rank, [0] * rank
    for i, axis in enumerate(axes):
        begins[axis], ends[axis] = pads[i], pads[i + len(axes)]
    if min(begins + ends) < 0:  # negative padding crops
        x = strided_slice(
            ctx,
            x,
            [max(0, -b) for b in begins],
            [size - max(0, -e) for size, e in zip(x.shape, ends, strict=True)],
            [1] * rank,
        )
        begins, ends = [max(0, b) for b in begins], [max(0, e) for e in ends]
    if not any(begins + ends):
        return x
    perm = perm_of(x)
    ssa = ctx.value(x, perm)
    begins, ends = layout.permute(begins, perm), layout.permute(ends, perm)
    shape = [
        size + b + e for size, b, e in zip(shape_of(ssa), begins, ends, strict=True)
    ]
    element = tensor_type(ssa).element_type
    return ctx.output(
        PadOp,
        [ssa],
        TensorType(element, shape),
        perm,
        pads=i64_array([*begins, *ends]),
        value=f32_attr(pad_value(ctx.optional_const(2, "constant_value"), element)),
        mode=StringAttr(mode),
    )


def pad_value(value: np.ndarray | None, element: object) -> float:
    """The real value of the padding; integer data pads with a stored integer."""
    if value is None or value.size == 0:
        value = np.zeros(())
    number = float(value.reshape(-1)[0])
    if not isinstance(element, UniformQuantizedType):
        return number
    if element.is_per_axis:
        raise Unsupported("padding a per-axis quantized tensor is not supported")
    return (number - element.zero_point_values[0]) * element.scale_values[0]


@converts("Identity", quantized=True)
def convert_identity(ctx: NodeContext) -> Tensor:
    return ctx.input(0)


@converts("Dropout", quantized=True)
def convert_dropout(ctx: NodeContext) -> Tensor:
    ctx.reject_outputs_from(1, "the Dropout mask")
    training = ctx.optional_const(2, "training_mode")
    if training is not None and bool(training):
        raise Unsupported("training_mode=true is not supported (inference only)")
    return ctx.input(0)


@converts("Cast", quantized=True)
def convert_cast(ctx: NodeContext) -> Tensor:
    """A cast of a computed tensor to its own type disappears; others are refused."""
    x = ctx.input(0)
    source = _element_dtype(x)
    target = helper.tensor_dtype_to_np_dtype(ctx.attr("to"))
    if source != target:
        raise Unsupported(f"Cast from {source} to {target} is not supported")
    return x


FLOAT_NAMES = {
    f32: np.dtype("float32"),
    f16: "float16",
    bf16: "bfloat16",
    f64: "float64",
}


def _element_dtype(tensor: Tensor) -> np.dtype | str:
    """The numpy dtype of an ONNX tensor (of the integers, if quantized)."""
    if isinstance(tensor, QuantConst) and tensor.dequantized:
        return np.dtype("float32")
    if not isinstance(tensor, Value):
        return tensor.array.dtype
    element = tensor.element_type
    if isinstance(element, UniformQuantizedType):
        return element.numpy_dtype
    return FLOAT_NAMES.get(element, str(element))
