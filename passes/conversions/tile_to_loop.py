"""bufferize: tile-level tensors to loop-level buffers in one planned arena.

Every `tile.compute` becomes a call of a layer function (its loops built by
`tinycc.kernels`) on memrefs; every intermediate tensor becomes a view of
the arena at the offset the memory planner chose; weights become
`memref.global` constants. The result is the loop level of
`docs/lowering.md`:

    func.func @<model>_run(%arena: memref<Nxi8>, %in: memref<...>, %out: memref<...>)

With `io-in-arena=true` the input and output live in the arena too (least
RAM: their bytes are reused once dead) and the run function copies them in
and out; otherwise the caller's buffers are used in place (zero copy).
The plan is recorded on the module as `tinycc.memory` (arena bytes, lower
bound, peak step and the buffers live there) for reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xdsl.builder import Builder
from xdsl.context import Context
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IndexType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    UnitAttr,
    i8,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint
from xdsl.utils.exceptions import PassFailedException

from tinycc import kernels, signature
from tinycc.dialects import graph, tile
from tinycc.errors import TinyccError
from tinycc.memory import Liveness, Plan, liveness_of, plan

ARENA_ALIGNMENT = 16


def buffer_type(type_: Attribute) -> MemRefType:
    """The memref holding a tensor: same shape, storage element type."""
    tensor = graph.tensor_type(type_)
    element = tensor.element_type
    storage = getattr(element, "storage", element)
    return MemRefType(storage, tensor.get_shape())


def c_identifier(name: str) -> str:
    identifier = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return identifier if identifier[:1].isalpha() else f"l_{identifier}"


def check_schedulable(main: func.FuncOp) -> None:
    for op in main.body.block.ops:
        if isinstance(op, tile.ExtractOp | tile.AssembleOp):
            raise PassFailedException(
                "bufferize: tiled IR (tile.extract/tile.assemble) is not bufferized "
                "yet; compile without the tile pass"
            )
        if op.name.startswith("graph.") and not isinstance(op, graph.ConstantOp):
            raise PassFailedException(
                f"bufferize: {op.name} is not inside a tile.compute "
                "(run lower-graph-to-tile first)"
            )


@dataclass
class LoopModuleBuilder:
    """Builds the loop-level module from a scheduled, planned `@main`."""

    model: str
    schedule: Liveness
    plan: Plan
    io_in_arena: bool
    inputs: list[signature.Port]
    outputs: list[signature.Port]
    globals: dict[str, memref.GlobalOp] = field(default_factory=dict)
    layers: list[func.FuncOp] = field(default_factory=list)
    layer_names: set[str] = field(default_factory=set)
    # What runs at each schedule step: a layer function, or a view's name.
    step_names: dict[int, str] = field(default_factory=dict)

    def weight(self, constant: graph.ConstantOp, builder: Builder) -> SSAValue:
        name = c_identifier(constant.sym_name.data)
        if name not in self.globals:
            self.globals[name] = memref.GlobalOp.get(
                StringAttr(name),
                buffer_type(constant.result.type),
                constant.value,
                constant=UnitAttr(),
                alignment=ARENA_ALIGNMENT,
            )
        return builder.insert(
            memref.GetGlobalOp(name, buffer_type(constant.result.type))
        ).memref

    def layer(self, op: tile.ComputeOp, step: int) -> kernels.Layer:
        name = self.schedule.names[op.result]
        while name in self.layer_names:
            name += "_"
        self.layer_names.add(name)
        built = kernels.build_layer(op.inner, name)
        layer = built.function
        for table in built.tables:
            self.globals[table.sym_name.data] = table
        info = dict(layer.attributes.get("tinycc.layer", DictionaryAttr({})).data)
        info["live_bytes"] = IntegerAttr(self.live_bytes(step), 64)
        layer.attributes["tinycc.layer"] = DictionaryAttr(info)
        self.layers.append(layer)
        return built

    def live_bytes(self, step: int) -> int:
        buffers = self.schedule.buffers
        return sum(b.size for b in buffers if b.first <= step <= b.last)

    def build(self, main: func.FuncOp) -> ModuleOp:
        args = [buffer_type(a.type) for a in main.body.block.args]
        results = [buffer_type(t) for t in main.function_type.outputs.data]
        arena_type = MemRefType(i8, [max(self.plan.arena_bytes, 1)])
        block = Block(arg_types=[arena_type, *args, *results])
        builder = Builder(InsertPoint.at_end(block))
        arena = block.args[0]
        user_inputs, user_outputs = (
            block.args[1 : 1 + len(args)],
            block.args[1 + len(args) :],
        )
        returned = list(main.body.block.last_op.operands)
        buffers: dict[SSAValue, SSAValue] = {}

        def buffer_of(value: SSAValue) -> SSAValue:
            """The arena view holding `value`, or the caller's buffer."""
            name = self.schedule.names[value]
            if name in self.plan.offsets:
                offset = builder.insert(
                    arith.ConstantOp(IntegerAttr(self.plan.offsets[name], IndexType()))
                )
                return builder.insert(
                    memref.ViewOp(arena, offset, [], buffer_type(value.type))
                ).result
            if (
                value in returned
                and buffer_type(value.type) == results[returned.index(value)]
            ):
                return user_outputs[returned.index(value)]
            raise PassFailedException(
                f"bufferize: '{name}' is a reshaped view of a caller-provided buffer; "
                "compile with the input and output in the arena"
            )

        for arg, user in zip(main.body.block.args, user_inputs, strict=True):
            buffers[arg] = buffer_of(arg) if self.io_in_arena else user
            if self.io_in_arena:
                builder.insert(memref.CopyOp(user, buffers[arg]))
        for step, op in enumerate(self.schedule.ops):
            buffers[op.result] = buffer_of(op.result)
            if self.is_view(op):
                # same bytes, new shape: the view is all there is
                self.step_names[step] = self.schedule.names[op.result]
                continue
            built = self.layer(op, step)
            operands = [
                self.weight(v.owner, builder)
                if isinstance(v.owner, graph.ConstantOp)
                else buffers[v]
                for index, v in enumerate(op.inputs)
                if index not in built.unread
            ]
            name = built.function.sym_name.data
            self.step_names[step] = name
            builder.insert(func.CallOp(name, [*operands, buffers[op.result]], []))
        for value, user in zip(returned, user_outputs, strict=True):
            if isinstance(value.owner, graph.ConstantOp):  # a constant output
                buffers[value] = self.weight(value.owner, builder)
            if buffers[value] is not user:
                builder.insert(memref.CopyOp(buffers[value], user))
        builder.insert(func.ReturnOp())
        run = func.FuncOp(
            f"{self.model}_run",
            ([arena_type, *args, *results], []),
            Region(block),
        )
        run.arg_attrs = ArrayAttr(
            [DictionaryAttr({"tinycc.role": StringAttr("arena")})]
            + [port_attrs(p, "input") for p in self.inputs]
            + [port_attrs(p, "output") for p in self.outputs]
        )
        ops: list[Operation] = [*self.globals.values(), *self.layers, run]
        return ModuleOp(ops)

    def is_view(self, op: tile.ComputeOp) -> bool:
        """A step whose result shares its operand's buffer (a reshape)."""
        return self.schedule.names[op.result] == self.schedule.names.get(op.inputs[0])


def check_kernels(steps: list[Operation]) -> None:
    """Every layer without a kernel, reported at once."""
    problems = []
    for op in steps:
        if not isinstance(op, tile.ComputeOp):
            continue
        reason = kernels.supported(op.inner)
        if reason is not None:
            node = op.attributes.get("onnx.node", StringAttr("?")).data
            problems.append(f"  node '{node}' ({op.inner.name}): {reason}")
    if problems:
        raise TinyccError(
            f"{len(problems)} layer(s) cannot be compiled yet:\n" + "\n".join(problems)
        )


def port_attrs(port: signature.Port, role: str) -> DictionaryAttr:
    """`onnx.name`/`onnx.perm` of the port, and its role in the run function."""
    attrs = dict(signature.port_attrs(port.name, port.perm).data)
    attrs["tinycc.role"] = StringAttr(role)
    return DictionaryAttr(attrs)


def memory_report(plan: Plan, io_in_arena: bool, peak_layer: str) -> DictionaryAttr:
    return DictionaryAttr(
        {
            "io_in_arena": IntegerAttr(int(io_in_arena), 1),
            "arena_bytes": IntegerAttr(plan.arena_bytes, 64),
            "lower_bound_bytes": IntegerAttr(plan.lower_bound_bytes, 64),
            "peak_step": IntegerAttr(plan.peak_step, 64),
            "peak_layer": StringAttr(peak_layer),
            "live_at_peak": ArrayAttr([StringAttr(n) for n in plan.live_at_peak]),
            "strategy": StringAttr(plan.strategy),
        }
    )


@dataclass(frozen=True)
class BufferizePass(ModulePass):
    """Tile-level `@main` to loop-level layer functions over one planned arena."""

    name = "bufferize"

    model: str = "model"
    io_in_arena: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        main = signature.main_function(op)
        check_schedulable(main)
        schedule = liveness_of(op, self.io_in_arena)
        check_kernels(schedule.ops)
        arena_plan = plan(schedule.buffers, alignment=ARENA_ALIGNMENT)
        builder = LoopModuleBuilder(
            c_identifier(self.model),
            schedule,
            arena_plan,
            self.io_in_arena,
            signature.inputs(op),
            signature.outputs(op),
        )
        loop_module = builder.build(main)
        for old in list(op.body.block.ops):
            old.detach()
            old.erase(safe_erase=False)
        for new in list(loop_module.body.block.ops):
            new.detach()
            op.body.block.add_op(new)
        peak_layer = builder.step_names.get(arena_plan.peak_step, "")
        op.attributes["tinycc.memory"] = memory_report(
            arena_plan, self.io_in_arena, peak_layer
        )
