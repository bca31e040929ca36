"""Constant globals (weights) as C arrays with exact values.

Each array goes to a named section through `TINYCC_WEIGHTS_SECTION`, which
defaults to `.rodata.tinycc` on ELF targets of GCC and Clang (place it in
flash from the linker script; a plain `.rodata.*` rule already does) and to
nothing elsewhere; define it before compiling to choose another section.
"""

from __future__ import annotations

from xdsl.dialects import memref
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, MemRefType

from tinycc.errors import TinyccError
from tinycc.targets.c.emitter import INDENT, Needs
from tinycc.targets.c.literals import (
    array_literals,
    c_type,
    dense_array,
    is_special_literal,
    memref_elements,
    shape_text,
)

WEIGHT_MACROS = """\
/* Weights go to a named section (place it in flash from the linker script);
 * define TINYCC_WEIGHTS_SECTION before compiling to choose another. */
#ifndef TINYCC_WEIGHTS_SECTION
#if (defined(__GNUC__) || defined(__clang__)) && defined(__ELF__)
#define TINYCC_WEIGHTS_SECTION __attribute__((section(".rodata.tinycc")))
#else
#define TINYCC_WEIGHTS_SECTION
#endif
#endif
"""

ALIGN_MACRO = """\
/* C99 has no _Alignas: over-align with the compiler's attribute if it has one. */
#ifndef TINYCC_ALIGN
#if defined(__GNUC__) || defined(__clang__)
#define TINYCC_ALIGN(bytes) __attribute__((aligned(bytes)))
#else
#define TINYCC_ALIGN(bytes)
#endif
#endif
"""

_LINE_WIDTH = 96


def fill_lines(values: list[str]) -> list[str]:
    """Comma-separated values, as many per line as fit in `_LINE_WIDTH`."""
    rows: list[str] = []
    row = INDENT
    for value in values:
        if len(row) + len(value) + 2 > _LINE_WIDTH and row != INDENT:
            rows.append(row.rstrip())
            row = INDENT
        row += value + ", "
    if row != INDENT:
        rows.append(row.rstrip())
    return rows


def global_declarator(op: memref.GlobalOp, name: str) -> str:
    """`const float name[N]` for a constant global."""
    if op.constant is None:
        raise TinyccError(
            f"c target: global @{op.sym_name.data} is not constant "
            "(only constant weights are supported)"
        )
    element = c_type(op.type.element_type)  # type: ignore[union-attr]
    return f"const {element} {name}[{memref_elements(op.type)}]"  # type: ignore[arg-type]


def global_definition(
    op: memref.GlobalOp, name: str, storage: str, needs: Needs
) -> str:
    """The definition of a constant global with its exact values."""
    declarator = global_declarator(op, name)
    type_ = op.type
    assert isinstance(type_, MemRefType)
    initial = op.initial_value
    if not isinstance(initial, DenseIntOrFPElementsAttr):
        raise TinyccError(f"c target: global @{op.sym_name.data} has no dense value")
    values = list(array_literals(dense_array(initial, type_), type_.element_type))  # type: ignore[arg-type]
    if any(is_special_literal(value) for value in values):
        needs.headers.add("math.h")
    rows = fill_lines(values)
    align = f" TINYCC_ALIGN({op.alignment.value.data})" if op.alignment else ""
    prefix = f"{storage} " if storage else ""
    return (
        f"/* @{op.sym_name.data}: {shape_text(type_)} */\n"
        f"{prefix}{declarator}{align} TINYCC_WEIGHTS_SECTION = {{\n"
        + "\n".join(rows)
        + "\n};\n"
    )
