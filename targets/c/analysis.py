"""What the C signatures may promise: `const` and `restrict` on pointers.

A memref parameter is `const` when nothing stores through it, directly, via
a view, or by passing it to a callee that writes its parameter. It is
`restrict` unless some call passes it a buffer that may overlap another
argument of the same call while one of the two is written (an in-place
layer): `restrict` on both would make such a call undefined behaviour.
Arguments overlap when they are views of one root at intersecting byte
ranges; distinct roots (entry arguments, restrict parameters, globals) do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import IntegerAttr, MemRefType, ModuleOp
from xdsl.ir import BlockArgument, SSAValue

from tinycc.errors import TinyccError
from tinycc.targets.c.literals import element_bytes, memref_elements


@dataclass(frozen=True)
class Region:
    """The bytes of a root buffer a memref value covers (None: unknown)."""

    root: SSAValue | str  # a function argument, or a global's symbol
    start: int | None
    end: int | None

    def overlaps(self, other: Region) -> bool:
        if self.root != other.root:
            return False
        if None in (self.start, self.end, other.start, other.end):
            return True
        return self.start < other.end and other.start < self.end  # type: ignore[operator]


def byte_size(type_: MemRefType) -> int:
    return memref_elements(type_) * element_bytes(type_.element_type)


def constant_index(value: SSAValue) -> int | None:
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


def region_of(value: SSAValue) -> Region:
    owner = value.owner
    if isinstance(owner, memref.GetGlobalOp):
        return Region(owner.name_.root_reference.data, None, None)
    if isinstance(owner, memref.ViewOp):
        base = region_of(owner.source)
        offset = constant_index(owner.byte_shift)
        if base.start is None or offset is None:
            return Region(base.root, None, None)
        start = base.start + offset
        return Region(base.root, start, start + byte_size(owner.result.type))
    if isinstance(value, BlockArgument):
        if isinstance(value.block.parent_op(), func.FuncOp):
            return Region(value, 0, byte_size(value.type))
        raise TinyccError("c target: memrefs as loop-carried values are not supported")
    raise TinyccError(f"c target: memref produced by '{owner.name}' is not supported")


@dataclass
class ModuleInfo:
    """Functions, globals, the call graph and the pointer qualifiers."""

    functions: dict[str, func.FuncOp] = field(default_factory=dict)
    globals: dict[str, memref.GlobalOp] = field(default_factory=dict)
    calls_to: dict[str, list[tuple[str, func.CallOp]]] = field(default_factory=dict)
    callers_first: list[str] = field(default_factory=list)
    written_values: set[SSAValue] = field(default_factory=set)
    written: dict[str, frozenset[int]] = field(default_factory=dict)
    restrict: dict[str, frozenset[int]] = field(default_factory=dict)

    def may_overlap(self, a: SSAValue, b: SSAValue, function: str) -> bool:
        """Whether memrefs `a` and `b`, used in `function`, may share bytes."""
        region_a, region_b = region_of(a), region_of(b)
        if region_a.root == region_b.root:
            return region_a.overlaps(region_b)
        roots = (region_a.root, region_b.root)
        if any(isinstance(root, str) for root in roots):
            return False  # a global is a distinct object from any argument
        qualified = self.restrict[function]
        return not all(root.index in qualified for root in roots)  # type: ignore[union-attr]


def analyze(module: ModuleOp) -> ModuleInfo:
    info = ModuleInfo()
    for op in module.body.block.ops:
        if isinstance(op, func.FuncOp):
            if op.is_declaration:
                raise TinyccError(
                    f"c target: @{op.sym_name.data} has no body "
                    "(external functions are not supported)"
                )
            info.functions[op.sym_name.data] = op
        elif isinstance(op, memref.GlobalOp):
            info.globals[op.sym_name.data] = op
    info.calls_to = {name: [] for name in info.functions}
    for name, function in info.functions.items():
        for call in function.walk():
            if isinstance(call, func.CallOp):
                callee = call.callee.root_reference.data
                if callee not in info.functions:
                    raise TinyccError(f"c target: @{name} calls unknown @{callee}")
                info.calls_to[callee].append((name, call))
    info.callers_first = _callers_first(info)
    _find_writes(info)
    _find_restrict(info)
    return info


def _callers_first(info: ModuleInfo) -> list[str]:
    """Functions ordered so that every caller precedes its callees."""
    callees: dict[str, list[str]] = {name: [] for name in info.functions}
    for callee, sites in info.calls_to.items():
        for caller, _ in sites:
            callees[caller].append(callee)
    done: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            raise TinyccError(f"c target: @{name} is recursive (C99 target: no)")
        state[name] = "active"
        for callee in callees[name]:
            visit(callee)
        state[name] = "done"
        done.append(name)

    for name in info.functions:
        visit(name)
    return done[::-1]


def _find_writes(info: ModuleInfo) -> None:
    def mark(value: SSAValue, function: str) -> None:
        info.written_values.add(value)
        owner = value.owner
        if isinstance(owner, memref.ViewOp):
            mark(owner.source, function)
        elif isinstance(owner, memref.GetGlobalOp):
            raise TinyccError(
                f"c target: @{function} writes into the constant global "
                f"@{owner.name_.root_reference.data}"
            )

    for name in reversed(info.callers_first):
        function = info.functions[name]
        for op in function.walk():
            if isinstance(op, memref.StoreOp):
                mark(op.memref, name)
            elif isinstance(op, memref.CopyOp):
                mark(op.destination, name)
            elif isinstance(op, func.CallOp):
                callee = op.callee.root_reference.data
                for index in info.written[callee]:
                    mark(op.arguments[index], name)
        info.written[name] = frozenset(
            index
            for index, arg in enumerate(function.args)
            if arg in info.written_values
        )


def _find_restrict(info: ModuleInfo) -> None:
    for name in info.callers_first:
        function = info.functions[name]
        pointers = [
            index
            for index, arg in enumerate(function.args)
            if isinstance(arg.type, MemRefType)
        ]
        written = info.written[name]
        aliased: set[int] = set()
        for caller, call in info.calls_to[name]:
            for i, j in combinations(pointers, 2):
                if (i in written or j in written) and info.may_overlap(
                    call.arguments[i], call.arguments[j], caller
                ):
                    aliased.update((i, j))
        info.restrict[name] = frozenset(pointers) - aliased
