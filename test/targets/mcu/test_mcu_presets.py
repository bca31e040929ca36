"""Target presets and the static stack bound: no toolchain needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tinycc.errors import TinyccError
from tinycc.targets.mcu import PRESETS, icount, preset
from tinycc.targets.mcu.build import runnable_machine, tool
from tinycc.targets.mcu.presets import KIB, MIB
from tinycc.targets.mcu.stack import LIBRARY_BYTES, stack_bound

REQUIRED = (
    "host",
    "cortex-m0plus",
    "cortex-m3",
    "cortex-m4",
    "cortex-m7",
    "cortex-m33",
    "cortex-m55",
    "xtensa-lx106",
    "esp32",
    "esp32s3",
)
RUNNABLE = ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")


def test_every_issue_target_has_a_preset() -> None:
    assert set(REQUIRED) <= set(PRESETS)


def test_unknown_target_lists_the_available_ones() -> None:
    with pytest.raises(TinyccError, match="unknown target 'm4'") as error:
        preset("m4")
    assert all(name in str(error.value) for name in REQUIRED)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", [*RUNNABLE, "cortex-m55"])
def test_cortex_m_presets_run_in_qemu_with_the_part_inside(name: str) -> None:
    chosen = preset(name)
    assert chosen.flags[:2] == (f"-mcpu={name}", "-mthumb")
    assert runnable_machine(chosen) is chosen.machine
    assert any(flag.startswith("-mfloat-abi=") for flag in chosen.flags)


def test_features_follow_the_cores() -> None:
    assert PRESETS["cortex-m0plus"].features == ()
    assert PRESETS["cortex-m4"].features == ("fpu", "dsp")
    assert PRESETS["cortex-m55"].features == ("fpu", "dsp", "mve")
    assert "-mfpu=fpv4-sp-d16" in PRESETS["cortex-m4"].flags


def test_real_parts_sizes_and_overrides() -> None:
    assert (PRESETS["cortex-m7"].ram, PRESETS["cortex-m7"].flash) == (320 * KIB, MIB)
    assert (PRESETS["cortex-m4"].ram, PRESETS["cortex-m4"].flash) == (256 * KIB, MIB)
    assert PRESETS["esp32"].ram == 520 * KIB
    small = preset("cortex-m4", ram=64 * KIB)
    assert (small.ram, small.flash) == (64 * KIB, MIB)
    assert PRESETS["cortex-m4"].ram == 256 * KIB  # presets are frozen


def test_part_bigger_than_the_machine_and_unemulated_targets() -> None:
    with pytest.raises(TinyccError, match="do not fit QEMU mps2-an386"):
        runnable_machine(preset("cortex-m4", ram=8 * MIB))
    with pytest.raises(TinyccError, match="esp32 .* does not run here"):
        runnable_machine(preset("esp32"))


def tinycc(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tinycc.cli", *arguments]
    return subprocess.run(command, capture_output=True, text=True)


def test_cli_rejects_unknown_targets_and_sizes_without_a_part() -> None:
    model = str(Path(__file__).parents[3] / "examples" / "kws_dscnn_int8.onnx")
    unknown = tinycc("verify", model, "--target", "m4")
    assert unknown.returncode == 1
    assert "cortex-m55" in unknown.stderr and len(unknown.stderr.splitlines()) == 1
    host = tinycc("verify", model, "--target", "host", "--ram", "64k")
    assert host.returncode == 1
    assert host.stderr.strip() == (
        "tinycc: error: --ram and --flash apply to microcontroller targets"
    )


def test_missing_tools_name_their_package(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    cortex_m4 = preset("cortex-m4")
    with pytest.raises(TinyccError) as error:
        tool(cortex_m4)
    assert str(error.value) == (
        "arm-none-eabi-gcc not found "
        "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
    )
    with pytest.raises(TinyccError) as error:
        icount.qemu_command("mps2-an386", tmp_path / "prog.elf")
    assert str(error.value) == (
        "qemu-system-arm not found (apt-get install qemu-system-arm)"
    )


# The static stack bound, on `-fcallgraph-info=su` files -----------------------


def call_graph(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "a.ci"
    path.write_text(f'graph: {{ title: "a.c"\n{text}\n}}\n')
    return path


def node(title: str, usage: str) -> str:
    return f'node: {{ title: "{title}" label: "{title}\\na.c:1:1\\n{usage}" }}'


def edge(source: str, target: str) -> str:
    return f'edge: {{ sourcename: "{source}" targetname: "{target}" }}'


def test_stack_bound_is_the_deepest_path_plus_library_allowance(tmp_path) -> None:
    graph = "\n".join(
        [
            node("Reset_Handler", "16 bytes (static)"),
            node("main", "8 bytes (static)"),
            node("a.c:deep", "1000 bytes (static)"),
            node("a.c:shallow", "40 bytes (dynamic,bounded)"),
            'node: { title: "memcpy" label: "__builtin_memcpy\\n<built-in>" }',
            edge("Reset_Handler", "main"),
            edge("main", "a.c:deep"),
            edge("main", "a.c:shallow"),
            edge("a.c:shallow", "memcpy"),
        ]
    )
    bound = stack_bound([call_graph(tmp_path, graph)])
    assert bound == 16 + 8 + 1000 + LIBRARY_BYTES


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [
                node("Reset_Handler", "8 bytes (static)"),
                edge("Reset_Handler", "f"),
                node("f", "8 bytes (static)"),
                edge("f", "Reset_Handler"),
            ],
            "recursion .*Reset_Handler -> f -> Reset_Handler",
        ),
        (
            [
                node("Reset_Handler", "8 bytes (static)"),
                edge("Reset_Handler", "__indirect_call"),
            ],
            "calls through a pointer",
        ),
        ([node("Reset_Handler", "8 bytes (dynamic)")], "dynamic amount of stack"),
    ],
)
def test_stack_bound_refuses_what_has_no_bound(tmp_path, lines, message) -> None:
    with pytest.raises(TinyccError, match=message):
        stack_bound([call_graph(tmp_path, "\n".join(lines))])
