"""graph-u8-to-i8: uint8 quantized tensors become int8 ones.

Older onnxruntime quantization defaults (QUInt8 activations with zero points
near 128, sometimes QUInt8 weights) give uint8 tensors; the integer kernels
are int8, as TFLite's are. A uint8 value `q` with zero point `z` stands for
the same real number as the int8 value `q - 128` with zero point `z - 128`
(same scale, same axis), and the storage ranges correspond too, so every op
computes the same on the int8 twin, rounding and saturation included:

    tensor<3x!quant.uniform<u8:f32, 0.5:128>> = dense<[0, 128, 255]>
    -> tensor<3x!quant.uniform<i8:f32, 0.5:0>> = dense<[-128, 0, 127]>

Every op result of a uint8 type takes the int8 twin (a `graph.quantize` at a
float input too, a `graph.dequantize` at a float output just reads it), and
constants have their stored bytes converted here, at compile time.

The function's signature is the user's interface and stays: a uint8
argument is converted on entry, a returned int8 value back on exit, by a
`graph.reshape` to the same shape whose result type is the other one. A
quantized reshape means dequantize-reshape-quantize, here exactly
`q -/+ 128`; its integer kernel requantizes (what TFLite's QUANTIZE op
computes between uint8 and int8, and what the TFLite converter puts at
uint8 model inputs and outputs), `graph-canonicalize` keeps it (it drops
only reshapes that keep the type), and no dedicated conversion op is needed.
Unlike a reshape that keeps the type, it is a copy that writes new bytes,
not a view of its operand's buffer.

Run it after `graph-fold-qdq` (whose folded ops it retypes) and before
`graph-int8-rounding` (which gives the conversions their integer meaning).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    ModuleOp,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from tinycc.dialects.graph import ConstantOp, ReshapeOp
from tinycc.dialects.quant import UniformQuantizedType

OFFSET = 128  # uint8 q stands for what int8 q - 128 does, zero points likewise


def int8_twin(type_: Attribute) -> TensorType | None:
    """The int8 tensor type standing for the same reals as a uint8 quantized
    tensor type, or None for any other type."""
    if not isinstance(type_, TensorType):
        return None
    element = type_.element_type
    if not isinstance(element, UniformQuantizedType) or element.storage_name != "u8":
        return None
    twin = UniformQuantizedType(
        "i8",
        element.scale_values,
        [z - OFFSET for z in element.zero_point_values],
        element.axis.data,
        element.expressed,
    )
    return TensorType(twin, type_.get_shape())


@dataclass(frozen=True)
class GraphU8ToI8Pass(ModulePass):
    """Rewrite every uint8 quantized tensor inside a function to its int8
    twin, converting at the function's uint8 arguments and results."""

    name = "graph-u8-to-i8"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.walk():
            if isinstance(function, func.FuncOp) and function.body.blocks:
                _retype(function.body.block)
                _convert_ports(function)


def _retype(block: Block) -> None:
    """Every uint8 result takes its int8 twin; constants convert their data."""
    for op in list(block.walk()):
        if isinstance(op, ConstantOp):
            twin = int8_twin(op.result.type)
            if twin is not None:
                stored = op.array.astype(np.int16) - OFFSET
                constant = ConstantOp(op.sym_name.data, stored.astype(np.int8), twin)
                constant.attributes.update(op.attributes)
                Rewriter.replace_op(op, constant)
            continue
        if _is_conversion(op) and all(
            isinstance(use.operation, func.ReturnOp) for use in op.result.uses
        ):
            continue  # the conversion of a uint8 result (the pass ran before)
        for result in op.results:
            twin = int8_twin(result.type)
            if twin is not None:
                Rewriter.replace_value_with_new_type(result, twin)


def _convert_ports(function: func.FuncOp) -> None:
    """Arguments and results keep their uint8 types: a conversion on entry
    for the ops that read an argument (not for returning it as it is), one
    on exit for each result."""
    block = function.body.block
    returned = block.last_op
    assert isinstance(returned, func.ReturnOp)
    for arg in block.args:
        twin = int8_twin(arg.type)
        if twin is None:
            continue
        readers = [
            use
            for use in arg.uses
            if use.operation is not returned and not _is_conversion(use.operation)
        ]
        if not readers:
            continue
        name = _port_name(function.arg_attrs, arg.index, "input")
        conversion = _conversion(arg, twin, f"{name}_int8")
        Rewriter.insert_op(conversion, InsertPoint.at_start(block))
        for use in readers:
            use.operation.operands[use.index] = conversion.result
    outputs = function.function_type.outputs.data
    for index, (value, type_) in enumerate(
        zip(returned.operands, outputs, strict=True)
    ):
        if value.type == type_:
            continue
        name = _port_name(function.res_attrs, index, "output")
        conversion = _conversion(value, type_, f"{name}_uint8")
        Rewriter.insert_op(conversion, InsertPoint.before(returned))
        returned.operands[index] = conversion.result


def _conversion(value: SSAValue, type_: Attribute, name: str) -> ReshapeOp:
    """`value` as `type_`: a reshape to the same shape that requantizes."""
    conversion = ReshapeOp.create(
        operands=[value],
        result_types=[type_],
        attributes={"onnx.node": StringAttr(name)},
    )
    conversion.result.name_hint = name
    return conversion


def _is_conversion(op: Operation) -> bool:
    """Whether `op` is a reshape between a uint8 type and its int8 twin, as
    the pass inserts at the ports."""
    if not isinstance(op, ReshapeOp):
        return False
    return op.result.type == int8_twin(op.input.type) or op.input.type == int8_twin(
        op.result.type
    )


def _port_name(attrs: ArrayAttr[DictionaryAttr] | None, index: int, kind: str) -> str:
    """The port's `onnx.name`, else `<kind><index>`."""
    if attrs is not None:
        name = attrs.data[index].data.get("onnx.name")
        if isinstance(name, StringAttr):
            return name.data
    return f"{kind}{index}"
