"""IR types of graph inputs, decided by how the graph reads them.

A 4-D input that reaches a convolution (or pooling, ...) through
layout-agnostic ops is an NCHW image: its IR argument is NHWC, with
`onnx.perm`, so no transpose runs on the device. An input that meets a
Transpose first (a TensorFlow export of an NHWC image) keeps its layout, and
the Transpose disappears into the layout tag. An integer input is quantized
with the scale and zero point of the ops that read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import onnx
from onnx import helper
from xdsl.dialects.builtin import TensorType, f32
from xdsl.ir import Attribute

from tinycc.dialects.quant import PER_TENSOR
from tinycc.importer import layout
from tinycc.importer.context import domain_of
from tinycc.importer.dtypes import (
    STORAGE_ELEM_TYPES,
    check_activation_type,
    quantized_type,
)
from tinycc.importer.layout import NHWC, Perm
from tinycc.importer.problems import Unsupported
from tinycc.importer.qoperator import MICROSOFT, quantized_operands

Consumers = Mapping[str, Sequence[tuple[onnx.NodeProto, int]]]

CHANNELS_FIRST = frozenset(
    [("", op) for op in ("Conv", "QLinearConv", "MaxPool", "AveragePool",
                         "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization",
                         "Resize")]
    + [(MICROSOFT, "QLinearAveragePool"), (MICROSOFT, "QLinearGlobalAveragePool")]
)  # fmt: skip

# Ops through which the preferred layout of their input is that of their output.
TRANSPARENT = frozenset(
    [("", op) for op in ("Add", "Sub", "Mul", "Div", "PRelu", "Relu", "Clip",
                         "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
                         "Gelu", "Exp", "QuantizeLinear", "DequantizeLinear",
                         "Identity", "Dropout", "Cast", "Pad", "Concat", "Slice",
                         "Split")]
    + [(MICROSOFT, op) for op in ("QuantizeLinear", "DequantizeLinear", "QLinearAdd",
                                  "QLinearMul", "QLinearLeakyRelu", "QLinearSigmoid",
                                  "QLinearConcat")]
)  # fmt: skip


def input_layout(name: str, rank: int, consumers: Consumers) -> Perm:
    """NHWC if the input is an image a channels-first op reads, else ONNX's."""
    if rank != 4:
        return layout.identity(rank)
    seen, frontier = {name}, [name]
    while frontier:
        for node, _ in consumers.get(frontier.pop(), ()):
            key = (domain_of(node), node.op_type)
            channels_last = any(
                a.name == "channels_last" and a.i for a in node.attribute
            )
            if key in CHANNELS_FIRST and not channels_last:
                return NHWC
            if key in TRANSPARENT:
                outputs = [o for o in node.output if o and o not in seen]
                seen.update(outputs)
                frontier.extend(outputs)
    return layout.identity(rank)


def input_type(
    info: onnx.ValueInfoProto,
    consumers: Consumers,
    constants: Mapping[str, np.ndarray],
) -> tuple[TensorType, Perm]:
    """The IR type of a graph input and its layout tag."""
    tensor_type = info.type.tensor_type
    shape = tuple(dim.dim_value for dim in tensor_type.shape.dim)
    perm = input_layout(info.name, len(shape), consumers)
    check_activation_type(tensor_type.elem_type)
    element: Attribute = f32
    if tensor_type.elem_type in STORAGE_ELEM_TYPES:
        dtype = helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        element = input_quantization(info.name, dtype, consumers, constants)
    return TensorType(element, layout.permute(shape, perm)), perm


# Ops that move integers without reading them as numbers.
MOVES_INTEGERS = frozenset(
    ("", op) for op in ("Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
                        "Identity")
)  # fmt: skip


def input_quantization(
    name: str,
    dtype: np.dtype,
    consumers: Consumers,
    constants: Mapping[str, np.ndarray],
) -> Attribute:
    """The quantization all readers of an integer input agree on.

    Readers are found through ops that only move the integers around (a
    TensorFlow export transposes or reshapes its int8 input first).
    """
    found, frontier = [], [name]
    while frontier:
        for node, index in consumers.get(frontier.pop(), ()):
            if (domain_of(node), node.op_type) in MOVES_INTEGERS and index == 0:
                frontier.append(node.output[0])
                continue
            found.append(_read_quantization(node, index, dtype, constants))
    if not found:
        raise Unsupported("integer input that nothing dequantizes")
    if any(qtype != found[0] for qtype in found):
        raise Unsupported("integer input read with different scales or zero points")
    return found[0]


def _read_quantization(
    node: onnx.NodeProto,
    index: int,
    dtype: np.dtype,
    constants: Mapping[str, np.ndarray],
) -> Attribute:
    """The quantization with which `node` reads its input `index`."""
    operand = next((o for o in quantized_operands(node) if o[0] == index), None)
    if operand is None:
        raise Unsupported(
            f"integer input read by {node.op_type}, which does not give its "
            "scale (DequantizeLinear and QLinear ops do)"
        )
    _, scale_index, zero_index = operand
    scale = constants.get(node.input[scale_index])
    if scale is None:
        raise Unsupported("the scale of an integer input must be constant")
    if scale.size != 1:
        raise Unsupported("per-axis quantized graph inputs are not supported")
    zero = None
    if zero_index < len(node.input) and node.input[zero_index]:
        zero = constants.get(node.input[zero_index])
        if zero is None:
            raise Unsupported("the zero point of an integer input must be constant")
    return quantized_type(scale, zero, dtype, PER_TENSOR, ())
