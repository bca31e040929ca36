"""The boundary of a graph module: `func.func @main`'s inputs and outputs.

Each argument and result carries `onnx.name` and, when the IR layout differs
from the ONNX tensor's, `onnx.perm` with `ir = np.transpose(onnx, perm)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    DenseArrayBase,
    DictionaryAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    i64,
)

from tinycc.errors import TinyccError


@dataclass(frozen=True)
class Port:
    """One model input or output."""

    name: str
    type: TensorType
    perm: tuple[int, ...] | None

    def to_ir(self, onnx_array: np.ndarray) -> np.ndarray:
        return onnx_array if self.perm is None else np.transpose(onnx_array, self.perm)

    def to_onnx(self, ir_array: np.ndarray) -> np.ndarray:
        return (
            ir_array
            if self.perm is None
            else np.transpose(ir_array, np.argsort(self.perm))
        )


def port_attrs(name: str, perm: tuple[int, ...] | None = None) -> DictionaryAttr:
    attrs = {"onnx.name": StringAttr(name)}
    if perm is not None and tuple(perm) != tuple(range(len(perm))):
        attrs["onnx.perm"] = DenseArrayBase.from_list(i64, list(perm))
    return DictionaryAttr(attrs)


def main_function(module: ModuleOp) -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == "main":
            return op
    raise TinyccError("the module has no func.func @main")


def _ports(types, attrs, prefix: str) -> list[Port]:
    ports = []
    for index, type_ in enumerate(types):
        data = attrs.data[index].data if attrs is not None else {}
        name = data["onnx.name"].data if "onnx.name" in data else f"{prefix}{index}"
        perm = tuple(data["onnx.perm"].get_values()) if "onnx.perm" in data else None
        ports.append(Port(name, type_, perm))
    return ports


def inputs(module: ModuleOp) -> list[Port]:
    main = main_function(module)
    return _ports(main.function_type.inputs.data, main.arg_attrs, "arg")


def outputs(module: ModuleOp) -> list[Port]:
    main = main_function(module)
    return _ports(main.function_type.outputs.data, main.res_attrs, "result")
