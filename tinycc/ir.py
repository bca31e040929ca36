"""Reading and writing tinycc IR with its weights side file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import IO

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Attribute
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.universe import Universe
from xdsl.utils.exceptions import ParseError, VerifyException

from tinycc import weights
from tinycc.dialects.graph import ConstantOp
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.errors import TinyccError
from tinycc.registry import get_all_dialects


def make_context() -> Context:
    """A context that knows every xDSL dialect and tinycc's own."""
    ctx = Context()
    for name, factory in Universe.get_multiverse().all_dialects.items():
        ctx.register_dialect(name, factory)
    for name, factory in get_all_dialects().items():
        ctx.register_dialect(name, factory)
    return ctx


@dataclass(eq=False, repr=False)
class AliasingPrinter(Printer):
    """A printer that writes some types by alias (`!q_conv1_weight`).

    Per-axis quantized types carry one scale per channel and appear in every
    op that touches the tensor; printing them once, at the top of the file,
    keeps int8 IR readable. The parser reads MLIR alias definitions back.
    """

    aliases: dict[Attribute, str] = field(default_factory=dict[Attribute, str])

    def print_attribute(self, attribute: Attribute) -> None:
        alias = self.aliases.get(attribute)
        if alias is None:
            super().print_attribute(attribute)
        else:
            self.print_string(alias)

    def print_aliases(self) -> None:
        for attribute, alias in self.aliases.items():
            self.print_string(f"{alias} = ")
            if (
                isinstance(attribute, UniformQuantizedType)
                and len(attribute.scales) > weights.INLINE_ELEMENTS
            ):
                attribute.print_by_reference(self, alias.removeprefix("!"))
            else:
                super().print_attribute(attribute)
            self.print_string("\n")


def type_aliases(module: ModuleOp) -> dict[Attribute, str]:
    """Aliases for the per-axis quantized types of `module`, in order of use.

    A type first produced by a constant is named after it (`@conv1.weight`
    gives `!q_conv1_weight`), others `!q0`, `!q1`...
    """
    aliases: dict[Attribute, str] = {}
    taken: set[str] = set()

    def name_for(hint: str | None) -> str:
        base = "q_" + re.sub(r"[^A-Za-z0-9_]", "_", hint) if hint else "q"
        name, index = base, 0 if hint is None else 1
        while name in taken or (hint is None and name == "q"):
            name, index = (
                f"{base}{index}" if hint is None else f"{base}_{index}",
                index + 1,
            )
        taken.add(name)
        return "!" + name

    for op in module.walk():
        hint = op.sym_name.data if isinstance(op, ConstantOp) else None
        types = [v.type for v in op.results]
        if isinstance(op, func.FuncOp):
            types = [*op.function_type.inputs, *op.function_type.outputs]
        for type_ in types:
            element = getattr(type_, "element_type", None)
            if (
                isinstance(element, UniformQuantizedType)
                and element.is_per_axis
                and element not in aliases
            ):
                aliases[element] = name_for(hint)
    return aliases


def write_ir(module: ModuleOp, stream: IO[str], **printer_options: bool) -> None:
    """The module's custom syntax, per-axis quantized types by alias."""
    printer = AliasingPrinter(
        stream=stream, aliases=type_aliases(module), **printer_options
    )
    printer.print_aliases()
    printer.print_op(module)
    stream.write("\n")


def print_module(module: ModuleOp) -> tuple[str, dict[str, np.ndarray]]:
    """IR text plus the arrays of the constants it refers to by name."""
    out = StringIO()
    with weights.collecting() as arrays:
        write_ir(module, out)
    return out.getvalue(), arrays


def parse_module(
    text: str, arrays: dict[str, np.ndarray] | None = None, name: str = "<input>"
) -> ModuleOp:
    """Parse and verify IR; parse and verifier errors become one line."""
    with weights.reading(arrays or {}):
        try:
            module = Parser(make_context(), text, name).parse_module()
        except ParseError as error:
            raise TinyccError(first_line(str(error), error)) from error
    try:
        module.verify()
    except VerifyException as error:
        raise TinyccError(
            f"{name}: invalid IR: {first_line(str(error), error)}"
        ) from error
    return module


def first_line(message: str, error: Exception) -> str:
    """The line of an xDSL diagnostic that says what is wrong.

    xDSL diagnostics print the source excerpt, or for verifier errors the
    whole module; users want the one line that names the problem.
    """
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if isinstance(error, ParseError) and len(lines) > 1:
        # "<file>:L:C", the source excerpt, the caret line, the message.
        return f"{lines[0]}: {lines[-1]}"
    return lines[0] if lines else type(error).__name__


def write_module(module: ModuleOp, path: str | Path) -> None:
    """Write `model.mlir` and, if any constant is named only, `model.weights.npz`."""
    text, arrays = print_module(module)
    Path(path).write_text(text)
    if arrays:
        weights.save_npz(weights.side_file_path(path), arrays)


def read_module(path: str | Path) -> ModuleOp:
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise TinyccError(f"{path}: cannot read IR: {error}") from error
    side = weights.side_file_path(path)
    arrays = weights.load_npz(side) if side.exists() else {}
    return parse_module(text, arrays, str(path))
