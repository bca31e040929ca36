"""What the importer reports when a model uses something tinycc cannot compile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tinycc.errors import TinyccError

# `Problem.op_type` of a problem that belongs to a graph input or output.
GRAPH_INPUT = "graph input"
GRAPH_OUTPUT = "graph output"


@dataclass(frozen=True)
class Problem:
    """One unsupported thing: an operator, an attribute value or a data type."""

    node: str
    op_type: str
    domain: str
    opset: int
    reason: str

    def __str__(self) -> str:
        if self.op_type in (GRAPH_INPUT, GRAPH_OUTPUT):
            kind = self.op_type.removeprefix("graph ")
            return f"{kind} '{self.node}': {self.reason}"
        op = f"{self.domain}.{self.op_type}" if self.domain else self.op_type
        return f"node '{self.node}' ({op}, opset {self.opset}): {self.reason}"


class UnsupportedModelError(TinyccError):
    """Every problem of a model at once, one per line after a summary line."""

    def __init__(self, file: str, problems: Sequence[Problem]):
        self.file = file
        self.problems = list(problems)
        lines = [f"{file}: {len(self.problems)} unsupported node(s)"]
        lines += [f"  {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


class Unsupported(Exception):
    """Raised by a converter; the driver turns it into a `Problem` and goes on."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
