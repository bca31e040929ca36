"""`tinycc-opt -t c`: print a loop-level module as one C99 translation unit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from tinycc.targets.c.files import emit_c


@dataclass(frozen=True)
class CTarget(Target):
    """C99 for the loop level; `-t 'c{prefix=kws_}'` prefixes private symbols."""

    name = "c"

    prefix: str = ""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        output.write(emit_c(module, self.prefix))
