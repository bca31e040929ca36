"""Reading and writing tinycc IR with its weights side file."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.universe import Universe
from xdsl.utils.exceptions import ParseError, VerifyException

from tinycc import weights
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


def print_module(module: ModuleOp) -> tuple[str, dict[str, np.ndarray]]:
    """IR text plus the arrays of the constants it refers to by name."""
    out = StringIO()
    with weights.collecting() as arrays:
        Printer(stream=out).print_op(module)
    out.write("\n")
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
