"""ONNX models through the whole C pipeline: compile, build on the host, run.

Outputs come back by ONNX name and in ONNX layout, so that they compare
directly with onnxruntime and with the reference interpreter.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
import onnxruntime

from tinycc import host
from tinycc.compile import compile_model, write_outputs

Arrays = dict[str, np.ndarray]


def run_in_c(
    path: Path,
    directory: Path,
    feeds: Mapping[str, np.ndarray],
    sanitize: bool = True,
    io_in_arena: bool = True,
    rounding: str = "tflite",
) -> Arrays:
    """`tinycc compile` the model at `path` into `directory`, build, run."""
    _, compiled = compile_model(str(path), io_in_arena=io_in_arena, rounding=rounding)
    write_outputs(compiled, directory)
    program = host.build(directory, compiled.name, compiled.module, sanitize=sanitize)
    inputs, outputs = host.ports(compiled.module)
    arrays = [port.to_ir(feeds[port.name]) for port in inputs]
    results = host.run(program, arrays, outputs)
    return {
        port.name: port.to_onnx(result)
        for port, result in zip(outputs, results, strict=True)
    }


def run_onnxruntime(
    model: onnx.ModelProto | Path, feeds: Mapping[str, np.ndarray]
) -> Arrays:
    source = str(model) if isinstance(model, Path) else model.SerializeToString()
    session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, dict(feeds)), strict=True))


def assert_close(got: Arrays, want: Arrays, relative: float, what: str) -> None:
    """Same names and shapes; values within `relative` of the output's scale
    (max(1, max|want|)), so that large and small outputs get the same test."""
    assert got.keys() == want.keys(), what
    for name, expected in want.items():
        actual = got[name]
        assert actual.shape == expected.shape, f"{what}: shape of {name}"
        scale = max(1.0, float(np.abs(expected).max(initial=0)))
        np.testing.assert_allclose(
            actual, expected, rtol=0, atol=relative * scale, err_msg=f"{what}: {name}"
        )
