"""Build generated C into a bare-metal ELF for a Cortex-M preset.

The program is the model's `model.c` and `model_weights.c`, a generated
`main.c` (read the inputs, run one inference between the benchmark markers,
write the outputs) and the harness in `data/` (start-up, faults,
semihosting), linked with newlib-nano by a linker script that gives the
part's flash and RAM their place in the QEMU machine's memory. An oversized
model fails at link time, naming the region, what it needs and what the part
has.

Sizes come from the ELF's sections: text (code and constants, the weights
included), data, bss (the arena, the I/O buffers). The stack figure is the
static bound of `stack.stack_bound` from `-fcallgraph-info=su`, and the
linker script reserves that much RAM for it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

import numpy as np

from tinycc import host, signature
from tinycc.errors import TinyccError
from tinycc.targets.c.literals import c_type
from tinycc.targets.c.names import c_identifier
from tinycc.targets.mcu.presets import Machine, Preset
from tinycc.targets.mcu.stack import stack_bound

DATA = Path(__file__).parent / "data"
HARNESS_SOURCES = ("startup.c",)
# How every target build compiles (also the exported projects' flags).
COMPILE_FLAGS = (*host.WARNINGS, "-O2", "-ffunction-sections", "-fdata-sections")
# verify's builds also dump the call graph with frame sizes (the stack bound).
CFLAGS = (*COMPILE_FLAGS, "-fcallgraph-info=su")
LDFLAGS = ("-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections")

# main.c's exit statuses (startup.c adds 128 + exception number for faults).
EXIT_INPUT, EXIT_RUN, EXIT_OUTPUT = 3, 4, 5


@dataclass(frozen=True)
class Footprint:
    """Bytes of flash and RAM the program takes."""

    text: int  # code and constants (weights), in flash
    data: int  # initialized variables: in RAM, their initial values in flash
    bss: int  # zeroed variables (arena, I/O buffers), in RAM
    stack: int  # static bound of the deepest call path

    def json(self) -> dict[str, int]:
        return {
            "text_bytes": self.text,
            "data_bytes": self.data,
            "bss_bytes": self.bss,
            "stack_bytes": self.stack,
        }

    def text_line(self) -> str:
        return (
            f"text {self.text:,} B, data {self.data:,} B, bss {self.bss:,} B, "
            f"stack {self.stack:,} B (static bound)"
        )


@dataclass(frozen=True)
class Program:
    """A linked ELF and what it takes of its part."""

    elf: Path
    preset: Preset
    footprint: Footprint


def harness(
    name: str, inputs: Sequence[signature.Port], outputs: Sequence[signature.Port]
) -> str:
    """`main.c`: the inputs from `input<i>.bin`, one inference between
    `tinycc_bench_start()` and `tinycc_bench_stop()`, the outputs to
    `output<i>.bin` (raw little-endian elements of the ports' C types)."""
    ports = [*inputs, *outputs]
    lines = ['#include "model.h"', '#include "tinycc_mcu.h"', ""]
    for index, port in enumerate(ports):
        count = int(np.prod(port.type.get_shape()))
        lines.append(f"static {c_type(port.type.element_type)} port{index}[{count}];")
    lines += ["", "int main(void) {", "    int status;"]
    for index in range(len(inputs)):
        read = f'tinycc_read("input{index}.bin", port{index}, sizeof port{index})'
        lines.append(f"    if ({read} != 0) return {EXIT_INPUT};")
    arguments = ", ".join(f"port{i}" for i in range(len(ports)))
    lines += [
        "    tinycc_bench_start();",
        f"    status = {c_identifier(name)}_run({arguments});",
        "    tinycc_bench_stop();",
        f"    if (status != 0) return {EXIT_RUN};",
    ]
    for index in range(len(inputs), len(ports)):
        number = index - len(inputs)
        write = f'tinycc_write("output{number}.bin", port{index}, sizeof port{index})'
        lines.append(f"    if ({write} != 0) return {EXIT_OUTPUT};")
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


def runnable_machine(preset: Preset) -> Machine:
    """The QEMU machine of `preset`, which must hold the part's memory."""
    machine = preset.machine
    if machine is None:
        raise TinyccError(
            f"target {preset.name} ({preset.part}) does not run here: tinycc "
            "runs no emulator for it (its C compiles with "
            f"{' '.join((preset.compiler, *preset.flags))})"
        )
    for what, size, region in (
        ("RAM", preset.ram, machine.data),
        ("flash", preset.flash, machine.code),
    ):
        if size is not None and size > region.size:
            raise TinyccError(
                f"target {preset.name}: {size:,} B of {what} do not fit QEMU "
                f"{machine.name}'s {region.size:,} B at {region.origin:#x}"
            )
    return machine


def linker_script(preset: Preset, machine: Machine) -> str:
    template = Template((DATA / "link.ld.in").read_text())
    return template.substitute(
        flash_origin=f"{machine.code.origin:#010x}",
        flash_bytes=preset.flash,
        ram_origin=f"{machine.data.origin:#010x}",
        ram_bytes=preset.ram,
    )


def tool(preset: Preset, name: str | None = None) -> str:
    """The path of the preset's compiler, or of a binutils program beside it
    (`name="size"` -> arm-none-eabi-size)."""
    program = preset.compiler
    if name is not None:
        program = f"{preset.compiler.rpartition('-')[0]}-{name}"
    found = shutil.which(program)
    if found is None:
        raise TinyccError(f"{program} not found ({preset.install})")
    return found


def build(directory: Path, name: str, module, preset: Preset) -> Program:
    """Compile the generated C in `directory` with a `main.c` for the model
    and the harness, and link `directory/prog.elf` for `preset`."""
    inputs, outputs = host.ports(module)
    (directory / "main.c").write_text(harness(name, inputs, outputs))
    sources = [directory / f for f in ("model.c", "model_weights.c", "main.c")]
    return link(directory, sources, preset, name)


def link(directory: Path, sources: Sequence[Path], preset: Preset, name: str):
    """Compile `sources` (one defines `main`) with the harness and link
    `directory/prog.elf` for `preset`; `name` is for messages."""
    machine = runnable_machine(preset)
    compiler = tool(preset)
    objects = []
    for source in [*sources, *(DATA / f for f in HARNESS_SOURCES)]:
        obj = directory / f"{source.stem}.o"
        command = [compiler, *preset.flags, *CFLAGS, f"-I{DATA}", "-c", str(source)]
        run_tool([*command, "-o", str(obj)], f"{preset.compiler} failed on {source}")
        objects.append(obj)
    stack = stack_bound(obj.with_suffix(".ci") for obj in objects)
    script = directory / "link.ld"
    script.write_text(linker_script(preset, machine))
    elf = directory / "prog.elf"
    command = [
        compiler,
        *preset.flags,
        *LDFLAGS,
        f"-T{script}",
        f"-Wl,--defsym=__tinycc_stack_bytes={stack}",
        "-o",
        str(elf),
        *map(str, objects),
        "-lm",
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise TinyccError(link_failure(done.stderr, name, preset, stack))
    return Program(elf, preset, footprint(elf, preset, stack))


def run_tool(command: list[str], failure: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise TinyccError(f"{failure}: {done.stderr.strip()[:2000]}")


_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")


def link_failure(stderr: str, name: str, preset: Preset, stack: int) -> str:
    """One line: which of the part's memories the model overflows, or the
    linker's own message."""
    overflows = dict(_OVERFLOW.findall(stderr))
    if not overflows:
        return f"linking {name} for {preset.name} failed: {stderr.strip()[:2000]}"
    sizes = {"FLASH": ("flash", preset.flash), "RAM": ("RAM", preset.ram)}
    parts = []
    for region, excess in overflows.items():
        what, size = sizes[region]
        extra = f" (with a {stack:,} B stack)" if region == "RAM" else ""
        parts.append(f"{what} needs {size + int(excess):,} B{extra}, it has {size:,} B")
    return (
        f"{name} does not fit the {preset.part} ({preset.name}): "
        f"{'; '.join(parts)} (--ram/--flash override the part's sizes)"
    )


def footprint(elf: Path, preset: Preset, stack: int) -> Footprint:
    """Section sizes from `size -A`: text counts .text and .ARM.exidx."""
    done = subprocess.run(
        [tool(preset, "size"), "-A", str(elf)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise TinyccError(f"size failed on {elf}: {done.stderr.strip()}")
    sections = {}
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1].isdigit():
            sections[fields[0]] = int(fields[1])
    text = sections.get(".text", 0) + sections.get(".ARM.exidx", 0)
    return Footprint(text, sections.get(".data", 0), sections.get(".bss", 0), stack)
