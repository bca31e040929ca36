"""Buffers and their lifetimes, read off a graph module's schedule.

The schedule is the order of the non-constant ops of `@main`, one step each.
Every op result is an activation of `prod(shape) * element bytes` (float32 4,
quantized types their storage), live from its step to its last reader.
Graph inputs are live from step 0, graph outputs until the last step.
Constants are weights: they live in flash and take no arena bytes.

Views cost nothing: a `graph.reshape`, or a `graph.transpose` that only moves
unit axes, is the same bytes as its input, whose lifetime it extends.
Elementwise ops may run in place: their result gets `alias_of` an operand of
its size that dies at that step, and the planner decides whether to use it.
Graph inputs and outputs are never overwritten in place: the caller may
still read them after the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.traits import ConstantLike, IsTerminator

from tinycc import signature
from tinycc.dialects import graph, tile
from tinycc.errors import TinyccError
from tinycc.memory.planner import Buffer


def scratch_bytes(op: Operation) -> int:
    """Bytes of scratch the kernel of `op` needs during its step only.

    The hook kernels will fill in (im2col, accumulators, padded rows); no
    kernel declares any yet.
    """
    return 0


def graph_buffers(
    module: ModuleOp, io_in_arena: bool = True
) -> tuple[list[Buffer], list[Operation]]:
    """The buffers of `@main` and its schedule (step i runs `ops[i]`).

    With `io_in_arena=False` the graph inputs and outputs are left out: the
    caller provides them.
    """
    found = liveness_of(module, io_in_arena)
    return found.buffers, found.ops


@dataclass
class Liveness:
    """Buffers, the schedule, and which buffer holds each value."""

    buffers: list[Buffer]
    ops: list[Operation]
    names: dict[SSAValue, str]  # views share their source's name


def liveness_of(module: ModuleOp, io_in_arena: bool = True) -> Liveness:
    """`graph_buffers`, also naming the buffer of every value.

    Works at the graph and at the tile level: a `tile.compute` is one step
    with the meaning of the graph op it wraps.
    """
    main = signature.main_function(module)
    ops = [
        op
        for op in main.body.block.ops
        if not op.has_trait(ConstantLike) and not op.has_trait(IsTerminator)
    ]
    names = _Names()
    values: dict[SSAValue, _Live] = {}
    records: list[_Live] = []
    for arg, port in zip(main.args, signature.inputs(module), strict=True):
        values[arg] = _Live(names.take(port.name), _bytes(arg), 0, 0, "input")
        records.append(values[arg])
    for step, op in enumerate(ops):
        for operand in op.operands:
            if operand in values:
                values[operand].last = step
        meaning, outer = _meaning(op)
        # A caller's buffer cannot be viewed from the arena: with user I/O a
        # reshape of an input, or one that is returned, is a real copy.
        touches_io = op.operands[0] in main.args or any(
            use.operation is main.body.block.last_op for use in op.results[0].uses
        )
        if _is_view(meaning) and (io_in_arena or not touches_io):
            if op.operands[0] in values:
                values[op.results[0]] = values[op.operands[0]]
            continue
        node = _node_name(op, step)
        in_place = [outer.get(v, v) for v in _in_place_operands(meaning)]
        sources = [values[v] for v in in_place if v in values]
        for index, result in enumerate(op.results):
            name = node if len(op.results) == 1 else f"{node}:{index}"
            live = _Live(names.take(name), _bytes(result), step, step)
            live.sources = sources
            values[result] = live
            records.append(live)
        if scratch := scratch_bytes(op):
            name = names.take(f"{node}.scratch")
            records.append(_Live(name, scratch, step, step, "scratch"))
    _mark_outputs(main, values, len(ops))
    kept = [r for r in records if io_in_arena or r.kind not in ("input", "output")]
    names = {value: live.name for value, live in values.items()}
    return Liveness([r.buffer() for r in kept], ops, names)


def _meaning(op: Operation) -> tuple[Operation, dict[SSAValue, SSAValue]]:
    """The graph op a step computes, and its operands in terms of the step's."""
    if isinstance(op, tile.ComputeOp):
        return op.inner, dict(zip(op.body.block.args, op.inputs, strict=True))
    return op, {}


@dataclass
class _Live:
    """A buffer under construction."""

    name: str
    size: int
    first: int = 0
    last: int = 0
    kind: str = "activation"
    sources: list[_Live] = field(default_factory=list)  # in-place candidates

    def buffer(self) -> Buffer:
        # The first candidate of our size that dies as we are born.
        alias = next(
            (
                s.name
                for s in self.sources
                if s.kind == "activation"
                and s.last == self.first
                and s.size == self.size
            ),
            None,
        )
        return Buffer(self.name, self.size, self.first, self.last, self.kind, alias)


class _Names:
    """Unique buffer names: the ONNX name, `#k` appended on a clash."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, name: str) -> str:
        unique, k = name, 1
        while unique in self.used:
            k += 1
            unique = f"{name}#{k}"
        self.used.add(unique)
        return unique


def _mark_outputs(main: func.FuncOp, values: dict[SSAValue, _Live], steps: int) -> None:
    terminator = main.body.block.last_op
    assert terminator is not None
    for value in terminator.operands:
        live = values.get(value)
        if live is None:  # a constant output lives in flash
            continue
        live.last = max(steps - 1, 0)
        if live.kind == "activation":
            live.kind = "output"


def _node_name(op: Operation, step: int) -> str:
    """The ONNX node the op comes from, else the op name and its step."""
    node = op.attributes.get("onnx.node")
    return node.data if isinstance(node, StringAttr) else f"{op.name}@{step}"


def _bytes(value: SSAValue) -> int:
    if not isinstance(value.type, TensorType):
        raise TinyccError(f"memory planning: {value.type} is not a tensor")
    return math.prod(graph.shape_of(value)) * graph.storage_dtype(value).itemsize


def _is_view(op: Operation) -> bool:
    """Same bytes, same order: a reshape, or a transpose of unit axes only,
    that keeps the element type (one that changes the quantization
    requantizes every element: a layer of its own)."""
    if not isinstance(op, graph.ReshapeOp | graph.TransposeOp):
        return False
    if (
        graph.tensor_type(op.input).element_type
        != graph.tensor_type(op.result).element_type
    ):
        return False
    if isinstance(op, graph.ReshapeOp):
        return True
    shape = graph.shape_of(op.input)
    moved = [axis for axis in op.perm.get_values() if shape[axis] != 1]
    return moved == sorted(moved)


def _in_place_operands(op: Operation) -> list[SSAValue]:
    """Operands the result may overwrite: each result element depends on the
    operand element at the same index only (broadcast operands excluded)."""
    if isinstance(op, graph.BinaryOp):
        return [
            v
            for v in (op.lhs, op.rhs)
            if graph.shape_of(v) == graph.shape_of(op.result)
        ]
    # Softmax reads a whole row before writing it: whether that can run in
    # place is the kernel's business, not assumed here.
    if isinstance(op, graph.SoftmaxOp | graph.LogSoftmaxOp):
        return []
    if isinstance(op, graph.UnaryOp | graph.BatchNormOp | graph.PReluOp):
        return [op.input]
    return []
