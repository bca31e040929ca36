"""Exact executed-instruction counts of a marked region of a bare-metal program.

QEMU models no timing (DWT CYCCNT reads 0), so the repeatable latency metric
is the number of instructions the core executes: for one inference, the
instructions between the program's calls to `tinycc_bench_start()` and
`tinycc_bench_stop()`. The count comes from a TCG plugin, `icount.c` beside
this file, which says exactly what a region includes (from start's first
instruction up to, not including, stop's first: an empty region counts 2).
The markers must be empty functions declared `__attribute__((noinline,
noipa))`: GCC -O2 deletes the calls to an empty function that is merely
`noinline`, leaving nothing to count.
Debian's QEMU 7.2 loads plugins but ships neither plugins nor their header,
so the plugin is built here on demand with the host compiler against our own
`qemu_plugin_api.h`, into a cache directory keyed by its source's hash.

`measure` runs a program once and returns its exit status, its semihosting
console output and the count; `Measurement.count()` is the strict form for
benchmarks: exactly one region and exit status 0, or an error.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tinycc.errors import TinyccError
from tinycc.host import compiler

START_MARKER = "tinycc_bench_start"
STOP_MARKER = "tinycc_bench_stop"

SOURCES = ("icount.c", "qemu_plugin_api.h")
PLUGIN_FLAGS = (
    "-shared",
    "-fPIC",
    "-O2",
    "-fvisibility=hidden",
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
)
REPORT = re.compile(
    r"instructions=(\d+) regions=(\d+) open=([01]) unmatched=(\d+)$", re.MULTILINE
)


@dataclass(frozen=True)
class Measurement:
    """One run: the program's exit status and console output, and the counts."""

    returncode: int
    stdout: str
    stderr: str
    counts: Counts

    def count(self) -> int:
        """The instructions of the run's one region, for a run that exited
        with status 0 and marked exactly one region; else TinyccError."""
        problems = []
        if self.returncode != 0:
            problems.append(f"exit status {self.returncode}")
        problem = one_region_problem(self.counts)
        if problem:
            problems.append(problem)
        if problems:
            output = f"{self.stdout}{self.stderr}".rstrip()
            raise TinyccError(f"{'; '.join(problems)}\n{output}".rstrip())
        return self.counts.instructions


def one_region_problem(counts: Counts) -> str | None:
    """Why `counts` is not one closed start..stop region, or None."""
    if counts.regions == 1 and not counts.open_region and not counts.unmatched:
        return None
    return (
        f"{counts.regions} closed regions, {int(counts.open_region)} open, "
        f"{counts.unmatched} unmatched markers (expected one start..stop)"
    )


# The Debian package of each program this module runs.
PACKAGES = {
    "qemu-system-arm": "qemu-system-arm",
    "arm-none-eabi-nm": "binutils-arm-none-eabi",
}


def tool(name: str) -> str:
    """The path of an installed program, or TinyccError naming its package."""
    found = shutil.which(name)
    if found is None:
        package = PACKAGES.get(name, name)
        raise TinyccError(f"{name} not found (apt-get install {package})")
    return found


def cache_directory() -> Path:
    """$XDG_CACHE_HOME/tinycc, by default ~/.cache/tinycc."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinycc"


def plugin() -> Path:
    """The built plugin, compiled first if its sources or compiler changed.

    The file name carries a hash of the sources, compiler and flags, and is
    written under a temporary name then renamed, so concurrent test workers
    never load a half-written library.
    """
    cc = compiler()
    here = Path(__file__).parent
    digest = hashlib.sha256("\0".join((cc, *PLUGIN_FLAGS)).encode())
    for source in SOURCES:
        digest.update((here / source).read_bytes())
    built = cache_directory() / f"libicount-{digest.hexdigest()[:16]}.so"
    if built.exists():
        return built
    built.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=built.parent) as scratch:
        partial = Path(scratch) / built.name
        command = [cc, *PLUGIN_FLAGS, str(here / "icount.c"), "-o", str(partial)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise TinyccError(f"building the icount plugin failed:\n{done.stderr}")
        os.replace(partial, built)
    return built


def marker_addresses(elf: Path, nm: str = "arm-none-eabi-nm") -> tuple[int, int]:
    """The addresses of the start and stop markers in `elf`, as nm lists them
    (the plugin ignores bit 0, the Thumb bit of a function symbol's value)."""
    done = subprocess.run(
        [tool(nm), "--defined-only", str(elf)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise TinyccError(f"{nm} {elf} failed:\n{done.stderr}")
    symbols = {}
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3:
            symbols[fields[2]] = int(fields[0], 16)
    missing = [m for m in (START_MARKER, STOP_MARKER) if m not in symbols]
    if missing:
        raise TinyccError(f"{elf} does not define {', '.join(missing)}")
    return symbols[START_MARKER], symbols[STOP_MARKER]


def qemu_command(machine: str, elf: Path, qemu: str = "qemu-system-arm") -> list[str]:
    """Run `elf` on `machine` with the semihosting console on stdio, and no
    display, monitor or serial port (DESIGN.md §6)."""
    return [
        tool(qemu),
        "-M",
        machine,
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-chardev",
        "stdio,id=console",
        "-semihosting-config",
        "enable=on,target=native,chardev=console",
        "-kernel",
        str(elf),
    ]


def plugin_arguments(
    elf: Path, report: Path, nm: str = "arm-none-eabi-nm"
) -> list[str]:
    """The QEMU arguments that load the plugin to count `elf`'s marked
    region into the file `report` (read it with `read_report`)."""
    start, stop = marker_addresses(elf, nm)
    library = plugin()
    if "," in str(library) or "," in str(report):
        raise TinyccError(f"QEMU plugin paths cannot contain ',': {library}, {report}")
    return ["-plugin", f"{library},start={start:#x},stop={stop:#x},out={report}"]


@dataclass(frozen=True)
class Counts:
    """What the plugin wrote at exit."""

    instructions: int  # summed over the closed regions
    regions: int  # start..stop pairs executed
    open_region: bool  # the program exited between a start and its stop
    unmatched: int  # starts inside a region plus stops outside one


def read_report(report: Path) -> Counts | None:
    """The plugin's counts, or None if QEMU died before writing them."""
    found = REPORT.search(report.read_text()) if report.exists() else None
    if found is None:
        return None
    instructions, regions, open_region, unmatched = map(int, found.groups())
    return Counts(instructions, regions, bool(open_region), unmatched)


def measure(
    elf: Path,
    machine: str,
    *,
    qemu: str = "qemu-system-arm",
    nm: str = "arm-none-eabi-nm",
    cwd: Path | None = None,
    timeout: float = 600.0,
) -> Measurement:
    """Run `elf` once under QEMU with the plugin and return what it did.

    `cwd` is where the program's semihosting file operations resolve relative
    paths. A program that dies without QEMU's orderly exit (a lockup aborts
    QEMU) leaves no count, which raises TinyccError with its output.
    """
    elf = elf.resolve()
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "icount.txt"
        command = [
            *qemu_command(machine, elf, qemu),
            *plugin_arguments(elf, report, nm),
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                errors="replace",
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as timed_out:
            raise TinyccError(f"{elf} ran over {timeout:g} s in QEMU") from timed_out
        counts = read_report(report)
    if counts is None:
        raise TinyccError(
            f"{elf} left no instruction count (QEMU exit {done.returncode}):\n"
            f"{done.stdout}{done.stderr}"
        )
    return Measurement(done.returncode, done.stdout, done.stderr, counts)
