"""`main.c` of an exported project: one inference on an input it holds.

The example input sits in `static const` arrays in the layout of `model.h`
(tinycc's, e.g. NHWC), with exact literals. The program calls `<name>_run`
once and prints each output as one line, `<ONNX name>: v0 v1 ...`, in the
same layout. Integers print in decimal, floats with 9 significant digits
(`-1.23456789e-03`), which give back the float32 exactly.

It formats numbers itself and prints through one function, `put`, because
printf is what a bare-metal C library lacks or makes large (newlib-nano's
float printf needs a heap): `put` is stdio's `fputs` on the host and under
ESP-IDF, the Arm semihosting console (`tinycc_write(":tt", ...)`, see
targets/mcu/data/tinycc_mcu.h) on a Cortex-M.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import Float32Type

from tinycc import signature
from tinycc.project.base import COMMENT_WIDTH, Project
from tinycc.targets.c.emitter import INDENT
from tinycc.targets.c.globals import fill_lines
from tinycc.targets.c.literals import array_literals, c_type, is_special_literal
from tinycc.targets.c.names import c_identifier

EXIT_RUN_FAILED = 1  # main's status when <name>_run returns an error


@dataclass(frozen=True)
class Console:
    """How a platform prints and where its program starts."""

    headers: tuple[str, ...]  # #include lines put needs
    put: str  # the definition of `static void put(const char *text)`
    entry: str  # the entry point, calling `run_example()`


STDIO_PUT = "static void put(const char *text) { (void)fputs(text, stdout); }\n"

HOST = Console(("<stdio.h>",), STDIO_PUT, "int main(void) { return run_example(); }\n")
SEMIHOSTING = Console(
    ("<string.h>", '"tinycc_mcu.h"'),
    "/* To the semihosting console: the debugger's, or QEMU's standard output. */\n"
    "static void put(const char *text) {\n"
    f'{INDENT}(void)tinycc_write(":tt", text, strlen(text));\n'
    "}\n",
    HOST.entry,
)
ESP_IDF = Console(
    ("<stdio.h>",),
    STDIO_PUT,
    "void app_main(void) { (void)run_example(); }\n",
)

PUT_INTEGER = """\
static void put_integer(long long value) {
    char text[24];
    char *digit = &text[sizeof text - 1];
    unsigned long long magnitude =
        value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;
    *digit = '\\0';
    do {
        *--digit = (char)('0' + (int)(magnitude % 10u));
        magnitude /= 10u;
    } while (magnitude != 0u);
    if (value < 0) *--digit = '-';
    put(digit);
}
"""

# Scaling by 10 in double keeps the relative error near 1e-15, far below the
# 1e-9 of the ninth digit: the digits are the float's, correctly rounded.
PUT_FLOAT = """\
/* 9 significant digits: enough to give back the float exactly. */
static void put_float(float value) {
    char text[20];
    char *end = text;
    double magnitude = value < 0.0f ? -(double)value : (double)value;
    unsigned long digits;
    int exponent = 0, i;
    if (value != value) {
        put("nan");
        return;
    }
    if (value < 0.0f) *end++ = '-';
    if (magnitude > FLT_MAX) {
        *end = '\\0';
        put(text);
        put("inf");
        return;
    }
    if (magnitude > 0.0) {
        while (magnitude >= 10.0) {
            magnitude /= 10.0;
            ++exponent;
        }
        while (magnitude < 1.0) {
            magnitude *= 10.0;
            --exponent;
        }
    }
    digits = (unsigned long)(magnitude * 1e8 + 0.5);
    if (digits >= 1000000000ul) { /* 9.999999999 rounded up to 10 */
        digits /= 10u;
        ++exponent;
    }
    for (i = 9; i >= 0; --i) {
        if (i == 1) continue; /* the decimal point */
        end[i] = (char)('0' + (int)(digits % 10u));
        digits /= 10u;
    }
    end[1] = '.';
    end += 10;
    *end++ = 'e';
    *end++ = exponent < 0 ? '-' : '+';
    if (exponent < 0) exponent = -exponent;
    *end++ = (char)('0' + exponent / 10);
    *end++ = (char)('0' + exponent % 10);
    *end = '\\0';
    put(text);
}
"""


def main_c(project: Project, console: Console, example_from: str) -> str:
    """The example program for `console`; `example_from` says where the
    input's values come from (for its comment)."""
    floats = [_is_float(port) for port in project.outputs]
    headers = {"<stddef.h>", *console.headers}
    if any(floats):
        headers.add("<float.h>")
    literals = [
        list(array_literals(np.asarray(array).ravel(), port.type.element_type))
        for port, array in zip(project.inputs, project.example, strict=True)
    ]
    if any(is_special_literal(v) for values in literals for v in values):
        headers.add("<math.h>")
    about = textwrap.wrap(
        f"An example: {project.name}_run() on the input below ({example_from}), "
        "each output printed as one line '<name>: values' in model.h's layout.",
        COMMENT_WIDTH,
    )
    parts = [
        project.banner("c", about),
        "".join(f"#include {h}\n" for h in sorted(headers, key=_system_first)),
        '#include "model.h"\n',
        *(
            _input(index, port, values)
            for index, (port, values) in enumerate(
                zip(project.inputs, literals, strict=True)
            )
        ),
        "".join(_output(index, port) for index, port in enumerate(project.outputs)),
        console.put,
    ]
    if not all(floats):
        parts.append(PUT_INTEGER)
    if any(floats):
        parts.append(PUT_FLOAT)
    parts += [_run_example(project), console.entry]
    return "\n".join(parts)


def _system_first(header: str) -> tuple[bool, str]:
    """Sort key: <system> headers before "project" ones."""
    return header.startswith('"'), header


def _is_float(port: signature.Port) -> bool:
    return isinstance(port.type.element_type, Float32Type)


def _declaration(port: signature.Port) -> str:
    shape = ", ".join(map(str, port.type.get_shape()))
    return f"'{port.name}': {c_type(port.type.element_type)} [{shape}]"


def _count(port: signature.Port) -> int:
    return int(np.prod(port.type.get_shape()))


def _input(index: int, port: signature.Port, values: list[str]) -> str:
    element = c_type(port.type.element_type)
    return (
        f"/* Input {_declaration(port)}. */\n"
        f"static const {element} input{index}[{_count(port)}] = {{\n"
        + "\n".join(fill_lines(values))
        + "\n};\n"
    )


def _output(index: int, port: signature.Port) -> str:
    element = c_type(port.type.element_type)
    return (
        f"/* Output {_declaration(port)}. */\n"
        f"static {element} output{index}[{_count(port)}];\n"
    )


def _run_example(project: Project) -> str:
    """`run_example()`: one inference, the outputs printed; main's status."""
    arguments = [f"input{i}" for i in range(len(project.inputs))]
    arguments += [f"output{i}" for i in range(len(project.outputs))]
    run = f"{c_identifier(project.name)}_run"
    lines = [
        "static int run_example(void) {",
        f"{INDENT}size_t i;",
        f"{INDENT}if ({run}({', '.join(arguments)}) != 0) {{",
        f'{INDENT * 2}put("{run} failed\\n");',
        f"{INDENT * 2}return {EXIT_RUN_FAILED};",
        f"{INDENT}}}",
    ]
    for index, port in enumerate(project.outputs):
        put = (
            f"put_float(output{index}[i])"
            if _is_float(port)
            else f"put_integer((long long)output{index}[i])"
        )
        lines += [
            f'{INDENT}put("{c_string(port.name)}:");',
            f"{INDENT}for (i = 0; i < {_count(port)}u; ++i) {{",
            f'{INDENT * 2}put(" ");',
            f"{INDENT * 2}{put};",
            f"{INDENT}}}",
            f'{INDENT}put("\\n");',
        ]
    lines += [f"{INDENT}return 0;", "}", ""]
    return "\n".join(lines)


def c_string(text: str) -> str:
    """`text` for a C string literal: printable ASCII as is, every other
    byte (and `"`, `\\`, `?` of trigraphs) as an octal escape."""
    return "".join(
        chr(byte) if 32 <= byte < 127 and chr(byte) not in '"\\?' else f"\\{byte:03o}"
        for byte in text.encode()
    )
