"""The `tinycc` and `tinycc-opt` commands, end to end, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from int8_testlib import quantized
from onnx import TensorProto, helper

from tinycc import zoo

TINYCC = [sys.executable, "-m", "tinycc.cli"]
TINYCC_OPT = [sys.executable, "-c", "from tinycc.opt import main; main()"]


def run(command: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str):
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def kws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kws") / "kws.onnx"
    onnx.save(zoo.kws_dscnn(), path)
    return path


@pytest.fixture(scope="module")
def int8_fc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FC autoencoder in QDQ int8 (float input and output edges)."""
    path = tmp_path_factory.mktemp("int8") / "fc_int8.onnx"
    onnx.save(quantized(zoo.fc_autoencoder()), path)
    return path


def unsupported_model(path: Path) -> Path:
    """Three nodes tinycc does not support (Sqrt, Erf, Mod) around a Relu."""
    nodes = [
        helper.make_node("Sqrt", ["x"], ["a"], name="root"),
        helper.make_node("Relu", ["a"], ["b"], name="relu"),
        helper.make_node("Erf", ["b"], ["c"], name="erf"),
        helper.make_node("Mod", ["c", "c"], ["y"], name="mod", fmod=1),
    ]
    value = helper.make_tensor_value_info
    graph = helper.make_graph(
        nodes,
        "g",
        [value("x", TensorProto.FLOAT, [1, 4])],
        [value("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, path)
    return path


def test_import_writes_ir_and_weights_and_is_deterministic(kws: Path, tmp_path: Path):
    first, second = tmp_path / "a.mlir", tmp_path / "b.mlir"
    assert run(TINYCC, "import", kws, "-o", first).returncode == 0
    assert run(TINYCC, "import", kws, "-o", second).returncode == 0
    text = first.read_text()
    assert "graph.conv2d" in text and "onnx.perm" in text
    assert len(text) < 40_000, "weights must not be printed inline"
    assert text == second.read_text()
    side = tmp_path / "a.weights.npz"
    assert side.read_bytes() == (tmp_path / "b.weights.npz").read_bytes()


def test_run_onnx_and_mlir_agree_with_onnxruntime(kws: Path, tmp_path: Path):
    x = np.random.default_rng(1).standard_normal((1, 1, 49, 10)).astype(np.float32)
    np.save(tmp_path / "in.npy", x)
    mlir = tmp_path / "kws.mlir"
    assert run(TINYCC, "import", kws, "-o", mlir).returncode == 0
    session = onnxruntime.InferenceSession(str(kws))
    (expected,) = session.run(None, {"input": x})
    for model in (kws, mlir):
        out = tmp_path / f"out_{model.suffix[1:]}.npy"
        result = run(
            TINYCC, "run", model, "--input", tmp_path / "in.npy", "--output", out
        )
        assert result.returncode == 0, result.stderr
        np.testing.assert_allclose(np.load(out), expected, atol=1e-5)


def test_verify_reports_match(kws: Path):
    result = run(TINYCC, "verify", kws)
    assert result.returncode == 0, result.stderr
    assert "match" in result.stdout


def test_check_lists_every_unsupported_node(tmp_path: Path):
    result = run(TINYCC, "check", unsupported_model(tmp_path / "bad.onnx"))
    assert result.returncode == 1
    reported = result.stdout.strip().splitlines()
    assert len(reported) == 3, result.stdout
    for node, op in (("root", "Sqrt"), ("erf", "Erf"), ("mod", "Mod")):
        assert any(node in line and op in line for line in reported), result.stdout


def test_check_accepts_supported_model(kws: Path):
    result = run(TINYCC, "check", kws)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_of_unsupported_model_is_one_error(tmp_path: Path):
    result = run(TINYCC, "import", unsupported_model(tmp_path / "bad.onnx"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "bad.onnx" in result.stderr


@pytest.mark.parametrize(
    "content", [b"", b"this is not a model", b"\x08\x07\x12\x04junk\xff\xff"]
)
def test_non_onnx_file_is_one_line_error(tmp_path: Path, content: bytes):
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    assert_one_line_error(run(TINYCC, "import", path), "broken.onnx")


def test_truncated_onnx_file_is_one_line_error(kws: Path, tmp_path: Path):
    path = tmp_path / "truncated.onnx"
    path.write_bytes(kws.read_bytes()[: kws.stat().st_size // 2])
    assert_one_line_error(run(TINYCC, "import", path), "truncated.onnx")


def test_missing_file_is_one_line_error(tmp_path: Path):
    assert_one_line_error(run(TINYCC, "import", tmp_path / "nope.onnx"), "nope.onnx")


def test_missing_weights_side_file(kws: Path, tmp_path: Path):
    mlir = tmp_path / "kws.mlir"
    assert run(TINYCC, "import", kws, "-o", mlir).returncode == 0
    (tmp_path / "kws.weights.npz").unlink()
    for command in (TINYCC + ["run"], TINYCC_OPT):
        args = (
            [mlir] if command is TINYCC_OPT else [mlir, "--input", "x", "--output", "y"]
        )
        assert_one_line_error(run(command, *args), "weights side file")


def test_malformed_ir_is_one_line_error(tmp_path: Path):
    path = tmp_path / "bad.mlir"
    path.write_text("func.func @main() {\n  %0 = graph.relu %x : oops\n}\n")
    assert_one_line_error(run(TINYCC_OPT, path), "bad.mlir")


def test_invalid_ir_is_one_line_error(tmp_path: Path):
    path = tmp_path / "bad.mlir"
    path.write_text(
        "func.func @main(%x: tensor<1x4xf32>) -> tensor<1x5xf32> {\n"
        "  %y = graph.relu %x : (tensor<1x4xf32>) -> tensor<1x5xf32>\n"
        "  func.return %y : tensor<1x5xf32>\n}\n"
    )
    assert_one_line_error(run(TINYCC_OPT, path), "graph.relu")


def test_tinycc_opt_round_trips_weights(kws: Path, tmp_path: Path):
    mlir, out = tmp_path / "kws.mlir", tmp_path / "out.mlir"
    assert run(TINYCC, "import", kws, "-o", mlir, "-p", "").returncode == 0
    result = run(TINYCC_OPT, mlir, "-p", "graph-canonicalize", "-o", out)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.weights.npz").exists()
    assert "graph.batch_norm" not in out.read_text()


def test_debug_shows_traceback(tmp_path: Path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"junk")
    result = run(TINYCC, "--debug", "import", path)
    assert result.returncode != 0
    assert "Traceback" in result.stderr


# int8 ---------------------------------------------------------------------------------


def verify_json(*args: str | Path) -> tuple[int, dict]:
    result = run(TINYCC, "verify", *args, "--json")
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def comparison(report: dict, reference: str) -> dict:
    (found,) = [c for c in report["comparisons"] if c["reference"] == reference]
    return found


def test_int8_rounding_reaches_the_pipeline(kws: Path):
    default = run(TINYCC, "compile", kws, "--print-pipeline")
    assert "graph-int8-rounding{mode=tflite}" in default.stdout, default
    onnx_mode = run(
        TINYCC, "compile", kws, "--print-pipeline", "--int8-rounding", "onnx"
    )
    assert "graph-int8-rounding{mode=onnx}" in onnx_mode.stdout, onnx_mode


@pytest.mark.parametrize("command", ["compile", "verify"])
def test_bad_int8_rounding_is_one_line_error(kws: Path, command: str):
    result = run(TINYCC, command, kws, "--int8-rounding", "banana")
    assert_one_line_error(result, "--int8-rounding", "banana")


def test_verify_int8_tflite_checks_c_against_the_interpreter(int8_fc: Path):
    status, report = verify_json(int8_fc, "--target", "host")
    assert status == 0 and report["match"], report
    assert report["quantized"] and report["rounding"] == "tflite"
    interpreter = comparison(report, "interpreter")
    assert interpreter["enforced"] and interpreter["max_abs_error"] == 0, report
    versus_ort = comparison(report, "onnxruntime")
    assert not versus_ort["enforced"] and versus_ort["max_lsb"] is not None
    text = run(TINYCC, "verify", int8_fc)
    assert text.returncode == 0 and "information" in text.stdout, text


def test_verify_int8_onnx_is_within_one_lsb_of_onnxruntime(int8_fc: Path):
    for target in ([], ["--target", "host"]):
        status, report = verify_json(int8_fc, "--int8-rounding", "onnx", *target)
        assert status == 0 and report["match"], report
        versus_ort = comparison(report, "onnxruntime")
        assert versus_ort["enforced"] and versus_ort["max_lsb"] <= 1, report


def test_verify_expected_mismatch_fails(int8_fc: Path, tmp_path: Path):
    np.save(tmp_path / "zeros.npy", np.zeros((1, 640), np.float32))
    status, report = verify_json(int8_fc, "--expected", tmp_path / "zeros.npy")
    assert status == 1 and not report["match"]
    expected = comparison(report, "expected")
    assert expected["enforced"] and expected["mismatches"] > 0
    text = run(TINYCC, "verify", int8_fc, "--expected", tmp_path / "zeros.npy")
    assert text.returncode == 1 and "MISMATCH" in text.stdout, text


def test_verify_expected_and_input_errors_are_one_line(int8_fc: Path, tmp_path: Path):
    np.save(tmp_path / "y.npy", np.zeros((1, 640), np.float32))
    wrong_output = run(
        TINYCC, "verify", int8_fc, "--expected", f"nope={tmp_path}/y.npy"
    )
    assert_one_line_error(wrong_output, "no output 'nope'")
    np.save(tmp_path / "x.npy", np.zeros((1, 640), np.int8))
    wrong_input = run(TINYCC, "verify", int8_fc, "--input", tmp_path / "x.npy")
    assert_one_line_error(wrong_input, "expected float32", "got int8")


def test_verify_shared_int8_model_against_tflm(shared_models: Path, tmp_path: Path):
    """int8 in and out, compiled, bit for bit with TensorFlow Lite Micro."""
    folder = shared_models / "ad"
    args = ["--input", folder / "input.npy", "--expected", folder / "tflm_output.npy"]
    out = tmp_path / "y.npy"
    status, report = verify_json(
        folder / "ad01_int8.onnx", "--target", "host", *args, "--output", out
    )
    assert status == 0 and report["match"], report
    assert comparison(report, "expected")["max_abs_error"] == 0
    assert comparison(report, "interpreter")["max_abs_error"] == 0
    assert report["arena_bytes"] > 0
    np.testing.assert_array_equal(np.load(out), np.load(folder / "tflm_output.npy"))
