"""`tinycc compile --project KIND`: a compiled model as a project that builds.

Beside the model's own files (`model.h`, `model.c`, `model_weights.c`,
`report.json`) the output directory gets, by kind:

- `make`: a Makefile, an example `main.c` and README.md; for a Cortex-M
  target also the bare-metal start-up and the part's linker script, so that
  `make -C DIR` builds `model.elf` with arm-none-eabi-gcc and nothing else;
  for the host, `./model` with `cc` (`make`).
- `cmake`: CMakeLists.txt with a library target for the model and the
  example executable; for a Cortex-M target a toolchain file, used by
  default (`cmake`).
- `esp-idf`: an ESP-IDF component for `--target esp32` or `esp32s3`
  (`espidf`).

The example program runs one inference on an input it holds in a const
array (the random input `tinycc verify` draws, or the user's) and prints the
outputs (`example`). Exports are deterministic: two of the same model are
byte-identical.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tinycc.errors import TinyccError
from tinycc.project import cmake, espidf, make
from tinycc.project.base import Project
from tinycc.project.espidf import IDF_TARGETS
from tinycc.targets.mcu.presets import ARM_GCC, Preset

if TYPE_CHECKING:
    from tinycc.compile import Compiled

WRITERS: dict[str, Callable[[Project, str], dict[str, str]]] = {
    "make": make.files,
    "cmake": cmake.files,
    "esp-idf": espidf.files,
}
KINDS = tuple(WRITERS)
RANDOM_EXAMPLE = "the random input of `tinycc verify --seed 0`"
GIVEN_EXAMPLE = "the one given to `tinycc compile --input`"


def check(kind: str, target: Preset) -> None:
    """A one-line TinyccError unless `kind` builds for `target`: make and
    cmake for the host and Cortex-M, esp-idf for the ESP-IDF chips."""
    if kind not in WRITERS:
        raise TinyccError(
            f"unknown project kind '{kind}' (available: {', '.join(KINDS)})"
        )
    if kind == "esp-idf":
        if target.name not in IDF_TARGETS:
            raise TinyccError(
                "--project esp-idf makes an ESP-IDF component, for --target "
                f"{' or '.join(IDF_TARGETS)}, not {target.name} ({target.part})"
            )
    elif target.name != "host" and target.compiler != ARM_GCC:
        hint = (
            "use --project esp-idf"
            if target.name in IDF_TARGETS
            else "tinycc compile without --project writes the C files alone"
        )
        raise TinyccError(
            f"--project {kind} builds for the host and Cortex-M targets, not "
            f"{target.name} ({target.part}): {hint}"
        )


def export(
    compiled: Compiled,
    model_path: str,
    directory: Path,
    kind: str,
    target: Preset,
    feeds: Mapping[str, np.ndarray],
    given: bool = False,
) -> list[Path]:
    """Write the compiled model and the `kind` project around it into
    `directory`; the example input is `feeds` (by ONNX input name, ONNX
    layout), `given` by the user or else random. Returns the paths written."""
    from tinycc.compile import write_outputs
    from tinycc.host import ports

    check(kind, target)
    inputs, outputs = ports(compiled.module)
    project = Project(
        name=compiled.name,
        source=Path(model_path).name,
        sha256=str(compiled.report["model_sha256"]),
        preset=target,
        inputs=inputs,
        outputs=outputs,
        example=[port.to_ir(np.asarray(feeds[port.name])) for port in inputs],
    )
    written = write_outputs(compiled, directory)
    example_from = GIVEN_EXAMPLE if given else RANDOM_EXAMPLE
    for name, text in WRITERS[kind](project, example_from).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def example_feeds(
    model_path: str,
    given: Mapping[str | None, np.ndarray],
    shapes: Mapping[str, tuple[int, ...]],
) -> dict[str, np.ndarray]:
    """The example's input by ONNX name: `given` (None: the only input),
    else the seeded random input `tinycc verify` draws by default."""
    from tinycc.verify import load_onnx, model_feeds

    return model_feeds(load_onnx(model_path), given, shapes, seed=0)
