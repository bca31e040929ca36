"""Compile emitted C with the host compiler and run it on numpy arrays.

Every program is built with the flags the C target promises to satisfy:
strict C99, all warnings as errors, AddressSanitizer and UBSan (so signed
overflow, misaligned or out-of-bounds accesses in generated code abort).
The test main checks the header's defines against the arrays the test
expects, runs `<name>_run` and `<name>_run_with_arena` (on an arena full of
garbage) and requires identical outputs, and checks the error codes.
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from pathlib import Path

import numpy as np

from tinycc.ir import parse_module
from tinycc.targets.c import emit_files

CC = os.environ.get("CC", "cc")
CFLAGS = [
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O1",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
]

_C_TYPES = {
    np.dtype("float32"): "float",
    np.dtype("float64"): "double",
    np.dtype("int8"): "int8_t",
    np.dtype("uint8"): "uint8_t",
    np.dtype("int16"): "int16_t",
    np.dtype("int32"): "int32_t",
    np.dtype("int64"): "int64_t",
}


def compile_c(
    sources: list[Path], output: Path, extra: list[str] | None = None
) -> None:
    """Compile and link; any diagnostic at all fails the test."""
    run = subprocess.run(
        [CC, *CFLAGS, *(extra or []), *map(str, sources), "-o", str(output), "-lm"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and not run.stderr, run.stderr


def run_model(
    ir: str,
    model: str,
    inputs: list[np.ndarray],
    outputs: list[tuple[tuple[int, ...], np.dtype | type]],
    directory: Path,
) -> list[np.ndarray]:
    """Emit the files of `ir`, build them with a test main, run it."""
    files = emit_files(parse_module(ir), model)
    for name, text in files.items():
        (directory / name).write_text(text)
    specs = [("input", a.shape, a.dtype) for a in inputs] + [
        ("output", tuple(shape), np.dtype(dtype)) for shape, dtype in outputs
    ]
    (directory / "main.c").write_text(main_source(model, specs))
    program = directory / "program"
    compile_c(
        [directory / "main.c", directory / "model.c", directory / "model_weights.c"],
        program,
    )
    (directory / "inputs.bin").write_bytes(
        b"".join(np.ascontiguousarray(a).tobytes() for a in inputs)
    )
    run = subprocess.run(
        [str(program), str(directory / "inputs.bin"), str(directory / "outputs.bin")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and not run.stderr, (run.returncode, run.stderr)
    data = (directory / "outputs.bin").read_bytes()
    results, offset = [], 0
    for shape, dtype in outputs:
        array = np.frombuffer(
            data, dtype=dtype, count=int(np.prod(shape)), offset=offset
        )
        results.append(array.reshape(shape))
        offset += array.nbytes
    assert offset == len(data)
    return results


def main_source(model: str, specs: list[tuple[str, tuple[int, ...], np.dtype]]) -> str:
    """A main() that reads the inputs from argv[1] and writes outputs to argv[2]."""
    macro = model.upper()
    counts = {
        role: sum(1 for r, _, _ in specs if r == role) for role in ("input", "output")
    }
    ports = []
    for role in ("input", "output"):
        same = [s for s in specs if s[0] == role]
        for index, (_, shape, dtype) in enumerate(same):
            suffix = "" if counts[role] == 1 else str(index)
            ports.append(
                (
                    role,
                    f"{role}{suffix}",
                    f"{macro}_{role.upper()}{suffix}",
                    shape,
                    dtype,
                )
            )
    declarations, checks, reads, writes, compares = [], [], [], [], []
    for role, name, port_macro, shape, dtype in ports:
        count = int(np.prod(shape))
        ctype = _C_TYPES[np.dtype(dtype)]
        declarations.append(f"static {ctype} {name}[{count}];")
        checks.append(
            f"if ({port_macro}_COUNT != {count} || {port_macro}_RANK != {len(shape)}) "
            f'{{ fprintf(stderr, "{name}: wrong defines\\n"); return 3; }}'
        )
        if shape:
            checks.append(
                f"{{ static const int shape[] = {port_macro}_SHAPE; "
                f"if (shape[0] != {shape[0]}) {{ return 3; }} }}"
            )
        if role == "input":
            reads.append(
                f"if (fread({name}, sizeof {name}, 1, in) != 1) "
                f'{{ fprintf(stderr, "short input\\n"); return 2; }}'
            )
        else:
            declarations.append(f"static {ctype} {name}_again[{count}];")
            writes.append(f"fwrite({name}, sizeof {name}, 1, out);")
            compares.append(
                f"if (memcmp({name}, {name}_again, sizeof {name}) != 0) "
                f'{{ fprintf(stderr, "{name}: arenas disagree\\n"); return 5; }}'
            )
    args = ", ".join(name for _, name, _, _, _ in ports)
    again = ", ".join(
        name if role == "input" else f"{name}_again" for role, name, _, _, _ in ports
    )
    return f"""\
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

{chr(10).join(declarations)}
/* A caller's arena: aligned by its union, filled with garbage. */
static union {{ double d; unsigned char bytes[{macro}_ARENA_BYTES + 1]; }} arena;

int main(int argc, char **argv)
{{
    FILE *in, *out;
    if (argc != 3) {{ return 2; }}
    {chr(10).join("    " + c for c in checks).lstrip()}
    in = fopen(argv[1], "rb");
    if (in == NULL) {{ return 2; }}
    {chr(10).join("    " + r for r in reads).lstrip()}
    fclose(in);
    if ({model}_run({args}) != 0) {{ fprintf(stderr, "run failed\\n"); return 4; }}
    memset(arena.bytes, 0xA5, sizeof arena.bytes);
    if ({model}_run_with_arena(arena.bytes, {again}) != 0) {{ return 4; }}
    {chr(10).join("    " + c for c in compares).lstrip()}
    if ({model}_run_with_arena(NULL, {args}) != -1) {{ return 6; }}
    if ({macro}_ARENA_ALIGNMENT > 1
        && {model}_run_with_arena(arena.bytes + 1, {args}) != -2) {{ return 6; }}
    out = fopen(argv[2], "wb");
    if (out == NULL) {{ return 2; }}
    {chr(10).join("    " + w for w in writes).lstrip()}
    fclose(out);
    return 0;
}}
"""


def lanewise_module(
    model: str, operand: str, n: int, snippets: list[tuple[str, str]], prelude: str = ""
) -> str:
    """A model computing each snippet lane by lane on two inputs %x, %y.

    In the loop over %idx, a snippet sees %a = x[idx] and %b = y[idx] (of
    type `operand`) and defines %r (of its type), stored to output k.
    """
    bodies = []
    for k, (ops, result) in enumerate(snippets):
        body = (
            f"%a = memref.load %x[%idx] : memref<{n}x{operand}>\n"
            f"%b = memref.load %y[%idx] : memref<{n}x{operand}>\n{ops}\n"
            f"memref.store %r, %o{k}[%idx] : memref<{n}x{result}>"
        )
        # Distinct SSA names per snippet: suffix every name it defines.
        body = re.sub(r"%(?!x\b|y\b|idx\b|o\d|g_)(\w+)", rf"%\1_{k}", body)
        bodies.append(textwrap.indent(body, " " * 6))
    types = [f"memref<{n}x{operand}>"] * 2 + [f"memref<{n}x{r}>" for _, r in snippets]
    names = ["%x", "%y"] + [f"%o{k}" for k in range(len(snippets))]
    params = ", ".join(
        f"{name}: {type_}" for name, type_ in zip(names, types, strict=True)
    )
    return f"""
func.func private @lanes({params}) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant {n} : index
  {prelude}
  scf.for %idx = %c0 to %n step %c1 {{
{chr(10).join(bodies)}
  }}
  func.return
}}
func.func @{model}_run(%arena: memref<16xi8>, {params}) {{
  func.call @lanes({", ".join(names)}) : ({", ".join(types)}) -> ()
  func.return
}}
"""


FULLY_CONNECTED = """
"memref.global"() <{sym_name = "fc.weight", sym_visibility = "private", type = memref<5x20xf32>, initial_value = dense<WEIGHT> : tensor<5x20xf32>, constant, alignment = 16 : i64}> : () -> ()
"memref.global"() <{sym_name = "fc.bias", sym_visibility = "private", type = memref<5xf32>, initial_value = dense<BIAS> : tensor<5xf32>, constant}> : () -> ()
func.func private @fc(%x: memref<3x20xf32>, %w: memref<5x20xf32>, %b: memref<5xf32>, %y: memref<3x5xf32>) attributes {tinycc.layer = {op = "fully_connected", shape = [3, 5], macs = 300 : i64, live_bytes = 300 : i64}} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = arith.constant 3 : index
  %n = arith.constant 5 : index
  %k = arith.constant 20 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %m step %c1 {
    scf.for %j = %c0 to %n step %c1 {
      %bias = memref.load %b[%j] : memref<5xf32>
      %acc = scf.for %p = %c0 to %k step %c1 iter_args(%sum = %bias) -> (f32) {
        %xv = memref.load %x[%i, %p] : memref<3x20xf32>
        %wv = memref.load %w[%j, %p] : memref<5x20xf32>
        %prod = arith.mulf %xv, %wv : f32
        %next = arith.addf %sum, %prod : f32
        scf.yield %next : f32
      }
      %relu = arith.maximumf %acc, %zero : f32
      memref.store %relu, %y[%i, %j] : memref<3x5xf32>
    }
  }
  func.return
}
func.func @mlp_run(%arena: memref<16xi8>, %x: memref<3x20xf32>, %y: memref<3x5xf32>) {
  %w = memref.get_global @fc.weight : memref<5x20xf32>
  %b = memref.get_global @fc.bias : memref<5xf32>
  func.call @fc(%x, %w, %b, %y) : (memref<3x20xf32>, memref<5x20xf32>, memref<5xf32>, memref<3x5xf32>) -> ()
  func.return
}
"""  # noqa: E501


def dense(array: np.ndarray) -> str:
    """A dense literal numpy writes and xDSL parses exactly (hex bits)."""
    bits = np.ascontiguousarray(array).view(f"<u{array.itemsize}")
    return '"0x' + bits.tobytes().hex().upper() + '"'
