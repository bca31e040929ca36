"""Small ONNX models for the importer tests, and ways to look at the result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, ModuleOp, StringAttr
from xdsl.ir import Operation

from tinycc.dialects import graph

MICROSOFT = "com.microsoft"

Shape = Sequence[int | str | None]


def tensor(name: str, shape: Shape | None, elem_type: int = TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem_type, shape)


def make_model(
    nodes: Sequence[onnx.NodeProto],
    inputs: Mapping[str, Shape] | Sequence[onnx.ValueInfoProto],
    outputs: Mapping[str, Shape] | Sequence[onnx.ValueInfoProto],
    initializers: Mapping[str, np.ndarray] | None = None,
    opset: int = 17,
    extra_opsets: Mapping[str, int] | None = None,
) -> onnx.ModelProto:
    """A checked model; float32 for inputs/outputs given as `{name: shape}`."""

    def infos(values):
        if isinstance(values, Mapping):
            return [tensor(name, shape) for name, shape in values.items()]
        return list(values)

    graph_proto = helper.make_graph(
        list(nodes),
        "test",
        infos(inputs),
        infos(outputs),
        [
            numpy_helper.from_array(np.asarray(a), n)
            for n, a in (initializers or {}).items()
        ],
    )
    opsets = [helper.make_opsetid("", opset)]
    opsets += [helper.make_opsetid(d, v) for d, v in (extra_opsets or {}).items()]
    model = helper.make_model(graph_proto, opset_imports=opsets)
    # The oldest IR version that allows these opsets, so onnxruntime loads it.
    model.ir_version = helper.find_min_ir_version_for(opsets, ignore_unknown=True)
    onnx.checker.check_model(model)
    return model


def seeded(shape: Sequence[int], seed: int = 0, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# Looking at the IR ------------------------------------------------------------------


def main_of(module: ModuleOp) -> func.FuncOp:
    (function,) = [op for op in module.ops if isinstance(op, func.FuncOp)]
    return function


def body_ops(module: ModuleOp) -> list[Operation]:
    return list(main_of(module).body.block.ops)


def op_names(module: ModuleOp, constants: bool = False) -> list[str]:
    """The op names of `main`, without constants and the return by default."""
    return [
        op.name
        for op in body_ops(module)
        if constants or not isinstance(op, graph.ConstantOp | func.ReturnOp)
    ]


def ops_of(module: ModuleOp, op_type: type[Operation]) -> list[Operation]:
    return [op for op in body_ops(module) if isinstance(op, op_type)]


def only(module: ModuleOp, op_type: type[Operation]) -> Operation:
    (op,) = ops_of(module, op_type)
    return op


def constant_of(value) -> np.ndarray:
    """The array of the `graph.constant` that defines `value`."""
    owner = value.owner
    assert isinstance(owner, graph.ConstantOp), owner
    return owner.array


def values(attr: DenseArrayBase) -> list:
    return list(attr.get_values())


def interface(module: ModuleOp, results: bool = False) -> list[dict[str, object]]:
    """`{name, perm}` of each argument (or result) of `main`."""
    function = main_of(module)
    attrs = function.res_attrs if results else function.arg_attrs
    entries = []
    for dictionary in attrs.data:
        name = dictionary.data["onnx.name"]
        assert isinstance(name, StringAttr)
        perm = dictionary.data.get("onnx.perm")
        entries.append(
            {"name": name.data, "perm": None if perm is None else values(perm)}
        )
    return entries


def node_names(module: ModuleOp) -> list[str | None]:
    names = []
    for op in body_ops(module):
        attr = op.attributes.get("onnx.node")
        names.append(attr.data if isinstance(attr, StringAttr) else None)
    return names


def count(module: ModuleOp, names: Iterable[str]) -> int:
    wanted = set(names)
    return sum(1 for name in op_names(module) if name in wanted)
