"""`--project make`: a Makefile that builds the example program.

For the host, `make` builds `./model` with the host's `cc`; for a Cortex-M
target, `model.elf` with arm-none-eabi-gcc, the preset's CPU flags, the
bare-metal start-up and the part's linker script (see `baremetal`). Either
way the flags are the ones `tinycc verify` builds with, so the generated C
compiles warning-free (-Werror). `make run` runs the program (QEMU for a
Cortex-M); every variable can be overridden (`make CC=clang`).
"""

from __future__ import annotations

from collections.abc import Sequence

from tinycc import host
from tinycc.project import baremetal
from tinycc.project.base import MODEL_SOURCES, Project
from tinycc.project.example import HOST, SEMIHOSTING, main_c
from tinycc.targets.c.files import HEADER
from tinycc.targets.mcu import build
from tinycc.targets.mcu.presets import ARM_INSTALL

HOST_PROGRAM = "model"
HOST_FLAGS = (*host.WARNINGS, "-O2")  # as `tinycc verify --target host` builds
LIBRARIES = "-lm"  # the model calls <math.h> functions
EXAMPLE = "an example: one inference on the input it holds, the outputs printed"


def files(project: Project, example_from: str) -> dict[str, str]:
    """Makefile, main.c and README.md (and the harness for a Cortex-M)."""
    if project.cortex_m:
        return _cortex_m(project, example_from)
    sources = ("main.c", *MODEL_SOURCES)
    variables = [
        ("CC", "cc"),
        ("CFLAGS", " ".join(HOST_FLAGS)),
        ("LDFLAGS", ""),
        ("LDLIBS", LIBRARIES),
    ]
    about = [
        f"`make` builds ./{HOST_PROGRAM}, the example of main.c; `make run` runs it."
    ]
    readme = project.readme(
        {
            "main.c": EXAMPLE,
            "Makefile": f"builds `{HOST_PROGRAM}` with the host's C compiler",
        },
        [f"Build and run: `make run` (or `make`, then `./{HOST_PROGRAM}`)."],
    )
    return {
        "Makefile": makefile(
            project,
            about,
            variables,
            (HOST_PROGRAM, ()),
            sources,
            (HEADER,),
            f"./{HOST_PROGRAM}",
        ),
        "main.c": main_c(project, HOST, example_from),
        "README.md": readme,
    }


def _cortex_m(project: Project, example_from: str) -> dict[str, str]:
    sources = ("main.c", *MODEL_SOURCES, *baremetal.HARNESS_SOURCES)
    link = [
        "$(CPU)",
        *baremetal.LINK_FLAGS,
        baremetal.MEMORY_USAGE,
        f"-T {baremetal.LINKER_SCRIPT}",
        "-Wl,--defsym=__tinycc_stack_bytes=$(STACK_BYTES)",
    ]
    variables = [
        ("CC", project.preset.compiler),
        ("QEMU", "qemu-system-arm"),
        ("CPU", " ".join(project.preset.flags)),
        ("CFLAGS", " ".join(("$(CPU)", *build.COMPILE_FLAGS))),
        ("STACK_BYTES", str(baremetal.STACK_BYTES)),
        ("LDFLAGS", " ".join(link)),
        ("LDLIBS", LIBRARIES),
    ]
    machine = baremetal.qemu_machine(project)
    about = [
        f"`make` builds {baremetal.ELF}, the example of main.c, for a bare-metal "
        f"{project.preset.part};",
        f"`make run` runs it in QEMU {machine} (semihosting console).",
    ]
    run = f"$(QEMU) -M {machine} -nographic -semihosting -kernel {baremetal.ELF}"
    readme = project.readme(
        {
            "main.c": EXAMPLE,
            **baremetal.described(project),
            "Makefile": f"builds `{baremetal.ELF}`",
        },
        [
            f"Build: `make` (needs {project.preset.compiler} and newlib-nano: "
            f"`{ARM_INSTALL}`).",
            baremetal.semihosting_note(project, baremetal.ELF),
        ],
    )
    return {
        "Makefile": makefile(
            project,
            about,
            variables,
            (baremetal.ELF, (baremetal.LINKER_SCRIPT,)),
            sources,
            (HEADER, baremetal.HARNESS_HEADER),
            run,
        ),
        "main.c": main_c(project, SEMIHOSTING, example_from),
        **baremetal.harness_files(project),
        "README.md": readme,
    }


def makefile(
    project: Project,
    about: Sequence[str],
    variables: Sequence[tuple[str, str]],
    program: tuple[str, Sequence[str]],
    sources: Sequence[str],
    headers: Sequence[str],
    run: str,
) -> str:
    """A Makefile linking `program` (its name, and the files besides the
    objects it depends on) from `sources`, each compiled again when it or
    `headers` change; `make run` runs `run`."""
    name, linked = program
    objects = " ".join(source.removesuffix(".c") + ".o" for source in sources)
    lines = [f"{name} = {value}".rstrip() for name, value in variables]
    lines += [
        f"OBJECTS = {objects}",
        "",
        f"{' '.join((f'{name}:', '$(OBJECTS)', *linked))}",
        "\t$(CC) $(LDFLAGS) -o $@ $(OBJECTS) $(LDLIBS)",
        "",
        f"%.o: %.c {' '.join(headers)}",
        "\t$(CC) $(CFLAGS) -c -o $@ $<",
        "",
        f"run: {name}",
        f"\t{run}",
        "",
        "clean:",
        f"\trm -f {name} $(OBJECTS)",
        "",
        ".PHONY: run clean",
        "",
    ]
    return project.banner("#", about) + "\n" + "\n".join(lines)
