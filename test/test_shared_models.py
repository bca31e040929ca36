"""The real trained MLPerf Tiny models of `../shared/models` (tf2onnx QDQ and float).

Each ONNX file is imported, canonicalized and interpreted on the seeded and
the real input shipped with it, and compared with onnxruntime (unoptimized:
ONNX's own definition of the QDQ graph).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from tinycc.cli import DEFAULT_PIPELINE
from tinycc.verify import verify_against_onnxruntime

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


def model_inputs(path: Path) -> list[np.ndarray]:
    """The seeded input and the first real sample, in the model's input dtype."""
    element = onnx.load(path).graph.input[0].type.tensor_type.elem_type
    suffix = "" if element == onnx.TensorProto.INT8 else "_float"
    seeded = np.load(path.parent / f"input{suffix}.npy")
    real = np.load(path.parent / f"input_real{suffix}.npy")
    return [seeded, real[0] if real.ndim == seeded.ndim + 1 else real]


@pytest.mark.parametrize("model", MODELS)
def test_shared_model_matches_onnxruntime(model: str, shared_models: Path) -> None:
    path = shared_models / model
    for array in model_inputs(path):
        report = verify_against_onnxruntime(
            str(path), inputs={None: array}, pipeline=DEFAULT_PIPELINE
        )
        assert report.ok, report.text()
