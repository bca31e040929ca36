"""Helpers shared by graph-level rewrite patterns.

Creating constants with fresh names (one namespace: the weights side file),
finding constant operands, and rebuilding an op with new operands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects.builtin import ModuleOp, StringAttr, TensorType
from xdsl.ir import Attribute, Operation, SSAValue

from tinycc.dialects.graph import ConstantOp


@dataclass
class ConstantNames:
    """Hands out `graph.constant` symbol names no other constant uses.

    Named constants share one namespace in the weights side file, so every
    constant a pattern creates needs a fresh name.
    """

    taken: set[str] = field(default_factory=set[str])

    @staticmethod
    def of(module: ModuleOp) -> ConstantNames:
        return ConstantNames(
            {op.sym_name.data for op in module.walk() if isinstance(op, ConstantOp)}
        )

    def fresh(self, base: str) -> str:
        name, suffix = base, 0
        while name in self.taken:
            suffix += 1
            name = f"{base}_{suffix}"
        self.taken.add(name)
        return name

    def constant(
        self, base: str, array: np.ndarray, result_type: TensorType | None = None
    ) -> ConstantOp:
        """A constant with a fresh name, its value named the same in printed IR."""
        op = ConstantOp(self.fresh(base), array, result_type)
        op.result.name_hint = op.sym_name.data
        return op


def node_name(op: Operation) -> str:
    """What to call constants derived from `op`: its ONNX node, else its value."""
    node = op.attributes.get("onnx.node")
    if isinstance(node, StringAttr) and node.data:
        return node.data
    if op.results and op.results[0].name_hint:
        return op.results[0].name_hint
    return op.name.removeprefix("graph.")


def constant_of(value: SSAValue) -> ConstantOp | None:
    return value.owner if isinstance(value.owner, ConstantOp) else None


def rebuild(
    op: Operation,
    operands: Sequence[SSAValue],
    result_type: Attribute,
    properties: dict[str, Attribute] | None = None,
) -> Operation:
    """`op` again, with new operands/result type and some properties replaced."""
    new = type(op).create(
        operands=list(operands),
        result_types=[result_type],
        properties={**op.properties, **(properties or {})},
        attributes=dict(op.attributes),
    )
    new.results[0].name_hint = op.results[0].name_hint
    return new
