"""The bare-metal harness: faults, hangs, oversized models, stack, markers,
the `tinycc verify --target` command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from tinycc import host, zoo
from tinycc.compile import compile_model, write_outputs
from tinycc.errors import TinyccError
from tinycc.targets.mcu import preset
from tinycc.targets.mcu.build import build, link, tool
from tinycc.targets.mcu.run import execute, run

pytestmark = pytest.mark.usefixtures("arm_qemu")

KWS_INT8 = str(Path(__file__).resolve().parents[3] / "examples" / "kws_dscnn_int8.onnx")


def program(directory: Path, target: str, source: str):
    path = directory / "test_main.c"
    path.write_text(source)
    return link(directory, [path], preset(target), "test program")


@pytest.mark.parametrize("target", ["cortex-m0plus", "cortex-m4", "cortex-m33"])
def test_a_fault_is_reported_in_one_line(tmp_path: Path, target: str) -> None:
    faulting = program(
        tmp_path,
        target,
        "#include <stdint.h>\n"
        "int main(void) { return (int)*(volatile uint32_t *)0xF0000000u; }\n",
    )
    with pytest.raises(TinyccError) as error:
        execute(faulting, timeout=20)
    message = str(error.value)
    assert "\n" not in message
    assert re.search(r"exit status 131: tinycc: fault: HardFault .* at pc 0x", message)


def test_a_lock_up_is_reported_in_one_line(tmp_path: Path) -> None:
    unstackable = program(
        tmp_path,
        "cortex-m4",
        "int main(void) {\n"
        '    __asm__ volatile("ldr r0, =0xF0000000\\n msr msp, r0\\n push {r0}"\n'
        '                     : : : "r0", "memory");\n'
        "    return 0;\n"
        "}\n",
    )
    with pytest.raises(TinyccError, match=r"the core locked up .*Lockup") as error:
        execute(unstackable, timeout=20)
    assert "\n" not in str(error.value)


def test_a_hang_times_out(tmp_path: Path) -> None:
    spinning = program(
        tmp_path,
        "cortex-m4",
        "int main(void) { volatile int n = 0; for (;;) ++n; }\n",
    )
    with pytest.raises(TinyccError, match=r"no exit after 0\.5 s \(timeout\)"):
        execute(spinning, timeout=0.5)


def tinycc(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tinycc.cli", *arguments]
    return subprocess.run(command, capture_output=True, text=True)


def test_a_model_too_big_for_the_part_fails_at_link_time() -> None:
    done = tinycc("verify", KWS_INT8, "--target", "cortex-m3", "--ram", "8k")
    assert done.returncode == 1
    assert re.fullmatch(
        r"tinycc: error: kws_dscnn_int8 does not fit the ST STM32F103RB "
        r"\(cortex-m3\): RAM needs [\d,]+ B \(with a [\d,]+ B stack\), it has "
        r"8,192 B \(--ram/--flash override the part's sizes\)\n",
        done.stderr,
    )


def test_verify_json_reports_the_program(tmp_path: Path) -> None:
    done = tinycc("verify", KWS_INT8, "--target", "cortex-m7", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["match"] is True
    assert report["engine"] == (
        "generated C (cortex-m7: ST STM32F746 in QEMU mps2-an500)"
    )
    sizes = [report[f"{k}_bytes"] for k in ("text", "data", "bss", "stack")]
    assert all(isinstance(size, int) for size in sizes)
    assert report["bss_bytes"] >= report["arena_bytes"]
    # The MACs as counted from the ONNX file; at most 2 int8 MACs per
    # instruction (SMLAD), so the count is no smaller than half of them.
    assert report["macs"] == zoo.count_macs(onnx.load(KWS_INT8))
    assert report["instructions"] >= report["macs"] // 2


def test_instruction_counts_repeat_exactly() -> None:
    counts = []
    for _ in range(2):
        done = tinycc("verify", KWS_INT8, "--target", "cortex-m4", "--json")
        assert done.returncode == 0, done.stderr
        counts.append(json.loads(done.stdout)["instructions"])
    assert counts[0] == counts[1] > 0


@pytest.mark.parametrize("target", ["cortex-m0plus", "cortex-m55"])
def test_static_stack_bound_covers_the_measured_stack(
    tmp_path: Path, target: str
) -> None:
    _, compiled = compile_model(KWS_INT8)
    write_outputs(compiled, tmp_path)
    elf = build(tmp_path, compiled.name, compiled.module, preset(target))
    inputs, outputs = host.ports(compiled.module)
    rng = np.random.default_rng(0)
    arrays = [
        rng.standard_normal(p.type.get_shape()).astype(np.float32) for p in inputs
    ]
    measured = run(elf, arrays, outputs).stack_high_water
    assert 0 < measured <= elf.footprint.stack
    # The instruction-counting plugin finds the inference between these.
    symbols = subprocess.run(
        [tool(elf.preset, "nm"), str(elf.elf)], capture_output=True, text=True
    ).stdout.split()
    assert {"tinycc_bench_start", "tinycc_bench_stop"} <= set(symbols)
