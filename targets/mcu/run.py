"""Run a bare-metal program in QEMU: inputs in, outputs and status out.

QEMU runs in the program's directory with semihosting on its console, so
the harness's `input<i>.bin`/`output<i>.bin` are files there and its
messages (a fault, the stack high-water mark) come on stdout. A fault, a
lock-up, a non-zero exit or a timeout is a one-line `TinyccError`.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinycc import host, signature
from tinycc.errors import TinyccError
from tinycc.targets.mcu import icount
from tinycc.targets.mcu.build import EXIT_INPUT, EXIT_OUTPUT, EXIT_RUN, Program

TIMEOUT_SECONDS = 120.0

FAULT = 128  # startup.c exits with 128 + the exception number

_STATUS = {
    EXIT_INPUT: "could not read its inputs through semihosting",
    EXIT_RUN: "the model's run function returned an error",
    EXIT_OUTPUT: "could not write its outputs through semihosting",
}
_HIGH_WATER = re.compile(r"tinycc: stack high-water (\d+) bytes")


@dataclass
class Run:
    """What one run gave: IR-layout outputs, the measured stack use, and the
    instructions executed by one inference (between the bench markers)."""

    outputs: list[np.ndarray]
    stack_high_water: int  # bytes of the painted stack overwritten
    console: str
    instructions: int


def run(
    program: Program,
    arrays: Sequence[np.ndarray],
    outputs: Sequence[signature.Port],
    timeout: float = TIMEOUT_SECONDS,
) -> Run:
    """Run the program on IR-layout inputs (see `host.run`)."""
    directory = program.elf.parent
    for index, array in enumerate(arrays):
        (directory / f"input{index}.bin").write_bytes(host.file_bytes(array))
    paths = [directory / f"output{i}.bin" for i in range(len(outputs))]
    for path in paths:
        path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "icount.txt"
        console = execute(
            program, timeout, icount.plugin_arguments(program.elf, report)
        )
        counts = icount.read_report(report)
    problem = "no count" if counts is None else icount.one_region_problem(counts)
    if problem or counts is None:
        raise TinyccError(f"{program.elf}: instruction count: {problem}")
    results = [
        np.fromfile(path, host.port_dtype(port)).reshape(port.type.get_shape())
        for path, port in zip(paths, outputs, strict=True)
    ]
    found = _HIGH_WATER.search(console)
    high_water = int(found.group(1)) if found else 0
    return Run(results, high_water, console, counts.instructions)


def execute(program: Program, timeout: float, extra: Sequence[str] = ()) -> str:
    """Run QEMU on the program (with `extra` arguments, e.g. the counting
    plugin); its console output, or a one-line error."""
    machine = program.preset.machine
    assert machine is not None  # build() only links runnable presets
    command = [*icount.qemu_command(machine.name, program.elf.resolve()), *extra]
    where = f"{program.elf} on QEMU {machine.name}"
    try:
        done = subprocess.run(
            command,
            cwd=program.elf.parent,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise TinyccError(f"{where}: no exit after {timeout:g} s (timeout)") from None
    if done.returncode == 0:
        return done.stdout
    raise TinyccError(f"{where}: exit status {done.returncode}: {failure(done)}")


def failure(done: subprocess.CompletedProcess[str]) -> str:
    """Why the program stopped: QEMU's lock-up message, the harness's fault
    message, or the meaning of main's status."""
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line]
    lockup = [line for line in lines if "Lockup" in line]
    if lockup:
        return f"the core locked up (a fault while handling a fault): {lockup[0]}"
    if done.returncode > FAULT:
        return lines[-1] if lines else "a fault"
    return _STATUS.get(done.returncode, lines[-1] if lines else "no message")
