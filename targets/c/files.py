"""The files of a compiled model: `model.h`, `model.c`, `model_weights.c`.

`model.h` is the API: `<name>_run(inputs..., outputs...)` runs one inference
in a static arena inside `model.c`; `<name>_run_with_arena(arena, ...)` runs
it in the caller's memory. `model.c` holds the layer functions and the entry
(the IR's `@<name>_run`, renamed `<name>_forward` because the API takes that
name); `model_weights.c` the weights as `const` arrays in a named section.
Every external symbol starts with `<name>_`, so several models link into
one program.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.dialects import func, memref
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    StringAttr,
)
from xdsl.ir import BlockArgument

from tinycc.errors import TinyccError
from tinycc.targets.c.emitter import (
    INDENT,
    ModuleContext,
    Needs,
    emit_functions,
    module_context,
)
from tinycc.targets.c.globals import (
    ALIGN_MACRO,
    WEIGHT_MACROS,
    global_declarator,
    global_definition,
)
from tinycc.targets.c.literals import c_type, element_bytes, memref_shape
from tinycc.targets.c.names import c_identifier

HEADER = "model.h"
SOURCE = "model.c"
WEIGHTS = "model_weights.c"

# Return codes of the run functions.
_OK, _NULL_POINTER, _MISALIGNED_ARENA = 0, -1, -2


@dataclass(frozen=True)
class Port:
    """An input or output of the model, as the API passes it."""

    name: str  # C parameter name: input, output or input0, input1...
    macro: str  # prefix of its defines: <NAME>_INPUT...
    type: MemRefType
    const: bool
    onnx_name: str | None
    onnx_perm: tuple[int, ...] | None

    @property
    def element(self) -> str:
        return c_type(self.type.element_type)

    @property
    def declaration(self) -> str:
        return f"{'const ' if self.const else ''}{self.element} *{self.name}"


@dataclass(frozen=True)
class Model:
    name: str  # C identifier prefix
    macro: str  # upper-case prefix of the defines
    arena_bytes: int
    arena_types: tuple[MemRefType, ...]  # the element types viewed in the arena
    ports: tuple[Port, ...]  # in the entry's order: inputs, then outputs

    @property
    def arena_alignment(self) -> int:
        """The widest element any view of the arena holds: what C needs."""
        return max((element_bytes(t.element_type) for t in self.arena_types), default=1)

    @property
    def punned_types(self) -> list[str]:
        """The non-character C types that share the arena's bytes over time."""
        elements = [t.element_type for t in self.arena_types]
        return sorted({c_type(e) for e in elements if element_bytes(e) > 1})

    @property
    def forward(self) -> str:
        return forward_name(self.name)


def forward_name(model: str) -> str:
    """The C name of the IR's entry: the API's `<model>_run` is taken."""
    return f"{model}_forward"


def emit_files(module: ModuleOp, model_name: str) -> dict[str, str]:
    """`model.h`, `model.c` and `model_weights.c` for a loop-level module."""
    name = c_identifier(model_name)
    entry = entry_function(module)
    context = module_context(
        module,
        f"{name}_",
        {entry.sym_name.data: forward_name(name)},
        {entry.sym_name.data},
    )
    model = describe(name, entry, context)
    return {
        HEADER: model_header(model, module),
        SOURCE: model_source(model, context),
        WEIGHTS: model_weights(model, context),
    }


def entry_function(module: ModuleOp) -> func.FuncOp:
    public = [
        op
        for op in module.body.block.ops
        if isinstance(op, func.FuncOp)
        and (op.sym_visibility is None or op.sym_visibility.data == "public")
    ]
    if len(public) != 1:
        raise TinyccError(
            "c target: a model needs exactly one public entry function, "
            f"found {len(public)}"
        )
    entry = public[0]
    args = entry.args
    if (
        not args
        or not isinstance(args[0].type, MemRefType)
        or args[0].type.element_type != IntegerType(8)
        or len(args[0].type.get_shape()) != 1
    ):
        raise TinyccError(
            f"c target: @{entry.sym_name.data}: the first argument must be the "
            "arena, a memref<Nxi8>"
        )
    return entry


def describe(name: str, entry: func.FuncOp, context: ModuleContext) -> Model:
    """The API of the model: arena size and alignment, inputs, outputs."""
    written = context.info.written[entry.sym_name.data]
    indices = range(1, len(entry.args))
    roles = {i: _role(entry, i, i in written) for i in indices}
    ports: list[Port] = []
    for index in indices:
        role = roles[index]
        same_role = [i for i in indices if roles[i] == role]
        suffix = "" if len(same_role) == 1 else str(same_role.index(index))
        attrs = _arg_attrs(entry, index)
        ports.append(
            Port(
                name=f"{role}{suffix}",
                macro=f"{name.upper()}_{role.upper()}{suffix}",
                type=_port_type(entry, entry.args[index]),
                const=index not in written,
                onnx_name=_string(attrs.get("onnx.name")),
                onnx_perm=_ints(attrs.get("onnx.perm")),
            )
        )
    return Model(
        name=name,
        macro=name.upper(),
        arena_bytes=entry.args[0].type.get_shape()[0],  # type: ignore[union-attr]
        arena_types=_arena_types(entry),
        ports=tuple(ports),
    )


def _role(entry: func.FuncOp, index: int, written: bool) -> str:
    """`tinycc.role` if the argument has one, else output iff written."""
    role = _string(_arg_attrs(entry, index).get("tinycc.role"))
    if role in ("input", "output"):
        return role
    return "output" if written else "input"


def _arg_attrs(entry: func.FuncOp, index: int) -> dict:
    if entry.arg_attrs is None:
        return {}
    return dict(entry.arg_attrs.data[index].data)


def _port_type(entry: func.FuncOp, arg: BlockArgument) -> MemRefType:
    if not isinstance(arg.type, MemRefType):
        raise TinyccError(
            f"c target: @{entry.sym_name.data}: inputs and outputs must be memrefs"
        )
    memref_shape(arg.type)
    return arg.type


def _arena_types(entry: func.FuncOp) -> tuple[MemRefType, ...]:
    return tuple(
        use.operation.result.type
        for use in entry.args[0].uses
        if isinstance(use.operation, memref.ViewOp)
    )


def _string(attr: object) -> str | None:
    return attr.data if isinstance(attr, StringAttr) else None


def _ints(attr: object) -> tuple[int, ...] | None:
    if isinstance(attr, DenseArrayBase):
        return tuple(int(v) for v in attr.get_values())
    if isinstance(attr, ArrayAttr):
        return tuple(a.value.data for a in attr.data if isinstance(a, IntegerAttr))
    return None


# model.h -----------------------------------------------------------------------
def model_header(model: Model, module: ModuleOp) -> str:
    guard = f"{model.macro}_MODEL_H"
    params = ", ".join(p.declaration for p in model.ports)
    arena_params = ", ".join(["void *arena", *(p.declaration for p in model.ports)])
    lines = [
        f"/* {model.name}: one inference of the network, generated by tinycc.",
        " *",
        f" * {model.name}_run() works in a static arena inside model.c (so it is",
        f" * not reentrant); {model.name}_run_with_arena() in the caller's, of",
        f" * {model.macro}_ARENA_BYTES bytes aligned to {model.macro}_ARENA_ALIGNMENT.",
        " * The arena, the inputs and the outputs must not overlap. Both return 0,",
        " * or -1 if a pointer is NULL, -2 if the arena is misaligned.",
        " */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        "#include <stdint.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        *_arena_comment(module),
        f"#define {model.macro}_ARENA_BYTES {model.arena_bytes}",
        "/* The alignment the code needs (its widest element); 16 suits SIMD. */",
        f"#define {model.macro}_ARENA_ALIGNMENT {model.arena_alignment}",
        "/* The layers use arena bytes [0, "
        f"{model.arena_bytes}): an edit promising less fails to compile. */",
        f"typedef char {model.name}_arena_bytes_check"
        f"[({model.macro}_ARENA_BYTES >= {model.arena_bytes}) ? 1 : -1];",
        "",
    ]
    for port in model.ports:
        shape = memref_shape(port.type)
        lines += [
            f"/* {port.name}: {_port_comment(port)} */",
            f"#define {port.macro}_COUNT {math.prod(shape)}",
            f"#define {port.macro}_RANK {len(shape)}",
        ]
        if shape:  # C99 has no empty initializer for a scalar's shape
            lines.append(f"#define {port.macro}_SHAPE {{{', '.join(map(str, shape))}}}")
        lines.append("")
    lines += [
        f"int {model.name}_run({params or 'void'});",
        f"int {model.name}_run_with_arena({arena_params});",
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        "",
        f"#endif /* {guard} */",
    ]
    return "\n".join(lines) + "\n"


def _arena_comment(module: ModuleOp) -> list[str]:
    """The memory planner's figures, when the module records them."""
    memory = module.attributes.get("tinycc.memory")
    if not isinstance(memory, DictionaryAttr):
        return ["/* Working memory of one inference: activations and scratch. */"]
    figures = memory.data
    facts = [
        f"{label} {figures[key].value.data} B"  # type: ignore[union-attr]
        for key, label in (
            ("arena_bytes", "planned"),
            ("lower_bound_bytes", "layer-by-layer lower bound"),
        )
        if isinstance(figures.get(key), IntegerAttr)
    ]
    lines = [f"/* Working memory of one inference: {', '.join(facts)}. */"]
    io = figures.get("io_in_arena")
    if isinstance(io, IntegerAttr):
        lines.append(
            "/* The inputs and outputs are copied into and out of the arena (it "
            "counts their bytes). */"
            if io.value.data
            else "/* The inputs and outputs stay in the caller's buffers (zero "
            "copy; not counted in the arena). */"
        )
    return lines


def _port_comment(port: Port) -> str:
    shape = memref_shape(port.type)
    text = f"{port.element} [{', '.join(map(str, shape))}]"
    if port.onnx_name is None:
        return text
    text += f", ONNX '{port.onnx_name}'"
    if port.onnx_perm is None or port.onnx_perm == tuple(range(len(shape))):
        return text
    onnx_shape = [0] * len(shape)
    for axis, source in enumerate(port.onnx_perm):
        onnx_shape[source] = shape[axis]
    perm = ", ".join(map(str, port.onnx_perm))
    return f"{text} {onnx_shape} transposed by ({perm})".replace("*/", "* /")


# model.c -----------------------------------------------------------------------
def model_source(model: Model, context: ModuleContext) -> str:
    functions = emit_functions(context)
    externs = [
        f"extern {global_declarator(op, context.globals[name])};"
        for name, op in context.info.globals.items()
    ]
    parts = [
        f"/* {model.name}: layers and entry points, generated by tinycc."
        f"{_aliasing_note(model)} */\n"
        f'#include "{HEADER}"\n\n' + "\n".join(context.needs.include_lines()) + "\n",
        ALIGN_MACRO,
    ]
    if externs:
        parts.append("/* Defined in " + WEIGHTS + ". */\n" + "\n".join(externs) + "\n")
    parts.append(_header_check(model))
    if context.needs.helpers:
        parts.append(context.needs.helper_text())
    parts += functions
    parts += [_static_arena(model), _run_with_arena(model), _run(model)]
    return "\n".join(parts)


def _header_check(model: Model) -> str:
    """A compile-time check that model.h is the one generated with this file."""
    facts = [
        f"{model.macro}_ARENA_BYTES >= {model.arena_bytes}",
        f"{model.macro}_ARENA_ALIGNMENT >= {model.arena_alignment}",
        *(f"{p.macro}_COUNT == {math.prod(memref_shape(p.type))}" for p in model.ports),
    ]
    conditions = f" &&\n{INDENT}".join(facts)
    return (
        f"/* {HEADER} must be the header generated with this file. */\n"
        f"typedef char {model.name}_header_matches"
        f"[\n{INDENT}({conditions}) ? 1 : -1];\n"
    )


def _aliasing_note(model: Model) -> str:
    """Why this file may need -fno-strict-aliasing, when it does."""
    types = model.punned_types
    if len(types) < 2:
        return ""
    return (
        f"\n *\n * The arena holds {' and '.join(types)} buffers, and the memory\n"
        " * planner may give one's bytes to another later. C99's effective-type\n"
        " * rules do not let a declared array change type: compile this file\n"
        " * with -fno-strict-aliasing. (Character types, int8_t included, may\n"
        " * alias anything: int8 models and float-only models need not.)\n"
    )


def _static_arena(model: Model) -> str:
    return (
        "/* The arena of "
        f"{model.name}_run(). The union gives it the alignment of its widest\n"
        " * member in C99; TINYCC_ALIGN raises it to 16 where the compiler can. */\n"
        "static union {\n"
        f"{INDENT}double align_double;\n"
        f"{INDENT}long double align_long_double;\n"
        f"{INDENT}int8_t bytes[{model.macro}_ARENA_BYTES];\n"
        f"}} {model.name}_arena TINYCC_ALIGN(16);\n"
    )


def _run_with_arena(model: Model) -> str:
    params = ", ".join(["void *arena", *(p.declaration for p in model.ports)])
    pointers = ["arena", *(p.name for p in model.ports)]
    null_check = " || ".join(f"{p} == NULL" for p in pointers)
    arguments = ", ".join(["(int8_t *)arena", *(p.name for p in model.ports)])
    return (
        f"int {model.name}_run_with_arena({params})\n"
        "{\n"
        f"{INDENT}if ({null_check}) {{\n"
        f"{INDENT * 2}return {_NULL_POINTER};\n"
        f"{INDENT}}}\n"
        f"{INDENT}if ((uintptr_t)arena % {model.macro}_ARENA_ALIGNMENT != 0) {{\n"
        f"{INDENT * 2}return {_MISALIGNED_ARENA};\n"
        f"{INDENT}}}\n"
        f"{INDENT}{model.forward}({arguments});\n"
        f"{INDENT}return {_OK};\n"
        "}\n"
    )


def _run(model: Model) -> str:
    params = ", ".join(p.declaration for p in model.ports) or "void"
    arguments = ", ".join([f"{model.name}_arena.bytes", *(p.name for p in model.ports)])
    return (
        f"int {model.name}_run({params})\n"
        "{\n"
        f"{INDENT}return {model.name}_run_with_arena({arguments});\n"
        "}\n"
    )


# model_weights.c ---------------------------------------------------------------
def model_weights(model: Model, context: ModuleContext) -> str:
    needs = Needs(headers={"stdint.h"})
    definitions = [
        global_definition(op, context.globals[name], "", needs)
        for name, op in context.info.globals.items()
    ]
    return "\n".join(
        [
            f"/* {model.name}: weights, generated by tinycc. */\n"
            + "\n".join(needs.include_lines())
            + "\n",
            WEIGHT_MACROS,
            ALIGN_MACRO,
            *definitions,
        ]
    )


# One translation unit ----------------------------------------------------------
def emit_c(module: ModuleOp, prefix: str = "") -> str:
    """The module as one self-contained C99 translation unit.

    Globals become `static const` arrays, private functions `static`
    functions, public functions keep external linkage and their name.
    """
    context = module_context(module, prefix, {}, set())
    functions = emit_functions(context)
    globals_ = [
        global_definition(op, context.globals[name], "static", context.needs)
        for name, op in context.info.globals.items()
    ]
    parts = [
        "/* Generated by tinycc. */\n" + "\n".join(context.needs.include_lines()) + "\n"
    ]
    if globals_:
        parts += [WEIGHT_MACROS + "\n" + ALIGN_MACRO, *globals_]
    if context.needs.helpers:
        parts.append(context.needs.helper_text())
    parts += functions
    return "\n".join(parts)
