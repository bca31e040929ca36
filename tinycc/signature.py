"""The boundary of a graph module: `func.func @main`'s inputs and outputs.

Each argument and result carries `onnx.name` and, when the IR layout differs
from the ONNX tensor's, `onnx.perm` with `ir = np.transpose(onnx, perm)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute

from tinycc.errors import TinyccError


@dataclass(frozen=True)
class Port:
    """One model input or output, seen from ONNX: its name and layout."""

    name: str
    type: TensorType | MemRefType
    perm: tuple[int, ...]  # ir_array = np.transpose(onnx_array, perm)

    @property
    def onnx_shape(self) -> tuple[int, ...]:
        return tuple(self.type.get_shape()[i] for i in np.argsort(self.perm))

    def to_ir(self, onnx_array: np.ndarray) -> np.ndarray:
        # np.ascontiguousarray would turn a rank-0 array into rank 1.
        return np.asarray(np.transpose(onnx_array, self.perm), order="C")

    def to_onnx(self, ir_array: np.ndarray) -> np.ndarray:
        return np.asarray(np.transpose(ir_array, np.argsort(self.perm)), order="C")


def port_attrs(name: str, perm: Sequence[int] | None = None) -> DictionaryAttr:
    """The attribute dictionary of an argument or result of `@main`."""
    attrs: dict[str, Attribute] = {"onnx.name": StringAttr(name)}
    if perm is not None and tuple(perm) != tuple(range(len(perm))):
        attrs["onnx.perm"] = DenseArrayBase.from_list(i64, list(perm))
    return DictionaryAttr(attrs)


def main_function(module: ModuleOp) -> func.FuncOp:
    functions = [op for op in module.ops if isinstance(op, func.FuncOp)]
    if len(functions) != 1 or functions[0].sym_name.data != "main":
        raise TinyccError("the module must hold exactly one function, @main")
    return functions[0]


def ports_of(
    types: Sequence[Attribute], attrs: ArrayAttr[DictionaryAttr] | None, what: str
) -> list[Port]:
    ports = []
    for index, type_ in enumerate(types):
        data = attrs.data[index].data if attrs is not None else {}
        name, perm = data.get("onnx.name"), data.get("onnx.perm")
        if not isinstance(name, StringAttr):
            raise TinyccError(f"{what} {index} of @main has no onnx.name")
        if not isinstance(type_, TensorType | MemRefType):
            raise TinyccError(f"{what} {index} is not a tensor or buffer")
        rank = len(type_.get_shape())
        order = perm.get_values() if isinstance(perm, DenseArrayBase) else range(rank)
        ports.append(Port(name.data, type_, tuple(order)))
    return ports


def inputs(module: ModuleOp) -> list[Port]:
    main = main_function(module)
    return ports_of(main.function_type.inputs.data, main.arg_attrs, "argument")


def outputs(module: ModuleOp) -> list[Port]:
    main = main_function(module)
    return ports_of(main.function_type.outputs.data, main.res_attrs, "result")
