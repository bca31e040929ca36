"""`tinycc compile` end to end: whole networks to C, built strictly, run, checked.

Every model is compiled, built with `-std=c99 -Wall -Wextra -Werror -pedantic`
under AddressSanitizer and UndefinedBehaviorSanitizer, run on seeded inputs
and compared with onnxruntime (float: 1e-5 of the output's scale). The
report's MACs are checked against `zoo.count_macs`, an independent count
from the ONNX graph, and its arena against the planner's lower bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest

from tinycc import host, zoo
from tinycc.compile import compile_model, write_outputs

# The reference set without MobileNetV2-1.0 @224 (bench/ covers it).
MODELS = {
    name: build
    for name, build in zoo.REFERENCE_MODELS.items()
    if name != "MobileNetV2-1.0 @224"
}


def onnxruntime_outputs(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(str(path))
    return session.run(None, feeds)


def build_and_run(path: Path, directory: Path, io: str = "arena"):
    _, compiled = compile_model(str(path), io_in_arena=io == "arena")
    write_outputs(compiled, directory)
    program = host.build(directory, compiled.name, compiled.module, sanitize=True)
    inputs, outputs = host.ports(compiled.module)
    feeds = zoo.random_input(onnx.load(path), seed=7)
    arrays = [port.to_ir(feeds[port.name]) for port in inputs]
    results = host.run(program, arrays, outputs)
    ours = [port.to_onnx(r) for port, r in zip(outputs, results, strict=True)]
    return compiled, ours, onnxruntime_outputs(path, feeds)


@pytest.mark.parametrize("name", MODELS)
def test_network_compiles_runs_and_matches(name: str, tmp_path: Path) -> None:
    model = MODELS[name]()
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    compiled, ours, theirs = build_and_run(path, tmp_path / "out")
    for got, want in zip(ours, theirs, strict=True):
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)
    report = compiled.report
    assert report["macs"] == zoo.count_macs(model)
    assert report["arena_bytes"] == report["lower_bound_bytes"]
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    for key in ("arena_bytes", "lower_bound_bytes", "weights_bytes", "macs"):
        assert isinstance(saved[key], int) and saved[key] == report[key]


def test_caller_provided_io_gives_same_numbers(tmp_path: Path) -> None:
    path = tmp_path / "resnet8.onnx"
    onnx.save(zoo.resnet8(), path)
    in_arena, ours_a, theirs = build_and_run(path, tmp_path / "a", "arena")
    user, ours_u, _ = build_and_run(path, tmp_path / "u", "user")
    np.testing.assert_array_equal(ours_a[0], ours_u[0])
    np.testing.assert_allclose(ours_u[0], theirs[0], atol=1e-5)
    assert user.report["arena_bytes"] <= in_arena.report["arena_bytes"]


def test_two_compiles_are_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "kws.onnx"
    onnx.save(zoo.kws_dscnn(), path)
    for directory in ("a", "b"):
        _, compiled = compile_model(str(path))
        write_outputs(compiled, tmp_path / directory)
    for file in ("model.h", "model.c", "model_weights.c", "report.json"):
        assert (tmp_path / "a" / file).read_bytes() == (
            tmp_path / "b" / file
        ).read_bytes()


def tinycc(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinycc.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_compile_verify_and_budget(tmp_path: Path) -> None:
    path = tmp_path / "kws.onnx"
    onnx.save(zoo.kws_dscnn(), path)
    done = tinycc("compile", path, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "arena" in done.stdout and (tmp_path / "out" / "model.h").exists()
    verify = tinycc(
        "verify", path, "--target", "host", "--json", "--output", tmp_path / "y.npy"
    )
    assert verify.returncode == 0, verify.stderr
    result = json.loads(verify.stdout)
    assert result["match"] is True and result["arena_bytes"] == 64_000
    assert np.load(tmp_path / "y.npy").shape == (1, 12)
    over = tinycc("compile", path, "--ram-budget", "32k", "-o", tmp_path / "no")
    assert over.returncode == 1
    assert "block1_dw" in over.stderr and "Traceback" not in over.stderr
    assert len(over.stderr.strip().splitlines()) == 1


def test_cli_emits_each_level(tmp_path: Path) -> None:
    path = tmp_path / "kws.onnx"
    onnx.save(zoo.kws_dscnn(), path)
    expected = {"graph": "graph.conv2d", "tile": "tile.compute", "loop": "scf.for"}
    for level, marker in expected.items():
        done = tinycc("compile", path, "--emit", level)
        assert done.returncode == 0, done.stderr
        assert marker in done.stdout
    pipeline = tinycc("compile", path, "--print-pipeline")
    assert "lower-graph-to-tile" in pipeline.stdout and "bufferize" in pipeline.stdout


def test_peak_layer_is_the_step_with_the_most_live_bytes(tmp_path: Path) -> None:
    """A reshape is a view, not a layer function: the peak must still name
    the layer where the most bytes are live (its own `live_bytes`)."""
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(0).standard_normal((16, 1, 3, 3))
    graph = helper.make_graph(
        [
            helper.make_node("Reshape", ["x", "shape"], ["image"]),
            helper.make_node("Conv", ["image", "w"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("GlobalAveragePool", ["c"], ["y"]),
        ],
        "reshape_first",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 1, 1])],
        [
            numpy_helper.from_array(np.asarray([1, 1, 8, 8], np.int64), "shape"),
            numpy_helper.from_array(weight.astype(np.float32), "w"),
        ],
    )
    path = tmp_path / "model.onnx"
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path
    )
    _, compiled = compile_model(str(path))
    assert compiled is not None
    layers = compiled.report["layers"]
    busiest = max(layers, key=lambda layer: layer["live_bytes"])
    assert compiled.report["peak_layer"] == busiest["name"]
    assert busiest["op"] == "graph.conv2d"
