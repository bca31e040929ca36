"""The C99 target: loop-level IR to dependency-free C (see docs/lowering.md).

- `emit_c(module)`: one translation unit (`tinycc-opt -t c`);
- `emit_files(module, name)`: `model.h`, `model.c`, `model_weights.c`.
"""

from tinycc.targets.c.files import emit_c, emit_files

__all__ = ["emit_c", "emit_files"]
