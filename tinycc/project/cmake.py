"""`--project cmake`: CMakeLists.txt with the model as a library target.

The library `<name>` (model.c, model_weights.c; model.h on its include path)
is what a parent project links after `add_subdirectory(DIR)`. Built on its
own (`cmake -S DIR -B DIR/build && cmake --build DIR/build`), the project
also builds the example executable `<name>_example` (`.elf` on a Cortex-M)
in a Release build. For a Cortex-M target a toolchain file `<target>.cmake`
(arm-none-eabi-gcc, the preset's CPU flags, newlib-nano, no start files) is
used unless another is given, and the example links with the bare-metal
start-up and the part's linker script (see `baremetal`).
"""

from __future__ import annotations

from tinycc import host
from tinycc.project import baremetal
from tinycc.project.base import MODEL_SOURCES, Project
from tinycc.project.example import HOST, SEMIHOSTING, main_c
from tinycc.project.make import EXAMPLE
from tinycc.targets.mcu.presets import ARM_INSTALL

MINIMUM_VERSION = "3.13"  # target_link_options
TOP_LEVEL = "CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_SOURCE_DIR"
BUILD = "cmake -S . -B build && cmake --build build"


def files(project: Project, example_from: str) -> dict[str, str]:
    """CMakeLists.txt, main.c, README.md; for a Cortex-M the toolchain file
    and the harness."""
    console = SEMIHOSTING if project.cortex_m else HOST
    toolchain = f"{project.preset.name}.cmake"
    described = {"main.c": EXAMPLE, "CMakeLists.txt": _library_line(project)}
    notes = [f"Build: `{BUILD}`; the example is `build/{_program(project)}`."]
    written = {"CMakeLists.txt": cmakelists(project, toolchain)}
    if project.cortex_m:
        written[toolchain] = toolchain_file(project)
        written.update(baremetal.harness_files(project))
        described.update(baremetal.described(project))
        described[toolchain] = (
            f"the cross compiler ({project.preset.compiler}) and the CPU flags"
        )
        notes = [
            f"{notes[0]} It needs {project.preset.compiler} and newlib-nano "
            f"(`{ARM_INSTALL}`).",
            baremetal.semihosting_note(project, f"build/{_program(project)}"),
        ]
    written["main.c"] = main_c(project, console, example_from)
    written["README.md"] = project.readme(described, notes)
    return written


def executable(project: Project) -> str:
    """The example's target: `<name>_example` (the library is `<name>`)."""
    return f"{project.name}_example"


def _program(project: Project) -> str:
    """The example program's file in the build directory."""
    return executable(project) + (".elf" if project.cortex_m else "")


def _library_line(project: Project) -> str:
    return (
        f"the library `{project.name}` (`add_subdirectory` this folder, then "
        f"`target_link_libraries(your_app PRIVATE {project.name})`) and the "
        "example"
    )


def cmakelists(project: Project, toolchain: str) -> str:
    library = project.name
    warnings = " ".join(host.WARNINGS)
    about = [
        f"The library {library} (the model) and, built on its own, the example",
        f"program of main.c: {BUILD}",
    ]
    lines = [f"cmake_minimum_required(VERSION {MINIMUM_VERSION})"]
    if project.cortex_m:
        lines += [
            f"if({TOP_LEVEL} AND NOT CMAKE_TOOLCHAIN_FILE)",
            f'  set(CMAKE_TOOLCHAIN_FILE "${{CMAKE_CURRENT_SOURCE_DIR}}/{toolchain}")',
            "endif()",
        ]
    lines += [
        f"project({library} LANGUAGES C)",
        "",
        f"if({TOP_LEVEL} AND NOT CMAKE_BUILD_TYPE)",
        '  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)',
        "endif()",
        "",
        f"add_library({library} STATIC {' '.join(MODEL_SOURCES)})",
        f'target_include_directories({library} PUBLIC "${{CMAKE_CURRENT_SOURCE_DIR}}")',
        f"target_link_libraries({library} PUBLIC m)",
        'if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")',
        f"  target_compile_options({library} PRIVATE {warnings})",
        "endif()",
        "",
        f"if({TOP_LEVEL})",
        *_example(project, warnings),
        "endif()",
        "",
    ]
    return project.banner("#", about) + "\n" + "\n".join(lines)


def _example(project: Project, warnings: str) -> list[str]:
    program = executable(project)
    harness = baremetal.HARNESS_SOURCES if project.cortex_m else ()
    sources = " ".join(("main.c", *harness))
    lines = [
        f"  add_executable({program} {sources})",
        f"  target_link_libraries({program} PRIVATE {project.name})",
        '  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")',
        f"    target_compile_options({program} PRIVATE {warnings})",
        "  endif()",
    ]
    if project.cortex_m:
        script = f"${{CMAKE_CURRENT_SOURCE_DIR}}/{baremetal.LINKER_SCRIPT}"
        stack = f"-Wl,--defsym=__tinycc_stack_bytes={baremetal.STACK_BYTES}"
        lines += [
            f'  set_target_properties({program} PROPERTIES SUFFIX ".elf" '
            f'LINK_DEPENDS "{script}")',
            f'  target_link_options({program} PRIVATE "-T{script}" {stack} '
            f"{baremetal.MEMORY_USAGE})",
        ]
    return lines


def toolchain_file(project: Project) -> str:
    preset = project.preset
    about = [
        f"Cross-compiling for {preset.name}: {preset.compiler}, the CPU and ABI flags,",
        "newlib-nano; the start-up is the project's own (startup.c).",
    ]
    compile_flags = " ".join((*preset.flags, *baremetal.CODE_FLAGS))
    link_flags = " ".join(baremetal.LINK_FLAGS)
    lines = [
        "set(CMAKE_SYSTEM_NAME Generic)",
        "set(CMAKE_SYSTEM_PROCESSOR arm)",
        f"set(CMAKE_C_COMPILER {preset.compiler})",
        "# Compiler checks make a library: a program needs startup.c and link.ld.",
        "set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)",
        f'set(CMAKE_C_FLAGS_INIT "{compile_flags}")',
        f'set(CMAKE_EXE_LINKER_FLAGS_INIT "{link_flags}")',
        "",
    ]
    return project.banner("#", about) + "\n" + "\n".join(lines)
