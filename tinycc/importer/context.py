"""The converter registry and what a converter sees of its node."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation

from tinycc.importer.builder import IRBuilder
from tinycc.importer.layout import Perm
from tinycc.importer.problems import Unsupported
from tinycc.importer.tensors import Const, QuantConst, Tensor, Value

# A converter returns the node's outputs in order (None for an absent one).
Result = Tensor | Sequence[Tensor | None]


@dataclass(frozen=True)
class Converter:
    function: Callable[[NodeContext], Result]
    # Whether the op reads integers as quantized values (data movement, max
    # pooling, QLinear ops). Others would compute on the raw integers.
    quantized: bool


CONVERTERS: dict[tuple[str, str], Converter] = {}
REJECTED: dict[tuple[str, str], str] = {}


def converts(
    *op_types: str, domain: str = "", quantized: bool = False
) -> Callable[[Callable[[NodeContext], Result]], Callable[[NodeContext], Result]]:
    """Register the decorated function as the converter of `op_types`."""

    def register(
        function: Callable[[NodeContext], Result],
    ) -> Callable[[NodeContext], Result]:
        for op_type in op_types:
            CONVERTERS[(domain, op_type)] = Converter(function, quantized)
        return function

    return register


def rejects(reason: str, *op_types: str, domain: str = "") -> None:
    """Ops that are known and refused with a specific reason."""
    for op_type in op_types:
        REJECTED[(domain, op_type)] = reason


def domain_of(node: onnx.NodeProto) -> str:
    return "" if node.domain == "ai.onnx" else node.domain


class NodeContext:
    """One node: its attributes, its input tensors, and the IR builder."""

    def __init__(
        self,
        node: onnx.NodeProto,
        opset: int,
        builder: IRBuilder,
        values: Mapping[str, Tensor],
        used: Collection[str],
    ):
        self.node = node
        self.opset = opset
        self.builder = builder
        self._values = values
        self._used = used

    @property
    def name(self) -> str:
        return self.node.name or next((o for o in self.node.output if o), "")

    @property
    def op_type(self) -> str:
        return self.node.op_type

    # Attributes ------------------------------------------------------------------

    def attr(self, name: str, default: Any = None) -> Any:
        """An attribute as a Python value (strings decoded, tensors as numpy)."""
        for attribute in self.node.attribute:
            if attribute.name != name:
                continue
            value = helper.get_attribute_value(attribute)
            kind = attribute.type
            if kind == onnx.AttributeProto.STRING:
                return value.decode()
            if kind == onnx.AttributeProto.STRINGS:
                return [v.decode() for v in value]
            if kind == onnx.AttributeProto.TENSOR:
                return numpy_helper.to_array(value)
            if kind in (onnx.AttributeProto.INTS, onnx.AttributeProto.FLOATS):
                return list(value)
            return value
        return default

    def reject_attr(self, name: str, allowed: Any, what: str) -> None:
        """Raise `Unsupported` unless attribute `name` is absent or `allowed`."""
        value = self.attr(name, allowed)
        if value != allowed:
            raise Unsupported(f"{name}={value} is not supported: {what}")

    # Inputs and outputs -------------------------------------------------------------

    def has_input(self, index: int) -> bool:
        return index < len(self.node.input) and self.node.input[index] != ""

    def input(self, index: int) -> Tensor:
        return self._values[self.node.input[index]]

    def const(self, index: int, what: str) -> np.ndarray:
        """A constant input's value; raises `Unsupported` if it is computed."""
        tensor = self.input(index)
        if isinstance(tensor, Const):
            return tensor.array
        if isinstance(tensor, QuantConst):
            return tensor.real() if tensor.dequantized else tensor.array
        raise Unsupported(f"{what} (input {index}) must be a constant")

    def optional_const(self, index: int, what: str) -> np.ndarray | None:
        return self.const(index, what) if self.has_input(index) else None

    def input_or_attr(self, index: int, name: str, since: int) -> list[int] | None:
        """Integers that moved from attribute `name` to input `index` in `since`."""
        if self.opset < since:
            return self.attr(name)
        values = self.optional_const(index, name)
        return None if values is None else [int(v) for v in values.reshape(-1)]

    def output_used(self, index: int) -> bool:
        return index < len(self.node.output) and self.node.output[index] in self._used

    def reject_outputs_from(self, index: int, what: str) -> None:
        if any(self.output_used(i) for i in range(index, len(self.node.output))):
            raise Unsupported(f"{what} output is not supported")

    # Building -------------------------------------------------------------------------

    def value(self, tensor: Tensor, perm: Perm | None = None) -> SSAValue:
        return self.builder.value(tensor, perm)

    def op(
        self,
        op_type: type[IRDLOperation],
        operands: Sequence[SSAValue | Sequence[SSAValue] | None],
        result_type: Attribute,
        **properties: Attribute | None,
    ) -> SSAValue:
        return self.builder.op(op_type, operands, result_type, **properties)

    def output(
        self,
        op_type: type[IRDLOperation],
        operands: Sequence[SSAValue | Sequence[SSAValue] | None],
        result_type: Attribute,
        perm: Perm,
        **properties: Attribute | None,
    ) -> Value:
        """Build an op and return its result as a tensor in layout `perm`."""
        return Value(self.op(op_type, operands, result_type, **properties), perm)
