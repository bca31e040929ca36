"""Build generated C for the host and run it: the `--target host` runner.

A small `main.c` reads each input as raw little-endian elements of its C type
(float32, or int8 for a quantized model's integer edges) from a file, calls
`<model>_run`, and writes each output the same way. Arrays cross the
boundary in the IR layout (NHWC); the caller converts with the ports'
`onnx.perm`, as `tinycc run` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ArrayAttr

from tinycc import signature
from tinycc.errors import TinyccError
from tinycc.targets.c.literals import c_type
from tinycc.targets.c.names import c_identifier
from tinycc.weights import numpy_dtype

WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")
SANITIZERS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all")


def compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise TinyccError("no host C compiler found (install gcc or set CC)")
    return cc


def harness(
    name: str, inputs: Sequence[signature.Port], outputs: Sequence[signature.Port]
) -> str:
    """`main.c`: argv = input files then output files."""

    def count(port: signature.Port) -> int:
        return int(np.prod(port.type.get_shape()))

    lines = [
        "#include <stdio.h>",
        '#include "model.h"',
        "",
        "static int transfer(const char *path, void *data, size_t size, size_t count,",
        "                    int out) {",
        '    FILE *file = fopen(path, out ? "wb" : "rb");',
        "    size_t done;",
        "    if (file == NULL) return 1;",
        "    done = out ? fwrite(data, size, count, file)",
        "               : fread(data, size, count, file);",
        "    return (fclose(file) != 0) || done != count;",
        "}",
        "",
    ]
    ports = [*inputs, *outputs]
    for index, port in enumerate(ports):
        element = c_type(port.type.element_type)
        lines.append(f"static {element} port{index}[{count(port)}];")
    lines += [
        "",
        "int main(int argc, char **argv) {",
        f"    if (argc != {len(ports) + 1}) return 2;",
    ]
    for index, port in enumerate(inputs):
        size = f"sizeof port{index}[0]"
        call = f"transfer(argv[{index + 1}], port{index}, {size}, {count(port)}, 0)"
        lines.append(f"    if ({call}) return 3;")
    arguments = ", ".join(f"port{i}" for i in range(len(ports)))
    lines.append(f"    if ({c_identifier(name)}_run({arguments}) != 0) return 4;")
    for index, port in enumerate(outputs, start=len(inputs)):
        size = f"sizeof port{index}[0]"
        call = f"transfer(argv[{index + 1}], port{index}, {size}, {count(port)}, 1)"
        lines.append(f"    if ({call}) return 5;")
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


def build(
    directory: Path, name: str, module, *, sanitize: bool = False, optimize: str = "-O2"
) -> Path:
    """Compile the files in `directory` plus a harness into `directory/run`."""
    loop_inputs, loop_outputs = ports(module)
    (directory / "main.c").write_text(harness(name, loop_inputs, loop_outputs))
    sources = [str(directory / f) for f in ("model.c", "model_weights.c", "main.c")]
    program = directory / "run"
    flags = [*WARNINGS, optimize, *(SANITIZERS if sanitize else ())]
    command = [compiler(), *flags, "-o", str(program), *sources, "-lm"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise TinyccError(
            f"the host C compiler failed on {directory}: {done.stderr.strip()[:2000]}"
        )
    return program


def ports(module) -> tuple[list[signature.Port], list[signature.Port]]:
    """Inputs and outputs of the loop-level run function, by `tinycc.role`."""
    from tinycc.targets.c.files import entry_function

    entry = entry_function(module)
    attrs = entry.arg_attrs.data if entry.arg_attrs is not None else ()
    roles = [a.data["tinycc.role"].data for a in attrs]
    kept = [i for i, role in enumerate(roles) if role != "arena"]
    types = entry.function_type.inputs.data
    found = signature.ports_of(
        [types[i] for i in kept], ArrayAttr([attrs[i] for i in kept]), "argument"
    )
    kinds = [roles[i] for i in kept]
    inputs = [p for p, kind in zip(found, kinds, strict=True) if kind == "input"]
    outputs = [p for p, kind in zip(found, kinds, strict=True) if kind == "output"]
    return inputs, outputs


def port_dtype(port: signature.Port) -> np.dtype:
    """The little-endian numpy dtype of a port's elements in the files."""
    return numpy_dtype(port.type.element_type).newbyteorder("<")


def file_bytes(array: np.ndarray) -> bytes:
    """An input file's content: float as float32 (the C type of float ports),
    integers as stored, little-endian."""
    dtype = np.float32 if np.issubdtype(array.dtype, np.floating) else array.dtype
    return np.ascontiguousarray(array, np.dtype(dtype).newbyteorder("<")).tobytes()


def run(
    program: Path, arrays: Sequence[np.ndarray], outputs: Sequence[signature.Port]
) -> list[np.ndarray]:
    """Run the built program on IR-layout inputs (float arrays go as float32,
    integer arrays as their own type: the ports' storage); IR-layout outputs."""
    directory = program.parent
    paths = []
    for index, array in enumerate(arrays):
        path = directory / f"input{index}.bin"
        path.write_bytes(file_bytes(np.asarray(array)))
        paths.append(str(path))
    out_paths = [str(directory / f"output{i}.bin") for i in range(len(outputs))]
    done = subprocess.run(
        [str(program), *paths, *out_paths], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise TinyccError(
            f"the generated program failed (exit {done.returncode}): "
            f"{done.stderr.strip()[:2000]}"
        )
    return [
        np.fromfile(path, port_dtype(port)).reshape(port.type.get_shape())
        for path, port in zip(out_paths, outputs, strict=True)
    ]
