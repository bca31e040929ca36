"""`tinycc compile --project make|cmake|esp-idf`: projects that build as
exported, whose example program prints what the reference computes.

The make and CMake projects are built with the tools they name and run (the
host program directly, a Cortex-M ELF in QEMU); the ESP-IDF component, which
cannot be built here, is checked by CMake itself against a stand-in for
`idf_component_register` that parses its arguments as ESP-IDF does. A tool
missing is a visible skip, but a failure under CI (scripts/setup.sh installs
them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tools_testlib import missing_tool

from tinycc import cli, project
from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.compile import integer_passes
from tinycc.importer import import_onnx
from tinycc.interpreter import run_module
from tinycc.targets.mcu import icount, preset
from tinycc.verify import load_onnx, model_feeds

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MODEL = EXAMPLES / "kws_dscnn_int8.onnx"  # int8 inside, float input and output
TIMEOUT = 120

PACKAGES = {
    "make": "make",
    "cmake": "cmake",
    "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
}


def require(*programs: str) -> None:
    """Skip unless every program is installed (fail under CI)."""
    missing = [f"{p} ({PACKAGES[p]})" for p in programs if not shutil.which(p)]
    if not missing:
        return
    reason = f"not installed: {', '.join(missing)}"
    missing_tool(reason)


def export(
    directory: Path, kind: str, target: str, model: Path = MODEL, *extra: str
) -> Path:
    cli.main(
        [
            "compile",
            str(model),
            "-o",
            str(directory),
            "--target",
            target,
            "--project",
            kind,
            *extra,
        ]
    )
    return directory


def build(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done.stdout


def printed(stdout: str) -> dict[str, list[str]]:
    """The example's lines `<output>: v0 v1 ...` (not the harness's
    `tinycc: ...` messages)."""
    outputs = {}
    for line in stdout.splitlines():
        name, sep, values = line.partition(":")
        if sep and name != "tinycc":
            outputs[name] = values.split()
    return outputs


def reference(model: Path) -> dict[str, np.ndarray]:
    """The reference interpreter on the example's input (`tinycc verify`'s
    seeded random input), with TFLite's rounding, as `tinycc compile` does."""
    feeds = model_feeds(load_onnx(str(model)), {}, {}, seed=0)
    module = import_onnx(str(model)).module
    apply_pipeline(module, f"{DEFAULT_PIPELINE},{integer_passes('tflite')}")
    return run_module(module, feeds)


def assert_prints(stdout: str, expected: dict[str, np.ndarray]) -> None:
    """Each output printed exactly: 9 digits give back a float32."""
    found = printed(stdout)
    assert set(found) == set(expected), stdout
    for name, array in expected.items():
        assert array.ndim == 2  # [1, N]: tinycc's layout is ONNX's
        values = np.array(found[name], dtype=np.float64).astype(array.dtype)
        np.testing.assert_array_equal(values, array.ravel(), err_msg=name)


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    return reference(MODEL)


def qemu(elf: Path) -> str:
    """Run a Cortex-M4 program as `tinycc verify` does; it must exit 0."""
    machine = preset("cortex-m4").machine
    assert machine is not None
    return build(*icount.qemu_command(machine.name, elf.resolve()), cwd=elf.parent)


def test_make_host_program_prints_the_reference(tmp_path, expected):
    require("make")
    out = export(tmp_path / "out", "make", "host")
    build("make", "-C", out)
    assert_prints(build(out / "model"), expected)


def test_make_cortex_m4_elf_runs_in_qemu(tmp_path, expected):
    require("make", "arm-none-eabi-gcc", "qemu-system-arm")
    out = export(tmp_path / "out", "make", "cortex-m4")
    log = build("make", "-C", out)
    assert "FLASH:" in log and "RAM:" in log  # the part's memory, as used
    assert_prints(qemu(out / "model.elf"), expected)


def test_make_cortex_m4_real_kws_prints_tflite_micro_output(tmp_path, shared_models):
    """The trained MLPerf Tiny KWS (int8 input and output) on the given input:
    the printed integers are TFLite Micro's."""
    require("make", "arm-none-eabi-gcc", "qemu-system-arm")
    kws = shared_models / "kws"
    model, given = kws / "kws_ref_model.onnx", kws / "input.npy"
    out = export(tmp_path / "out", "make", "cortex-m4", model, "--input", str(given))
    assert "--input" in (out / "main.c").read_text()  # where the input is from
    build("make", "-C", out)
    found = printed(qemu(out / "model.elf"))
    tflm = np.load(kws / "tflm_output.npy")
    assert [int(v) for v in found["output"]] == tflm.ravel().tolist()


def test_cmake_host_builds_the_library_and_example(tmp_path, expected):
    require("cmake", "make")
    out = export(tmp_path / "out", "cmake", "host")
    build("cmake", "-S", out, "-B", out / "build")
    build("cmake", "--build", out / "build")
    assert (out / "build" / "libkws_dscnn_int8.a").is_file()
    assert_prints(build(out / "build" / "kws_dscnn_int8_example"), expected)


def test_cmake_cortex_m4_uses_its_toolchain_file(tmp_path, expected):
    require("cmake", "make", "arm-none-eabi-gcc", "qemu-system-arm")
    out = export(tmp_path / "out", "cmake", "cortex-m4")
    assert (out / "cortex-m4.cmake").is_file()
    build("cmake", "-S", out, "-B", out / "build")  # no -DCMAKE_TOOLCHAIN_FILE
    build("cmake", "--build", out / "build")
    assert_prints(qemu(out / "build" / "kws_dscnn_int8_example.elf"), expected)


# CMake stand-in for ESP-IDF's idf_component_register: the same keywords
# (tools/cmake/component.cmake), a component's arguments printed, anything
# else an error.
IDF_STANDIN = """\
function(idf_component_register)
  cmake_parse_arguments(_ "WHOLE_ARCHIVE" "KCONFIG;KCONFIG_PROJBUILD"
    "SRCS;SRC_DIRS;EXCLUDE_SRCS;INCLUDE_DIRS;PRIV_INCLUDE_DIRS;LDFRAGMENTS;\
REQUIRES;PRIV_REQUIRES;REQUIRED_IDF_TARGETS;EMBED_FILES;EMBED_TXTFILES" ${ARGN})
  if(__UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "not ESP-IDF's: ${__UNPARSED_ARGUMENTS}")
  endif()
  message("SRCS=${__SRCS}")
  message("INCLUDE_DIRS=${__INCLUDE_DIRS}")
endfunction()
include("${COMPONENT_DIR}/CMakeLists.txt")
"""


def test_esp_idf_component_registers_exactly_the_model_sources(tmp_path):
    require("cmake")
    out = export(tmp_path / "out", "esp-idf", "esp32")
    standin = tmp_path / "idf.cmake"
    standin.write_text(IDF_STANDIN)
    done = subprocess.run(
        ["cmake", f"-DCOMPONENT_DIR={out}", "-P", str(standin)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    arguments = dict(line.split("=", 1) for line in done.stderr.splitlines())
    sources = arguments["SRCS"].split(";")
    assert sorted(sources) == sorted(p.name for p in out.glob("*.c"))
    assert arguments["INCLUDE_DIRS"] == "."
    assert (out / "model.h").is_file()
    assert "idf_component_register" in (out / "README.md").read_text()
    example = (out / "example" / "main.c").read_text()
    assert "void app_main(void)" in example and "int main" not in example
    # The example is C99 the way the model is (it cannot link here).
    compiler = os.environ.get("CC") or "cc"
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
    build(compiler, *flags, f"-I{out}", "-c", out / "example" / "main.c", cwd=tmp_path)


@pytest.mark.parametrize(
    ("kind", "target"),
    [("make", "cortex-m4"), ("cmake", "host"), ("esp-idf", "esp32s3")],
)
def test_exports_are_byte_identical_and_say_where_they_come_from(
    tmp_path, kind, target
):
    first = export(tmp_path / "first", kind, target)
    second = export(tmp_path / "second", kind, target)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(second) for p in second.rglob("*") if p.is_file()
    )
    for name in files:
        text = (first / name).read_text()
        assert text == (second / name).read_text(), name
        if name.suffix == ".json":
            assert '"model": "kws_dscnn_int8"' in text  # JSON has no comments
            continue
        head = text[:400].lower()
        assert "generated by tinycc" in head and "kws_dscnn_int8" in head, name
        assert str(tmp_path).lower() not in text.lower(), name


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        (["--target", "cortex-m4", "--project", "esp-idf"], "for --target esp32"),
        (["--target", "esp32", "--project", "make"], "use --project esp-idf"),
        (["--target", "xtensa-lx106", "--project", "cmake"], "without --project"),
        (["--project", "make", "--emit", "graph"], "--project writes C"),
        (["--input", "x.npy"], "--input is the input of the --project example"),
        (["--project", "ninja"], "invalid choice"),
    ],
)
def test_bad_combinations_are_one_line_errors(tmp_path, capsys, arguments, needle):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["compile", str(MODEL), "-o", str(out), *arguments])
    assert exit_.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
    assert not out.exists()  # refused before compiling


@pytest.mark.parametrize("kind", project.KINDS)
def test_cli_offers_every_project_kind(kind):
    args = cli.build_parser().parse_args(["compile", "m.onnx", "--project", kind])
    assert args.project == kind


def test_printed_floats_give_back_the_float32(tmp_path):
    """main.c's float formatting (no printf) on edge cases and random bit
    patterns: 9 significant digits that parse back to the same float."""
    from tinycc.project.example import PUT_FLOAT, STDIO_PUT

    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32)
    special = np.array(
        [0.0, -0.0, 1.0, -1.0, 10.0, 9.9999999, 1e-45, 1.17549435e-38, 3.4028235e38]
        + [float.fromhex("0x1.fffffep+0"), 0.1, 123456789.0, np.inf, -np.inf],
        np.float32,
    )
    values = np.concatenate([special, bits.view(np.float32)])
    values = values[~np.isnan(values)]
    source = tmp_path / "floats.c"
    source.write_text(
        "#include <float.h>\n#include <stdio.h>\n#include <string.h>\n"
        + STDIO_PUT
        + PUT_FLOAT
        + "int main(void) {\n    float value;\n"
        + "    while (fread(&value, sizeof value, 1, stdin) == 1) {\n"
        + '        put_float(value);\n        put("\\n");\n    }\n    return 0;\n}\n'
    )
    compiler = os.environ.get("CC") or "cc"
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]
    build(compiler, *flags, "-o", tmp_path / "floats", source)
    done = subprocess.run(
        [tmp_path / "floats"], input=values.tobytes(), capture_output=True, timeout=60
    )
    lines = done.stdout.decode().split()
    assert all(len(line.lstrip("-")) in (3, 14) for line in lines)  # inf, d.8e+XX
    back = np.array([float(line) for line in lines], np.float64).astype(np.float32)
    np.testing.assert_array_equal(back, values)
