"""The icount plugin counts a marked region's executed instructions exactly.

Each test assembles a bare-metal Cortex-M4 program whose region is a counted
loop, so the expected count is computed by hand: the start marker's body
(`bx lr`), N iterations of `subs; bne`, and the `bl` to the stop marker,
2N + 2 in all. The program runs on QEMU's mps2-an386 and exits through
semihosting with a chosen status.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from tools_testlib import missing_tool

from tinycc.errors import TinyccError
from tinycc.targets.mcu import icount

MACHINE = "mps2-an386"

# Variants, by preprocessor macro: TWICE adds a first region entered by
# falling through into the start marker (the marker is then the third
# instruction of its translation block, not the first); NO_STOP leaves the
# region open; EXIT_CODE is the semihosting exit status.
PROGRAM = """\
    .syntax unified
    .thumb
#ifndef EXIT_CODE
#define EXIT_CODE 0
#endif

    .section .vectors, "a", %progbits
    .word 0x20400000        /* initial SP: top of the 4 MiB RAM at 0x20000000 */
    .word reset
    .rept 5
    .word fault             /* NMI, HardFault, MemManage, BusFault, UsageFault */
    .endr

    .text
    .thumb_func
    .global reset
reset:
#ifdef TWICE
    ldr r4, =ITERATIONS
    bl prelude
1:  subs r4, r4, #1
    bne 1b
    bl tinycc_bench_stop
#endif
    ldr r4, =ITERATIONS
    bl tinycc_bench_start
2:  subs r4, r4, #1
    bne 2b
#ifndef NO_STOP
    bl tinycc_bench_stop
#endif
    movs r0, #EXIT_CODE
    b exit

    .thumb_func
fault:
    movs r0, #99
    b exit

    /* SYS_EXIT_EXTENDED(ADP_Stopped_ApplicationExit, r0) */
    .thumb_func
exit:
    mov r2, r0
    ldr r1, =0x20026
    push {r1, r2}
    mov r1, sp
    movs r0, #0x20
    bkpt 0xab

    .thumb_func
prelude:
    nop
    nop
    .thumb_func
    .global tinycc_bench_start
tinycc_bench_start:
    bx lr

    .thumb_func
    .global tinycc_bench_stop
tinycc_bench_stop:
    bx lr
    .ltorg
"""

LINKER_SCRIPT = """\
ENTRY(reset)
SECTIONS {
    . = 0;
    .vectors : { KEEP(*(.vectors)) }
    .text : { *(.text*) }
}
"""


def region(iterations: int) -> int:
    """The hand count: `bx lr`, `subs; bne` per iteration, `bl`."""
    return 1 + 2 * iterations + 1


@pytest.fixture(scope="module")
def gcc() -> str:
    """arm-none-eabi-gcc, with QEMU, nm and a host compiler also present;
    missing is a visible skip, but a failure under CI."""
    tools = ["arm-none-eabi-gcc", "arm-none-eabi-nm", "qemu-system-arm"]
    missing = [t for t in tools if shutil.which(t) is None]
    if not (os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")):
        missing.append("cc")
    if not missing:
        return str(shutil.which("arm-none-eabi-gcc"))
    reason = (
        f"{', '.join(missing)} not found (scripts/setup.sh installs "
        "gcc-arm-none-eabi, qemu-system-arm, gcc)"
    )
    missing_tool(reason)


@pytest.fixture(scope="module")
def build(gcc: str, tmp_path_factory: pytest.TempPathFactory):
    """build(iterations, *macros) -> the program's ELF."""
    directory = tmp_path_factory.mktemp("icount")
    (directory / "program.S").write_text(PROGRAM)
    (directory / "link.ld").write_text(LINKER_SCRIPT)

    def build(iterations: int, *macros: str) -> Path:
        defines = [f"-DITERATIONS={iterations}", *(f"-D{m}" for m in macros)]
        elf = directory / f"program-{iterations}-{'-'.join(macros)}.elf"
        command = [
            gcc,
            "-mcpu=cortex-m4",
            "-mthumb",
            "-nostdlib",
            "-T",
            str(directory / "link.ld"),
            *defines,
            str(directory / "program.S"),
            "-o",
            str(elf),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return elf

    return build


@pytest.mark.parametrize("iterations", [1, 1000])
def test_count_is_the_hand_count(build, iterations: int) -> None:
    assert icount.measure(build(iterations), MACHINE).count() == region(iterations)


def test_two_runs_count_the_same(build) -> None:
    elf = build(1_000_000)
    first, second = (icount.measure(elf, MACHINE).count() for _ in range(2))
    assert first == second == region(1_000_000)


def test_regions_add_up_and_a_marker_may_sit_inside_a_block(build) -> None:
    run = icount.measure(build(500, "TWICE"), MACHINE)
    assert (
        run.returncode,
        run.counts.regions,
        run.counts.open_region,
        run.counts.unmatched,
    ) == (
        0,
        2,
        False,
        0,
    )
    assert run.counts.instructions == 2 * region(500)
    with pytest.raises(TinyccError, match="2 closed regions"):
        run.count()


def test_an_open_region_or_a_failing_run_is_no_count(build) -> None:
    run = icount.measure(build(10, "NO_STOP", "EXIT_CODE=3"), MACHINE)
    assert (run.returncode, run.counts.regions, run.counts.open_region) == (3, 0, True)
    with pytest.raises(TinyccError, match="exit status 3; 0 closed regions, 1 open"):
        run.count()


def test_a_program_without_markers_is_refused(build, tmp_path: Path) -> None:
    stripped = tmp_path / "no_markers.elf"
    done = subprocess.run(
        ["arm-none-eabi-objcopy", "--strip-all", str(build(1)), str(stripped)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with pytest.raises(TinyccError, match="tinycc_bench_start, tinycc_bench_stop"):
        icount.measure(stripped, MACHINE)


def test_plugin_is_built_on_demand_once(
    gcc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = icount.plugin()
    assert built.parent == tmp_path / "tinycc" and built.exists()
    stamp = built.stat().st_mtime_ns
    assert icount.plugin() == built and built.stat().st_mtime_ns == stamp


def test_throughput_over_100_million_instructions_per_second(build) -> None:
    iterations = 150_000_000
    elf = build(iterations)
    icount.plugin()  # built outside the timed run
    began = time.perf_counter()
    counted = icount.measure(elf, MACHINE).count()
    seconds = time.perf_counter() - began
    assert counted == region(iterations)
    rate = counted / seconds
    print(f"icount: {counted:,} instructions in {seconds:.3f} s: {rate / 1e6:.0f} M/s")
    assert rate > 100e6
