"""The `graph` dialect: a neural network as written, on whole tensors.

Value semantics, one op per NN operator, canonical NHWC layout for every op
that knows about images (`conv2d`, pooling, `batch_norm`, `resize`):
activations are `[N, H, W, C]` and conv weights `[C_out, KH, KW, C_in/groups]`
(OHWI). Ops without a layout (elementwise, reshape, transpose, concat, ...)
take explicit axes. Quantization lives in the element type
(`!quant.uniform<...>`), so the same ops describe float and int8 graphs.

Activations fused into a producer are clamps in the real domain:
`{clamp_min = 0.0 : f32, clamp_max = 6.0 : f32}` is ReLU6.

Every op checks its result shape against its shape rule (the `*_shape`
functions below, which the importer uses too).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import (
    I64,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import ConstantLike, OpTrait, Pure
from xdsl.utils.exceptions import VerifyException

from tinycc import weights
from tinycc.dialects.quant import UniformQuantizedType

# Shape rules ------------------------------------------------------------------


def broadcast_shape(*shapes: Sequence[int]) -> tuple[int, ...]:
    """numpy/ONNX multidirectional broadcasting."""
    try:
        return tuple(np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError:
        raise VerifyException(
            f"shapes {' and '.join(str(list(s)) for s in shapes)} do not broadcast"
        ) from None


def window_output_size(
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    pad_begin: int,
    pad_end: int,
    ceil_mode: bool = False,
) -> int:
    """Output length of a sliding window (conv or pool) along one axis."""
    span = dilation * (kernel - 1) + 1
    covered = size + pad_begin + pad_end - span
    if covered < 0:
        raise VerifyException(
            f"window of extent {span} does not fit input {size} with pads "
            f"{pad_begin}+{pad_end}"
        )
    steps = -(-covered // stride) if ceil_mode else covered // stride
    # A ceil-mode window must start inside the input or its begin padding.
    if ceil_mode and steps * stride >= size + pad_begin:
        steps -= 1
    return steps + 1


def conv2d_shape(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    pads: Sequence[int],
    groups: int,
) -> tuple[int, ...]:
    n, h, w, c = input_shape
    c_out, kh, kw, c_per_group = weight_shape
    if c != c_per_group * groups:
        raise VerifyException(
            f"input has {c} channels but weight expects {c_per_group} x {groups} groups"
        )
    if c_out % groups:
        raise VerifyException(f"{c_out} output channels not divisible by {groups}")
    oh = window_output_size(h, kh, strides[0], dilations[0], pads[0], pads[2])
    ow = window_output_size(w, kw, strides[1], dilations[1], pads[1], pads[3])
    return (n, oh, ow, c_out)


def pool2d_shape(
    input_shape: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    pads: Sequence[int],
    ceil_mode: bool,
) -> tuple[int, ...]:
    n, h, w, c = input_shape
    oh = window_output_size(
        h, kernel[0], strides[0], dilations[0], pads[0], pads[2], ceil_mode
    )
    ow = window_output_size(
        w, kernel[1], strides[1], dilations[1], pads[1], pads[3], ceil_mode
    )
    return (n, oh, ow, c)


def matmul_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """numpy.matmul shape rule (1-D operands promoted and then squeezed)."""
    a2 = (1, *a) if len(a) == 1 else tuple(a)
    b2 = (*b, 1) if len(b) == 1 else tuple(b)
    if a2[-1] != b2[-2]:
        raise VerifyException(f"matmul inner dimensions differ: {list(a)} @ {list(b)}")
    batch = broadcast_shape(a2[:-2], b2[:-2])
    shape = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b) == 1:
        shape = shape[:-1]
    return shape


def reduce_shape(
    shape: Sequence[int], axes: Sequence[int], keepdims: bool
) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def slice_shape(
    shape: Sequence[int],
    starts: Sequence[int],
    ends: Sequence[int],
    steps: Sequence[int],
) -> tuple[int, ...]:
    return tuple(
        len(range(s, e, st)) for s, e, st in zip(starts, ends, steps, strict=True)
    )


# Helpers ----------------------------------------------------------------------


def tensor_type(value: SSAValue | Attribute) -> TensorType:
    t = value.type if isinstance(value, SSAValue) else value
    if not isinstance(t, TensorType):
        raise VerifyException(f"expected a ranked tensor, got {t}")
    return t


def shape_of(value: SSAValue | Attribute) -> tuple[int, ...]:
    return tensor_type(value).get_shape()


def storage_dtype(value: SSAValue | Attribute) -> np.dtype:
    """The numpy dtype holding a tensor's values (the storage if quantized)."""
    element = tensor_type(value).element_type
    if isinstance(element, UniformQuantizedType):
        return element.numpy_dtype
    return weights.numpy_dtype(element)


def is_quantized(value: SSAValue | Attribute) -> bool:
    return isinstance(tensor_type(value).element_type, UniformQuantizedType)


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def f32_attr(value: float) -> FloatAttr:
    return FloatAttr(float(value), Float32Type())


def _check_shape(op: Operation, expected: Sequence[int]) -> None:
    actual = shape_of(op.results[0])
    if tuple(actual) != tuple(expected):
        raise VerifyException(
            f"{op.name}: result shape {list(actual)} but the operands give "
            f"{list(expected)}"
        )


def _check_len(op: Operation, name: str, values: Sequence[int], length: int) -> None:
    if len(values) != length:
        raise VerifyException(
            f"{op.name}: {name} needs {length} values, got {len(values)}"
        )


def _check_axes(op: Operation, axes: Sequence[int], rank: int) -> None:
    if len(set(axes)) != len(axes) or any(not 0 <= a < rank for a in axes):
        raise VerifyException(f"{op.name}: axes {list(axes)} invalid for rank {rank}")


def _check_choice(op: Operation, name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise VerifyException(
            f"{op.name}: {name} must be one of {', '.join(choices)}, got '{value}'"
        )


class QuantizedTypesFitShapes(OpTrait):
    """Per-axis quantized types have an in-range axis and one scale per index."""

    def verify(self, op: Operation) -> None:
        for value in (*op.operands, *op.results):
            t = value.type
            if not isinstance(t, TensorType):
                continue
            element = t.element_type
            if not isinstance(element, UniformQuantizedType) or not element.is_per_axis:
                continue
            shape, axis = t.get_shape(), element.axis.data
            if axis >= len(shape):
                raise VerifyException(
                    f"{op.name}: quantization axis {axis} of a rank-{len(shape)} tensor"
                )
            if len(element.scales.data) != shape[axis]:
                raise VerifyException(
                    f"{op.name}: {len(element.scales.data)} scales for dimension "
                    f"{axis} of size {shape[axis]}"
                )


# Constant -------------------------------------------------------------------


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A named tensor constant (weights, biases, tables).

    `%w = graph.constant @conv1.weight : tensor<8x3x3x3xf32>` refers to the
    array `conv1.weight` of the weights side file; small constants print
    inline: `%b = graph.constant @b : tensor<2xf32> = dense<[0.5, 1.0]>`.
    A quantized constant stores its integers (the storage type).
    """

    name = "graph.constant"
    sym_name = prop_def(StringAttr)
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure(), ConstantLike(), QuantizedTypesFitShapes())

    def __init__(
        self, sym_name: str, array: np.ndarray, result_type: TensorType | None = None
    ):
        value = weights.dense_from_numpy(array)
        super().__init__(
            properties={"sym_name": StringAttr(sym_name), "value": value},
            result_types=[result_type if result_type is not None else value.type],
        )

    @property
    def array(self) -> np.ndarray:
        return weights.numpy_from_dense(self.value)

    def verify_(self) -> None:
        result = tensor_type(self.result)
        stored = self.value.type
        if tuple(stored.get_shape()) != tuple(result.get_shape()):
            raise VerifyException(
                f"graph.constant @{self.sym_name.data}: data shape "
                f"{list(stored.get_shape())} differs from result "
                f"{list(result.get_shape())}"
            )
        element = result.element_type
        expected = (
            element.storage if isinstance(element, UniformQuantizedType) else element
        )
        if stored.get_element_type() != expected:
            raise VerifyException(
                f"graph.constant @{self.sym_name.data}: data of type "
                f"{stored.get_element_type()} for a tensor of {element}"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)
        if len(self.value) <= weights.INLINE_ELEMENTS:
            printer.print_string(" = ")
            self.value.print_without_type(printer)
        else:
            weights.deposit(self.sym_name.data, self.array)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        start = parser.pos
        name = parser.parse_symbol_name().data
        end = parser.pos
        parser.parse_punctuation(":")
        result_type = tensor_type(parser.parse_type())
        element = result_type.element_type
        storage = (
            element.storage if isinstance(element, UniformQuantizedType) else element
        )
        if parser.parse_optional_punctuation("=") is not None:
            parser.parse_keyword("dense")
            value = parser.parse_dense_int_or_fp_elements_attr(
                TensorType(storage, result_type.get_shape())
            )
            array = weights.numpy_from_dense(value)
        else:
            array = weights.lookup(name)
            if array is None:
                parser.raise_error(
                    f"graph.constant @{name}: no data for this constant (is the "
                    "weights side file missing?)",
                    start,
                    end,
                )
        if array.dtype != weights.numpy_dtype(storage):
            parser.raise_error(
                f"graph.constant @{name}: data has type {array.dtype}, expected "
                f"{weights.numpy_dtype(storage)}"
            )
        op = cls(name, array, result_type)
        op.attributes.update(parser.parse_optional_attr_dict())
        return op


# Base classes -------------------------------------------------------------------

_FORMAT = "operands attr-dict `:` functional-type(operands, results)"


class GraphOp(IRDLOperation):
    """Common ground: pure, printed as `graph.x %a, %b {props} : (...) -> ...`."""

    assembly_format: ClassVar[str | None] = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)
    traits = traits_def(Pure(), QuantizedTypesFitShapes())


class FusedClampMixin:
    """Optional fused activation, as a clamp in the real domain."""

    clamp_min = opt_prop_def(FloatAttr)
    clamp_max = opt_prop_def(FloatAttr)

    def verify_clamp(self: Operation) -> None:
        low, high = self.clamp_min, self.clamp_max
        if low is not None and high is not None and low.value.data > high.value.data:
            raise VerifyException(f"{self.name}: clamp_min above clamp_max")


class UnaryOp(GraphOp):
    """Elementwise: the result has the operand's shape."""

    input = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _check_shape(self, shape_of(self.input))


class BinaryOp(FusedClampMixin, GraphOp):
    """Elementwise with numpy broadcasting and an optional fused clamp."""

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        self.verify_clamp()
        _check_shape(self, broadcast_shape(shape_of(self.lhs), shape_of(self.rhs)))


# Linear algebra -----------------------------------------------------------------


@irdl_op_definition
class Conv2DOp(FusedClampMixin, GraphOp):
    """2-D convolution, NHWC input, OHWI weight, optional bias `[C_out]`.

    `pads` are `[top, left, bottom, right]`. `groups` = C_in is depthwise
    (weight `[C_in * multiplier, KH, KW, 1]`).
    """

    name = "graph.conv2d"
    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    result = result_def(TensorType)
    strides = prop_def(DenseArrayBase[I64])
    dilations = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    groups = prop_def(IntegerAttr[I64])

    @property
    def is_depthwise(self) -> bool:
        groups = self.groups.value.data
        return groups > 1 and groups == shape_of(self.input)[3]

    def verify_(self) -> None:
        self.verify_clamp()
        strides, dilations = self.strides.get_values(), self.dilations.get_values()
        pads = self.pads.get_values()
        _check_len(self, "strides", strides, 2)
        _check_len(self, "dilations", dilations, 2)
        _check_len(self, "pads", pads, 4)
        if min(strides) < 1 or min(dilations) < 1 or min(pads) < 0:
            raise VerifyException("graph.conv2d: strides/dilations >= 1, pads >= 0")
        if len(shape_of(self.input)) != 4 or len(shape_of(self.weight)) != 4:
            raise VerifyException("graph.conv2d: input and weight must be 4-D")
        shape = conv2d_shape(
            shape_of(self.input),
            shape_of(self.weight),
            strides,
            dilations,
            pads,
            self.groups.value.data,
        )
        if self.bias is not None and shape_of(self.bias) != (shape[3],):
            raise VerifyException(f"graph.conv2d: bias must have shape [{shape[3]}]")
        _check_shape(self, shape)


@irdl_op_definition
class FullyConnectedOp(FusedClampMixin, GraphOp):
    """`result[..., n] = sum_k input[..., k] * weight[n, k] + bias[n]`."""

    name = "graph.fully_connected"
    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        self.verify_clamp()
        in_shape, w_shape = shape_of(self.input), shape_of(self.weight)
        if len(w_shape) != 2 or in_shape[-1] != w_shape[1]:
            raise VerifyException(
                f"graph.fully_connected: weight {list(w_shape)} does not fit input "
                f"{list(in_shape)}"
            )
        if self.bias is not None and shape_of(self.bias) != (w_shape[0],):
            raise VerifyException(
                f"graph.fully_connected: bias must have shape [{w_shape[0]}]"
            )
        _check_shape(self, (*in_shape[:-1], w_shape[0]))


@irdl_op_definition
class MatMulOp(GraphOp):
    """numpy.matmul on two tensors."""

    name = "graph.matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        _check_shape(self, matmul_shape(shape_of(self.lhs), shape_of(self.rhs)))


# Elementwise --------------------------------------------------------------------


@irdl_op_definition
class AddOp(BinaryOp):
    name = "graph.add"


@irdl_op_definition
class SubOp(BinaryOp):
    name = "graph.sub"


@irdl_op_definition
class MulOp(BinaryOp):
    name = "graph.mul"


@irdl_op_definition
class DivOp(BinaryOp):
    name = "graph.div"


@irdl_op_definition
class PReluOp(GraphOp):
    """`x if x >= 0 else slope * x`, slope broadcast onto x."""

    name = "graph.prelu"
    input = operand_def(TensorType)
    slope = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        shape = shape_of(self.input)
        if broadcast_shape(shape, shape_of(self.slope)) != shape:
            raise VerifyException("graph.prelu: slope must broadcast to the input")
        _check_shape(self, shape)


@irdl_op_definition
class ReluOp(UnaryOp):
    name = "graph.relu"


@irdl_op_definition
class SigmoidOp(UnaryOp):
    name = "graph.sigmoid"


@irdl_op_definition
class TanhOp(UnaryOp):
    name = "graph.tanh"


@irdl_op_definition
class ExpOp(UnaryOp):
    name = "graph.exp"


@irdl_op_definition
class HardSwishOp(UnaryOp):
    """`x * relu6(x + 3) / 6`."""

    name = "graph.hard_swish"


@irdl_op_definition
class ClampOp(UnaryOp):
    """`min(max(x, min), max)`; ReLU6 is `{min = 0.0, max = 6.0}`."""

    name = "graph.clamp"
    min = prop_def(FloatAttr)
    max = prop_def(FloatAttr)

    def verify_(self) -> None:
        super().verify_()
        if self.min.value.data > self.max.value.data:
            raise VerifyException("graph.clamp: min above max")


@irdl_op_definition
class LeakyReluOp(UnaryOp):
    name = "graph.leaky_relu"
    alpha = prop_def(FloatAttr)


@irdl_op_definition
class HardSigmoidOp(UnaryOp):
    """`max(0, min(1, alpha * x + beta))`."""

    name = "graph.hard_sigmoid"
    alpha = prop_def(FloatAttr)
    beta = prop_def(FloatAttr)


@irdl_op_definition
class GeluOp(UnaryOp):
    """GELU, exact (`approximate = "none"`) or the tanh approximation."""

    name = "graph.gelu"
    approximate = prop_def(StringAttr)

    def verify_(self) -> None:
        super().verify_()
        _check_choice(self, "approximate", self.approximate.data, ("none", "tanh"))


class AxisUnaryOp(UnaryOp):
    axis = prop_def(IntegerAttr[I64])

    def verify_(self) -> None:
        super().verify_()
        _check_axes(self, [self.axis.value.data], len(shape_of(self.input)))


@irdl_op_definition
class SoftmaxOp(AxisUnaryOp):
    name = "graph.softmax"


@irdl_op_definition
class LogSoftmaxOp(AxisUnaryOp):
    name = "graph.log_softmax"


# Pooling (NHWC) ------------------------------------------------------------------


class Pool2DOp(GraphOp):
    input = operand_def(TensorType)
    result = result_def(TensorType)
    kernel = prop_def(DenseArrayBase[I64])
    strides = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    ceil_mode = opt_prop_def(UnitAttr)

    def window_dilations(self) -> tuple[int, ...]:
        return (1, 1)

    def verify_(self) -> None:
        kernel, strides = self.kernel.get_values(), self.strides.get_values()
        pads = self.pads.get_values()
        _check_len(self, "kernel", kernel, 2)
        _check_len(self, "strides", strides, 2)
        _check_len(self, "pads", pads, 4)
        if min(kernel) < 1 or min(strides) < 1 or min(pads) < 0:
            raise VerifyException(f"{self.name}: kernel/strides >= 1, pads >= 0")
        if any(p >= k for p, k in zip(pads, (*kernel, *kernel), strict=True)):
            raise VerifyException(
                f"{self.name}: padding must be smaller than the kernel"
            )
        if len(shape_of(self.input)) != 4:
            raise VerifyException(f"{self.name}: input must be 4-D NHWC")
        _check_shape(
            self,
            pool2d_shape(
                shape_of(self.input),
                kernel,
                strides,
                self.window_dilations(),
                pads,
                self.ceil_mode is not None,
            ),
        )


@irdl_op_definition
class MaxPool2DOp(Pool2DOp):
    name = "graph.max_pool2d"
    dilations = opt_prop_def(DenseArrayBase[I64])

    def window_dilations(self) -> tuple[int, ...]:
        return (1, 1) if self.dilations is None else self.dilations.get_values()


@irdl_op_definition
class AvgPool2DOp(Pool2DOp):
    """Average pooling; padded cells count only with `count_include_pad`."""

    name = "graph.avg_pool2d"
    count_include_pad = opt_prop_def(UnitAttr)


class GlobalPoolOp(GraphOp):
    """`[N, H, W, C] -> [N, 1, 1, C]`."""

    input = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        shape = shape_of(self.input)
        if len(shape) != 4:
            raise VerifyException(f"{self.name}: input must be 4-D NHWC")
        _check_shape(self, (shape[0], 1, 1, shape[3]))


@irdl_op_definition
class GlobalAvgPoolOp(GlobalPoolOp):
    name = "graph.global_avg_pool"


@irdl_op_definition
class GlobalMaxPoolOp(GlobalPoolOp):
    name = "graph.global_max_pool"


# Data movement ------------------------------------------------------------------


@irdl_op_definition
class ReshapeOp(GraphOp):
    """Row-major reshape to the result type's shape."""

    name = "graph.reshape"
    input = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        if math.prod(shape_of(self.input)) != math.prod(shape_of(self.result)):
            raise VerifyException(
                f"graph.reshape: {list(shape_of(self.input))} and "
                f"{list(shape_of(self.result))} differ in size"
            )


@irdl_op_definition
class TransposeOp(GraphOp):
    """`result.shape[i] = input.shape[perm[i]]`."""

    name = "graph.transpose"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    perm = prop_def(DenseArrayBase[I64])

    def verify_(self) -> None:
        shape, perm = shape_of(self.input), self.perm.get_values()
        if sorted(perm) != list(range(len(shape))):
            raise VerifyException(f"graph.transpose: {list(perm)} is not a permutation")
        _check_shape(self, [shape[p] for p in perm])


@irdl_op_definition
class ConcatOp(GraphOp):
    name = "graph.concat"
    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr[I64])

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("graph.concat: needs at least one input")
        shapes = [shape_of(v) for v in self.inputs]
        axis = self.axis.value.data
        _check_axes(self, [axis], len(shapes[0]))
        for s in shapes:
            if len(s) != len(shapes[0]) or any(
                d != d0
                for i, (d, d0) in enumerate(zip(s, shapes[0], strict=True))
                if i != axis
            ):
                raise VerifyException(
                    f"graph.concat: shapes {[list(s) for s in shapes]} differ off "
                    f"axis {axis}"
                )
        expected = list(shapes[0])
        expected[axis] = sum(s[axis] for s in shapes)
        _check_shape(self, expected)


PAD_MODES = ("constant", "reflect", "edge", "wrap")


@irdl_op_definition
class PadOp(GraphOp):
    """Padding; `pads` = `[begin_0, ..., begin_n, end_0, ..., end_n]`.

    `mode` is ONNX's: `constant` (with `value`, printed only when not the
    default), `reflect` (mirror without repeating the edge), `edge` or `wrap`.
    """

    name = "graph.pad"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    pads = prop_def(DenseArrayBase[I64])
    value = prop_def(FloatAttr)
    mode = prop_def(StringAttr, default_value=StringAttr("constant"))

    def verify_(self) -> None:
        shape, pads = shape_of(self.input), self.pads.get_values()
        _check_len(self, "pads", pads, 2 * len(shape))
        _check_choice(self, "mode", self.mode.data, PAD_MODES)
        if min(pads, default=0) < 0:
            raise VerifyException("graph.pad: pads must be non-negative (use slice)")
        rank = len(shape)
        if self.mode.data == "reflect" and any(
            max(pads[i], pads[rank + i]) >= d for i, d in enumerate(shape)
        ):
            raise VerifyException("graph.pad: reflect pads must be below the size")
        _check_shape(self, [d + pads[i] + pads[rank + i] for i, d in enumerate(shape)])


@irdl_op_definition
class SliceOp(GraphOp):
    """Strided slice with one normalized `start:end:step` per axis."""

    name = "graph.slice"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    starts = prop_def(DenseArrayBase[I64])
    ends = prop_def(DenseArrayBase[I64])
    steps = prop_def(DenseArrayBase[I64])

    def verify_(self) -> None:
        shape = shape_of(self.input)
        starts, ends = self.starts.get_values(), self.ends.get_values()
        steps = self.steps.get_values()
        for name, values in (("starts", starts), ("ends", ends), ("steps", steps)):
            _check_len(self, name, values, len(shape))
        if 0 in steps:
            raise VerifyException("graph.slice: steps must be non-zero")
        if any(
            not -1 <= s <= d for s, d in zip(starts + ends, shape + shape, strict=True)
        ):
            raise VerifyException("graph.slice: starts/ends must be normalized")
        _check_shape(self, slice_shape(shape, starts, ends, steps))


class ReduceOp(GraphOp):
    input = operand_def(TensorType)
    result = result_def(TensorType)
    axes = prop_def(DenseArrayBase[I64])
    keepdims = opt_prop_def(UnitAttr)

    def verify_(self) -> None:
        shape, axes = shape_of(self.input), self.axes.get_values()
        _check_axes(self, axes, len(shape))
        _check_shape(self, reduce_shape(shape, axes, self.keepdims is not None))


@irdl_op_definition
class ReduceMeanOp(ReduceOp):
    name = "graph.reduce_mean"


@irdl_op_definition
class ReduceSumOp(ReduceOp):
    name = "graph.reduce_sum"


@irdl_op_definition
class ReduceMaxOp(ReduceOp):
    name = "graph.reduce_max"


# Normalization and resampling ------------------------------------------------------


@irdl_op_definition
class BatchNormOp(GraphOp):
    """Inference batch norm over the last (channel) axis."""

    name = "graph.batch_norm"
    input = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = operand_def(TensorType)
    mean = operand_def(TensorType)
    variance = operand_def(TensorType)
    result = result_def(TensorType)
    epsilon = prop_def(FloatAttr)

    def verify_(self) -> None:
        shape = shape_of(self.input)
        for v in (self.scale, self.bias, self.mean, self.variance):
            if shape_of(v) != (shape[-1],):
                raise VerifyException(
                    f"graph.batch_norm: parameters must have shape [{shape[-1]}]"
                )
        _check_shape(self, shape)


RESIZE_MODES = ("nearest", "linear")
COORDINATE_MODES = (
    "half_pixel",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "half_pixel_symmetric",
)
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


@irdl_op_definition
class ResizeOp(GraphOp):
    """Spatial resize of an NHWC tensor, with ONNX's coordinate modes.

    `scales` are the `[h, w]` factors the coordinate transform divides by
    (ONNX keeps them separate from the output size).
    """

    name = "graph.resize"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    mode = prop_def(StringAttr)
    coordinate_mode = prop_def(StringAttr)
    nearest_mode = prop_def(StringAttr)
    scales = prop_def(DenseArrayBase)

    def verify_(self) -> None:
        _check_choice(self, "mode", self.mode.data, RESIZE_MODES)
        _check_choice(
            self, "coordinate_mode", self.coordinate_mode.data, COORDINATE_MODES
        )
        _check_choice(self, "nearest_mode", self.nearest_mode.data, NEAREST_MODES)
        _check_len(self, "scales", self.scales.get_values(), 2)
        in_shape, out_shape = shape_of(self.input), shape_of(self.result)
        if len(in_shape) != 4 or len(out_shape) != 4:
            raise VerifyException("graph.resize: input and result must be 4-D NHWC")
        if (in_shape[0], in_shape[3]) != (out_shape[0], out_shape[3]):
            raise VerifyException("graph.resize: only H and W may change")


# Quantization -----------------------------------------------------------------------


@irdl_op_definition
class QuantizeOp(GraphOp):
    """Real -> quantized, with the result type's scale and zero point."""

    name = "graph.quantize"
    input = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        if is_quantized(self.input) or not is_quantized(self.result):
            raise VerifyException(
                "graph.quantize: takes a real tensor, gives a quantized one"
            )
        _check_shape(self, shape_of(self.input))


@irdl_op_definition
class DequantizeOp(GraphOp):
    """Quantized -> real."""

    name = "graph.dequantize"
    input = operand_def(TensorType)
    result = result_def(TensorType)

    def verify_(self) -> None:
        if not is_quantized(self.input) or is_quantized(self.result):
            raise VerifyException(
                "graph.dequantize: takes a quantized tensor, gives a real one"
            )
        _check_shape(self, shape_of(self.input))


Graph = Dialect(
    "graph",
    [
        ConstantOp,
        Conv2DOp,
        FullyConnectedOp,
        MatMulOp,
        AddOp,
        SubOp,
        MulOp,
        DivOp,
        PReluOp,
        ReluOp,
        SigmoidOp,
        TanhOp,
        ExpOp,
        HardSwishOp,
        ClampOp,
        LeakyReluOp,
        HardSigmoidOp,
        GeluOp,
        SoftmaxOp,
        LogSoftmaxOp,
        MaxPool2DOp,
        AvgPool2DOp,
        GlobalAvgPoolOp,
        GlobalMaxPoolOp,
        ReshapeOp,
        TransposeOp,
        ConcatOp,
        PadOp,
        SliceOp,
        ReduceMeanOp,
        ReduceSumOp,
        ReduceMaxOp,
        BatchNormOp,
        ResizeOp,
        QuantizeOp,
        DequantizeOp,
    ],
)
