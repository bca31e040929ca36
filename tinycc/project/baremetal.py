"""What a project needs to build a bare-metal Cortex-M program, and how.

The program is the one `tinycc verify --target cortex-m...` runs: the
harness of targets/mcu/data (start-up, fault handler, semihosting I/O)
and its linker script, which gives the preset's part its RAM and flash at the
addresses where the preset's QEMU machine has memory (for the nRF52840 of
`cortex-m4` those are the real part's: flash at 0, RAM at 0x20000000).
The Makefile and CMake writers share the files and flags here.
"""

from __future__ import annotations

import textwrap

from tinycc import host
from tinycc.project.base import COMMENT_WIDTH, Project
from tinycc.targets.mcu import build

HARNESS_SOURCES = build.HARNESS_SOURCES  # startup.c
HARNESS_HEADER = "tinycc_mcu.h"
LINKER_SCRIPT = "link.ld"
ELF = "model.elf"

# The stack the linker script reserves below the end of RAM, so that a model
# leaving less fails to link. The harness and the kernels need far less
# (`tinycc verify --target ...` reports the call graph's static bound).
STACK_BYTES = 4096

# What the warnings and -O2 leave of them: code generation, for CMake's
# toolchain file (CMake's build type chooses the optimization).
CODE_FLAGS = tuple(
    f for f in build.COMPILE_FLAGS if f not in host.WARNINGS and not f.startswith("-O")
)
# -nostartfiles: startup.c is the start-up; the C library is newlib-nano.
LINK_FLAGS = build.LDFLAGS
MEMORY_USAGE = "-Wl,--print-memory-usage"  # the linker prints flash and RAM used


def described(project: Project) -> dict[str, str]:
    """README descriptions of the harness's files."""
    return {
        **dict.fromkeys(
            HARNESS_SOURCES,
            "start-up (vector table, .data and .bss, FPU), a fault handler that "
            "reports and exits, semihosting I/O",
        ),
        HARNESS_HEADER: "the harness functions main.c uses",
        LINKER_SCRIPT: f"the {project.preset.part}'s flash and RAM",
    }


def harness_files(project: Project) -> dict[str, str]:
    """The start-up code, its header and the linker script, each headed by
    the project's banner."""
    copied = ["Copied from tinycc's Cortex-M run harness (targets/mcu/data)."]
    files = {
        name: project.banner("c", copied) + (build.DATA / name).read_text()
        for name in (*HARNESS_SOURCES, HARNESS_HEADER)
    }
    machine = build.runnable_machine(project.preset)
    about = textwrap.wrap(
        f"The {project.preset.part}'s {project.preset.ram:,} B of RAM and "
        f"{project.preset.flash:,} B of flash, at the addresses QEMU "
        f"{machine.name} gives them; for a board whose memory is elsewhere, "
        "change the two ORIGINs.",
        COMMENT_WIDTH,
    )
    script = build.linker_script(project.preset, machine)
    files[LINKER_SCRIPT] = project.banner("c", about) + script
    return files


def qemu_machine(project: Project) -> str:
    """The QEMU machine that runs the program (`make run`)."""
    return build.runnable_machine(project.preset).name


def semihosting_note(project: Project, elf: str) -> str:
    """A README paragraph: what the program `elf` needs to run, in QEMU or
    on a board."""
    machine = qemu_machine(project)
    return (
        "The program prints and exits through Arm semihosting: run it in QEMU "
        f"(`qemu-system-arm -M {machine} -nographic -semihosting -kernel "
        f"{elf}`), or on a board with a debugger that serves semihosting "
        "(OpenOCD: `arm semihosting enable`). Without one, replace `put()` in "
        "`main.c` and the exit in `startup.c` with your board's UART."
    )
