"""A static bound on a program's stack from GCC's call-graph information.

`-fcallgraph-info=su` (which includes `-fstack-usage`) writes, beside each
object, a `.ci` file: a node per function with its frame size, an edge per
direct call. The bound from a root is the deepest path through that graph:
its own frame plus the worst of what it calls. Precompiled library code
(newlib's memcpy and libm, libgcc's soft-float and division helpers) has no
`.ci`; some of it is not even in the graph (GCC calls soft-float helpers
without a call expression), so every function is charged `LIBRARY_BYTES`
for whatever library routine it may call at its deepest point. Frames of
unbounded size, indirect calls and recursion have no static bound: they are
errors (tinycc's generated code has none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tinycc.errors import TinyccError

# newlib-nano's memcpy/memset and libm's expf-like routines use a few dozen
# bytes; libgcc's helpers are leaves. Checked against the measured high-water
# mark of the painted stack (test/targets/mcu).
LIBRARY_BYTES = 256

INDIRECT_CALL = "__indirect_call"

_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
_USAGE = re.compile(r"(\d+) bytes \(([a-z,]+)\)")


@dataclass
class CallGraph:
    """Functions with their frame size (None: not compiled here) and calls."""

    frames: dict[str, int | None] = field(default_factory=dict)
    calls: dict[str, set[str]] = field(default_factory=dict)

    def read(self, path: Path) -> None:
        """Add one `.ci` file (VCG syntax, one node or edge per line)."""
        for line in path.read_text().splitlines():
            if node := _NODE.match(line):
                title, label = node.groups()
                usage = _USAGE.search(label)
                if usage is None:
                    self.frames.setdefault(title, None)
                    continue
                if usage.group(2) not in ("static", "dynamic,bounded"):
                    raise TinyccError(
                        f"{path}: '{title}' uses a dynamic amount of stack"
                    )
                self.frames[title] = int(usage.group(1))
            elif edge := _EDGE.match(line):
                self.calls.setdefault(edge.group(1), set()).add(edge.group(2))

    def bound(self, root: str) -> int:
        """The most stack bytes a call of `root` can use."""
        known: dict[str, int] = {}

        def deepest(function: str, path: tuple[str, ...]) -> int:
            if function in known:
                return known[function]
            if function in path:
                cycle = " -> ".join((*path[path.index(function) :], function))
                raise TinyccError(f"recursion has no static stack bound: {cycle}")
            if function == INDIRECT_CALL:
                raise TinyccError(
                    f"'{path[-1]}' calls through a pointer: no static stack bound"
                )
            frame = self.frames.get(function)
            if frame is None:  # a library routine
                return LIBRARY_BYTES
            inner = [
                deepest(c, (*path, function)) for c in self.calls.get(function, ())
            ]
            known[function] = frame + max([LIBRARY_BYTES, *inner])
            return known[function]

        if root not in self.frames:
            raise TinyccError(f"internal: no call-graph node for '{root}'")
        return deepest(root, ())


def stack_bound(ci_files: Iterable[Path], root: str = "Reset_Handler") -> int:
    """The static stack bound of `root` over the objects' `.ci` files."""
    graph = CallGraph()
    for path in ci_files:
        graph.read(path)
    return graph.bound(root)
