"""The C target's text: determinism, qualifiers, names, the API, errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from c_testlib import CC, CFLAGS, FULLY_CONNECTED, compile_c, dense
from xdsl.dialects.builtin import Float32Type, IntegerType, i32

from tinycc.errors import TinyccError
from tinycc.ir import parse_module, print_module
from tinycc.targets.c import emit_c, emit_files
from tinycc.targets.c.literals import float_literal, int_literal
from tinycc.targets.c.names import c_identifier

RNG = np.random.default_rng(5)
TINYCC_OPT = [sys.executable, "-c", "from tinycc.opt import main; main()"]
CC_COMMAND = [CC, *CFLAGS]


def fully_connected() -> str:
    w = RNG.standard_normal((5, 20), dtype=np.float32)
    b = RNG.standard_normal(5, dtype=np.float32)
    return FULLY_CONNECTED.replace("WEIGHT", dense(w)).replace("BIAS", dense(b))


def test_output_is_deterministic() -> None:
    text = fully_connected()
    module = parse_module(text)
    first = emit_files(module, "mlp")
    assert emit_files(module, "mlp") == first
    assert emit_files(parse_module(text), "mlp") == first
    # Printing and parsing the module back changes nothing either.
    printed, arrays = print_module(module)
    assert emit_files(parse_module(printed, arrays), "mlp") == first
    assert emit_c(module) == emit_c(parse_module(text))


def test_files_compile_without_warnings_and_name_everything_by_model(
    tmp_path: Path,
) -> None:
    files = emit_files(parse_module(fully_connected()), "mlp")
    for name, source in files.items():
        (tmp_path / name).write_text(source)
    for source in ("model.c", "model_weights.c"):
        compile_c([tmp_path / source], tmp_path / f"{source}.o", ["-c"])
    symbols = subprocess.run(
        ["nm", str(tmp_path / "model.c.o"), str(tmp_path / "model_weights.c.o")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    external = {
        line.split()[-1]
        for line in symbols.splitlines()
        if re.match(r"^[0-9a-f]+ [A-Z] ", line)
    }
    # Only the API and the weights are external, all prefixed by the model.
    assert external == {"mlp_run", "mlp_run_with_arena", "mlp_fc_weight", "mlp_fc_bias"}


def test_weights_live_in_a_named_section(tmp_path: Path) -> None:
    weights = emit_files(parse_module(fully_connected()), "mlp")["model_weights.c"]
    (tmp_path / "w.c").write_text(weights)

    def sections(*defines: str) -> str:
        compile_c([tmp_path / "w.c"], tmp_path / "w.o", ["-c", *defines])
        return subprocess.run(
            ["readelf", "-SW", str(tmp_path / "w.o")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert ".rodata.tinycc" in sections()
    assert ".rodata.tinycc" not in sections("-DTINYCC_WEIGHTS_SECTION=")
    assert (
        "const float mlp_fc_weight[100] TINYCC_ALIGN(16) TINYCC_WEIGHTS_SECTION"
        in weights
    )


def test_emit_c_is_a_self_contained_translation_unit(tmp_path: Path) -> None:
    source = emit_c(parse_module(fully_connected()))
    assert "static const float fc_weight[100]" in source
    assert "static void fc(" in source
    assert "\nvoid mlp_run(" in source  # public: external linkage, its own name
    (tmp_path / "tu.c").write_text(source)
    compile_c([tmp_path / "tu.c"], tmp_path / "tu.o", ["-c"])


def test_header_describes_the_api() -> None:
    text = fully_connected().replace(
        "func.func @mlp_run(%arena: memref<16xi8>, %x: memref<3x20xf32>, "
        "%y: memref<3x5xf32>)",
        'func.func @mlp_run(%arena: memref<16xi8> {tinycc.role = "arena"}, '
        '%x: memref<3x20xf32> {onnx.name = "features", onnx.perm = array<i64: 1, 0>}, '
        '%y: memref<3x5xf32> {onnx.name = "scores"})',
    )
    module = parse_module(
        "builtin.module attributes {tinycc.memory = {arena_bytes = 16 : i64, "
        "lower_bound_bytes = 12 : i64}} {\n" + text + "\n}"
    )
    header = emit_files(module, "mlp")["model.h"]
    for fragment in [
        "#ifndef MLP_MODEL_H",
        'extern "C" {',
        "/* Working memory of one inference: planned 16 B, "
        "layer-by-layer lower bound 12 B. */",
        "#define MLP_ARENA_BYTES 16",
        "#define MLP_ARENA_ALIGNMENT 1",
        "/* input: float [3, 20], ONNX 'features' [20, 3] transposed by (1, 0) */",
        "#define MLP_INPUT_COUNT 60",
        "#define MLP_INPUT_SHAPE {3, 20}",
        "/* output: float [3, 5], ONNX 'scores' */",
        "#define MLP_OUTPUT_RANK 2",
        "int mlp_run(const float *input, float *output);",
        "int mlp_run_with_arena(void *arena, const float *input, float *output);",
    ]:
        assert fragment in header, fragment


def test_static_assertions_catch_a_header_that_promises_too_little(
    tmp_path: Path,
) -> None:
    files = emit_files(parse_module(fully_connected()), "mlp")
    for name, source in files.items():
        (tmp_path / name).write_text(source)
    compile_c([tmp_path / "model.c"], tmp_path / "ok.o", ["-c"])
    for edit in ("#define MLP_ARENA_BYTES 8", "#define MLP_OUTPUT_COUNT 14"):
        key = edit.rsplit(" ", 1)[0] + " "
        header = re.sub(re.escape(key) + r"\d+", edit, files["model.h"])
        (tmp_path / "model.h").write_text(header)
        build = subprocess.run(
            [*CC_COMMAND, "-c", str(tmp_path / "model.c"), "-o", str(tmp_path / "x.o")],
            capture_output=True,
            text=True,
        )
        assert build.returncode != 0 and "negative" in build.stderr, edit


def test_values_nobody_reads_compile_without_warnings(tmp_path: Path) -> None:
    # Dead code is a pass's business: the emitter keeps it, warning-free.
    text = """
    "memref.global"() <{sym_name = "w", sym_visibility = "private", type = memref<4xf32>, initial_value = dense<1.0> : tensor<4xf32>, constant}> : () -> ()
    func.func private @layer(%x: memref<4xf32>, %unused: memref<4xf32>, %y: memref<4xf32>) {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c4 = arith.constant 4 : index
      %zero = arith.constant 0.0 : f32
      %v = memref.load %x[%c0] : memref<4xf32>
      %dead = arith.mulf %v, %v : f32
      %never = scf.for %i = %c0 to %c4 step %c1 iter_args(%a = %zero) -> (f32) {
        scf.yield %v : f32
      }
      %t = arith.cmpf true, %v, %v : f32
      %r = scf.if %t -> (f32) {
        scf.yield %v : f32
      } else {
        scf.yield %zero : f32
      }
      memref.store %v, %y[%c0] : memref<4xf32>
      func.return
    }
    func.func @dead_run(%arena: memref<64xi8>, %in: memref<4xf32>, %out: memref<4xf32>) {
      %c0 = arith.constant 0 : index
      %c16 = arith.constant 16 : index
      %view = memref.view %arena[%c16][] : memref<64xi8> to memref<4xf32>
      %w = memref.get_global @w : memref<4xf32>
      %scratch = memref.view %arena[%c0][] : memref<64xi8> to memref<4xf32>
      func.call @layer(%in, %scratch, %out) : (memref<4xf32>, memref<4xf32>, memref<4xf32>) -> ()
      func.return
    }
    """  # noqa: E501
    for name, source in emit_files(parse_module(text), "dead").items():
        (tmp_path / name).write_text(source)
    for source in ("model.c", "model_weights.c"):
        compile_c([tmp_path / source], tmp_path / f"{source}.o", ["-c"])
    (tmp_path / "tu.c").write_text(emit_c(parse_module(text)))
    compile_c([tmp_path / "tu.c"], tmp_path / "tu.o", ["-c"])


def test_arenas_mixing_types_ask_for_no_strict_aliasing() -> None:
    views = {
        "f32": "%a = memref.view %arena[%c0][] : memref<32xi8> to memref<4xf32>",
        "i32": "%b = memref.view %arena[%c16][] : memref<32xi8> to memref<4xi32>",
        "i8": "%b = memref.view %arena[%c16][] : memref<32xi8> to memref<4xi8>",
    }

    def source(*types: str) -> str:
        body = "\n".join(views[t] for t in types)
        text = f"""
        func.func @m_run(%arena: memref<32xi8>) {{
          %c0 = arith.constant 0 : index
          %c16 = arith.constant 16 : index
          {body}
          func.return
        }}
        """
        return emit_files(parse_module(text), "m")["model.c"]

    assert "-fno-strict-aliasing" in source("f32", "i32")
    assert "float and int32_t buffers" in source("f32", "i32")
    assert "-fno-strict-aliasing" not in source("f32", "i8")  # int8_t is a char


# Under CI=true a missing toolchain is a failure, never a skip.
@pytest.mark.skipif(
    shutil.which("c++") is None and os.environ.get("CI") != "true",
    reason="no C++ compiler on this host",
)
def test_header_works_from_cplusplus(tmp_path: Path) -> None:
    for name, source in emit_files(parse_module(fully_connected()), "mlp").items():
        (tmp_path / name).write_text(source)
    (tmp_path / "main.cc").write_text(
        '#include "model.h"\n'
        "int main() {\n"
        "    static float x[MLP_INPUT_COUNT], y[MLP_OUTPUT_COUNT];\n"
        "    return mlp_run(x, y);\n"
        "}\n"
    )
    objects = []
    for source in ("model.c", "model_weights.c"):
        objects.append(tmp_path / f"{source}.o")
        compile_c([tmp_path / source], objects[-1], ["-c"])
    build = subprocess.run(
        ["c++", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined"]
        + [str(tmp_path / "main.cc"), *map(str, objects), "-o", str(tmp_path / "p")],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    assert subprocess.run([str(tmp_path / "p")], timeout=60).returncode == 0


OVERLAP = """
func.func private @layer(%x: memref<16xf32>, %y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %x[%c0] : memref<16xf32>
  WRITE
  func.return
}
func.func @m_run(%arena: memref<256xi8>) {
  %a = arith.constant 0 : index
  %b = arith.constant OFFSET : index
  %x = memref.view %arena[%a][] : memref<256xi8> to memref<16xf32>
  %y = memref.view %arena[%b][] : memref<256xi8> to memref<16xf32>
  func.call @layer(%x, %y) : (memref<16xf32>, memref<16xf32>) -> ()
  func.return
}
"""


@pytest.mark.parametrize(
    ("offset", "writes", "signature"),
    [
        (64, True, "const float *restrict x /* 16 */, float *restrict y /* 16 */"),
        (32, True, "const float *x /* 16 */, float *y /* 16 */"),  # bytes 32..63 shared
        (0, True, "const float *x /* 16 */, float *y /* 16 */"),  # in place
        (
            32,
            False,
            "const float *restrict x /* 16 */, const float *restrict y /* 16 */",
        ),
    ],
)
def test_restrict_only_where_arguments_cannot_overlap(
    offset: int, writes: bool, signature: str
) -> None:
    write = "memref.store %v, %y[%c0] : memref<16xf32>" if writes else ""
    text = OVERLAP.replace("OFFSET", str(offset)).replace("WRITE", write)
    assert f"static void layer({signature})" in emit_c(parse_module(text))


def test_identifiers_avoid_keywords_and_the_c_library(tmp_path: Path) -> None:
    assert c_identifier("conv1.weight") == "conv1_weight"
    assert c_identifier("1x1") == "v1x1"
    assert c_identifier("_reserved") == "v_reserved"
    assert c_identifier("exp") == "exp_"
    assert c_identifier("logf") == "logf_"
    assert c_identifier("int") == "int_"
    assert c_identifier("EOF") == "EOF_"
    assert c_identifier("tinycc_maximumf") == "vtinycc_maximumf"
    text = """
    "memref.global"() <{sym_name = "log", sym_visibility = "private", type = memref<2xf32>, initial_value = dense<[1.0, 2.0]> : tensor<2xf32>, constant}> : () -> ()
    func.func private @exp(%int: memref<2xf32>, %float: memref<2xf32>) {
      %c0 = arith.constant 0 : index
      %sqrtf = memref.load %int[%c0] : memref<2xf32>
      %double = math.sqrt %sqrtf : f32
      memref.store %double, %float[%c0] : memref<2xf32>
      func.return
    }
    func.func @main(%arena: memref<16xi8>, %out: memref<2xf32>) {
      %g = memref.get_global @log : memref<2xf32>
      func.call @exp(%g, %out) : (memref<2xf32>, memref<2xf32>) -> ()
      func.return
    }
    """  # noqa: E501
    source = emit_c(parse_module(text))
    assert "static void exp_(const float *restrict int_ /* 2 */" in source
    assert "const float double_ = sqrtf(sqrtf_);" in source
    (tmp_path / "names.c").write_text(source)
    compile_c([tmp_path / "names.c"], tmp_path / "names.o", ["-c"])


def test_exact_literals() -> None:
    f32 = Float32Type()
    assert float_literal(0.5, f32) == "0.5f"
    assert float_literal(-128.0, f32) == "-128.0f"
    assert float_literal(float(np.float32(0.1)), f32) == "0x1.99999ap-4f"
    assert float_literal(float(np.float32(1e-45)), f32) == "0x1p-149f"
    assert float_literal(float("-inf"), f32) == "-INFINITY"
    assert int_literal(-(2**31), i32) == "INT32_MIN"
    assert int_literal(255, IntegerType(8)) == "-1"  # signless: two's complement
    assert int_literal(2**40, IntegerType(64)) == "INT64_C(1099511627776)"
    assert int_literal(-1, IntegerType(1)) == "true"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "%m = memref.alloc() : memref<4xf32>",
            "'memref.alloc' is not supported by the C target",
        ),
        ("func.call @f(%x) : (memref<4xf32>) -> ()", "@f is recursive"),
        (
            "%g = memref.get_global @w : memref<4xf32>\n"
            "%c0 = arith.constant 0 : index\n%z = arith.constant 0.0 : f32\n"
            "memref.store %z, %g[%c0] : memref<4xf32>",
            "writes into the constant global @w",
        ),
    ],
)
def test_unsupported_input_is_a_one_line_error(body: str, message: str) -> None:
    text = f"""
    "memref.global"() <{{sym_name = "w", sym_visibility = "private", type = memref<4xf32>, initial_value = dense<0.0> : tensor<4xf32>, constant}}> : () -> ()
    func.func private @f(%x: memref<4xf32>) {{
      {body}
      func.return
    }}
    """  # noqa: E501
    with pytest.raises(TinyccError, match=re.escape(message)):
        emit_c(parse_module(text))


def test_a_model_needs_one_entry_with_an_arena() -> None:
    layer = "func.func private @f() {\n  func.return\n}\n"
    with pytest.raises(TinyccError, match="exactly one public entry function, found 0"):
        emit_files(parse_module(layer), "m")
    entry = "func.func @m_run(%x: memref<4xf32>) {\n  func.return\n}\n"
    with pytest.raises(TinyccError, match="the first argument must be the arena"):
        emit_files(parse_module(entry), "m")


def test_tinycc_opt_prints_c(tmp_path: Path) -> None:
    text = fully_connected()
    (tmp_path / "m.mlir").write_text(text)
    run = subprocess.run(
        [*TINYCC_OPT, str(tmp_path / "m.mlir"), "-t", "c{prefix=mlp_}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == emit_c(parse_module(text), "mlp_")
    assert "static void mlp_fc(" in run.stdout


def test_tinycc_opt_reports_unsupported_ops_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "m.mlir").write_text(
        "func.func @f() {\n  %m = memref.alloc() : memref<4xf32>\n  func.return\n}\n"
    )
    run = subprocess.run(
        [*TINYCC_OPT, str(tmp_path / "m.mlir"), "-t", "c"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "tinycc-opt: error: c target: @f: "
        "'memref.alloc' is not supported by the C target"
    ]
