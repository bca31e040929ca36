"""The real trained MLPerf Tiny models of `../shared/models` (tf2onnx QDQ and float).

- Every ONNX file is imported, canonicalized and interpreted on the seeded and
  the first real input shipped with it, and compared with onnxruntime
  (unoptimized: ONNX's own definition of the QDQ graph).
- The int8 models with TFLite rounding, interpreted and compiled to C (built
  with ASan/UBSan), give TensorFlow Lite Micro's outputs (`tflm_output*.npy`)
  **bit for bit** on the seeded input and on every real sample; their
  compiled arena is the planner's lower bound.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest

from tinycc import host
from tinycc.cli import DEFAULT_PIPELINE
from tinycc.compile import compile_model, write_outputs
from tinycc.verify import EXPECTED, verify_against_onnxruntime

MODELS = [
    "ad/ad01_fp32.onnx",
    "ad/ad01_int8.onnx",
    "ic/pretrainedResnet.onnx",
    "ic/pretrainedResnet_quant.onnx",
    "ic_large/pretrainedResnet_large_int8.onnx",
    "kws/kws_ref_model.keras_float.onnx",
    "kws/kws_ref_model.onnx",
    "kws/kws_ref_model_float32.onnx",
    "sww/str_ww_ref_model.keras_float.onnx",
    "sww/str_ww_ref_model.onnx",
    "vww/vww_96_float.onnx",
    "vww/vww_96_int8.onnx",
]

# The int8 model of each folder: int8 input and output, as TFLite has them.
INT8_MODELS = {
    "ad": "ad01_int8.onnx",
    "ic": "pretrainedResnet_quant.onnx",
    "ic_large": "pretrainedResnet_large_int8.onnx",
    "kws": "kws_ref_model.onnx",
    "sww": "str_ww_ref_model.onnx",
    "vww": "vww_96_int8.onnx",
}
OPTIONAL = {"ic_large"}  # added later to ../shared: skipped where absent


def model_inputs(path: Path) -> list[np.ndarray]:
    """The seeded input and the first real sample, in the model's input dtype."""
    element = onnx.load(path).graph.input[0].type.tensor_type.elem_type
    suffix = "" if element == onnx.TensorProto.INT8 else "_float"
    seeded = np.load(path.parent / f"input{suffix}.npy")
    real = np.load(path.parent / f"input_real{suffix}.npy")
    return [seeded, real[0] if real.ndim == seeded.ndim + 1 else real]


@dataclass(frozen=True)
class Case:
    """One input of an int8 model and TFLite Micro's output for it."""

    name: str
    input: np.ndarray
    tflm: np.ndarray


def tflm_cases(folder: Path) -> Iterator[Case]:
    """input.npy, then every row of input_real.npy, with TFLM's outputs."""
    yield Case(
        "input", np.load(folder / "input.npy"), np.load(folder / "tflm_output.npy")
    )
    real = np.load(folder / "input_real.npy")
    expected = np.load(folder / "tflm_output_real.npy")
    assert len(real) == len(expected), folder
    for row, (sample, output) in enumerate(zip(real, expected, strict=True)):
        yield Case(f"input_real[{row}]", sample, output)


def int8_model(shared_models: Path, folder: str) -> Path:
    path = shared_models / folder / INT8_MODELS[folder]
    if folder in OPTIONAL and not path.exists():
        pytest.skip(f"{path} is absent (optional model)")
    return path


@pytest.mark.parametrize("model", MODELS)
def test_shared_model_matches_onnxruntime(model: str, shared_models: Path) -> None:
    path = shared_models / model
    if model.split("/")[0] in OPTIONAL and not path.exists():
        pytest.skip(f"{path} is absent (optional model)")
    for array in model_inputs(path):
        report = verify_against_onnxruntime(
            str(path), inputs={None: array}, pipeline=DEFAULT_PIPELINE
        )
        assert report.ok, report.text()


@pytest.mark.parametrize("folder", INT8_MODELS)
def test_interpreter_with_tflite_rounding_is_tflm(folder: str, shared_models: Path):
    path = int8_model(shared_models, folder)
    for case in tflm_cases(path.parent):
        report = verify_against_onnxruntime(
            str(path),
            inputs={None: case.input},
            pipeline=DEFAULT_PIPELINE,
            rounding="tflite",
            expected={None: case.tflm},
        )
        versus_tflm = [c for c in report.comparisons if c.reference == EXPECTED]
        assert versus_tflm and report.ok, f"{case.name}:\n{report.text()}"
        assert all(c.max_abs_error == 0 for c in versus_tflm), report.text()


@pytest.mark.parametrize("folder", INT8_MODELS)
def test_compiled_int8_model_is_tflm_bit_exact_in_a_minimal_arena(
    folder: str, shared_models: Path, tmp_path: Path
) -> None:
    """`tinycc compile` (TFLite rounding), sanitized host build, every input."""
    path = int8_model(shared_models, folder)
    _, compiled = compile_model(str(path))
    write_outputs(compiled, tmp_path)
    program = host.build(tmp_path, compiled.name, compiled.module, sanitize=True)
    inputs, outputs = host.ports(compiled.module)
    assert len(inputs) == len(outputs) == 1
    for case in tflm_cases(path.parent):
        (result,) = host.run(program, [inputs[0].to_ir(case.input)], outputs)
        got = outputs[0].to_onnx(result)
        assert got.dtype == case.tflm.dtype == np.int8, case.name
        differing = int(np.count_nonzero(got != case.tflm))
        print(f"{folder} {case.name}: {differing}/{got.size} differ from TFLM")
        np.testing.assert_array_equal(got, case.tflm, err_msg=f"{folder} {case.name}")
    report = json.loads((tmp_path / "report.json").read_text())
    arena, bound = report["arena_bytes"], report["lower_bound_bytes"]
    print(f"{folder}: arena {arena} B, lower bound {bound} B")
    assert arena == bound, f"{folder}: arena {arena} B > lower bound {bound} B"
