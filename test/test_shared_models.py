"""The real trained MLPerf Tiny models of `../shared/models` (tf2onnx QDQ and float).

Each ONNX file is imported, canonicalized and interpreted on the seeded and
the real inputs shipped with it, and compared with onnxruntime. Outside CI
the folder may be absent: the tests then skip and say so; under CI=true its
absence is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest

from tinycc.cli import DEFAULT_PIPELINE
from tinycc.verify import verify_against_onnxruntime

SHARED = Path(
    os.environ.get(
        "TINYCC_SHARED_MODELS", Path(__file__).parents[2] / "shared" / "models"
    )
)
FOLDERS = ("kws", "vww", "ic", "ad", "ic_large", "sww")


def shared_models() -> list[Path]:
    if not SHARED.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED} is missing under CI")
        return []
    return sorted(p for folder in FOLDERS for p in (SHARED / folder).glob("*.onnx"))


def model_inputs(path: Path) -> list[np.ndarray]:
    """The seeded input and the first real sample, in the model's input dtype."""
    is_int8 = (
        onnx.load(path).graph.input[0].type.tensor_type.elem_type
        == onnx.TensorProto.INT8
    )
    suffix = "" if is_int8 else "_float"
    seeded = np.load(path.parent / f"input{suffix}.npy")
    real = np.load(path.parent / f"input_real{suffix}.npy")
    return [seeded, real[0] if real.ndim == seeded.ndim + 1 else real]


MODELS = shared_models()


@pytest.mark.skipif(not MODELS, reason=f"no MLPerf Tiny models at {SHARED}")
@pytest.mark.parametrize("path", MODELS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shared_model_matches_onnxruntime(path: Path) -> None:
    for array in model_inputs(path):
        report = verify_against_onnxruntime(
            str(path), inputs={None: array}, pipeline=DEFAULT_PIPELINE
        )
        assert report.ok, report.text()
