"""Whole networks through importer + canonicalization + interpreter vs onnxruntime.

The MLPerf Tiny architectures and MobileNetV2-0.35 @144, built with seeded
weights by `tinycc.zoo`, in float and in int8 QDQ form (quantized by
onnxruntime's `quantize_static`).
"""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from tinycc import zoo
from tinycc.cli import DEFAULT_PIPELINE
from tinycc.verify import verify_against_onnxruntime

# The reference set without MobileNetV2-1.0 @224 (bench/ covers it).
MODELS = {
    name: build
    for name, build in zoo.REFERENCE_MODELS.items()
    if name != "MobileNetV2-1.0 @224"
}


@pytest.mark.parametrize("pipeline", ["", DEFAULT_PIPELINE], ids=["raw", "canonical"])
@pytest.mark.parametrize("quantized", [False, True], ids=["float", "int8"])
@pytest.mark.parametrize("name", MODELS)
def test_network_matches_onnxruntime(
    name: str, quantized: bool, pipeline: str, tmp_path: Path
) -> None:
    model = MODELS[name]()
    if quantized:
        model = zoo.quantize_qdq(model)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    for seed in (0, 1):
        report = verify_against_onnxruntime(str(path), pipeline=pipeline, seed=seed)
        assert report.ok, report.text()
