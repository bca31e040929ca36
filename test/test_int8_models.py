"""Whole int8 networks through the C pipeline, both rounding modes.

The MLPerf Tiny architectures and MobileNetV2-0.35 @144 (seeded float
weights, `tinycc.zoo`), quantized by onnxruntime's `quantize_static`
(per-channel int8 weights, int8 activations), then `check_int8`: the C
program equals the numpy integer reference bit for bit, and with
`--int8-rounding onnx` every output element is within 1 LSB of
onnxruntime. The memory plan of every one meets the layer-by-layer bound.
The real trained models, against TFLite Micro, are in
`test_shared_models.py`.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from int8_testlib import ROUNDINGS, check_int8, quantized

from tinycc import zoo
from tinycc.compile import compile_model

MODELS = {
    "kws_dscnn": zoo.kws_dscnn,
    "vww_mobilenet_v1": zoo.vww_mobilenet_v1,
    "resnet8": zoo.resnet8,
    "fc_autoencoder": zoo.fc_autoencoder,
    "mobilenet_v2_035_144": lambda: zoo.mobilenet_v2(alpha=0.35, resolution=144),
}
_QUANTIZED: dict[str, onnx.ModelProto] = {}


def _model(name: str) -> onnx.ModelProto:
    """Quantized once per test process (quantize_static takes seconds)."""
    if name not in _QUANTIZED:
        _QUANTIZED[name] = quantized(MODELS[name]())
    return _QUANTIZED[name]


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", MODELS)
def test_int8_network(name: str, rounding: str, tmp_path: Path) -> None:
    check_int8(_model(name), tmp_path, rounding)


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_qoperator_network(rounding: str, tmp_path: Path) -> None:
    """The same KWS in QOperator form (QLinearConv, QGemm, QLinearAveragePool,
    QLinearSoftmax), imported into the same graph ops."""
    check_int8(quantized(zoo.kws_dscnn(), operators=True), tmp_path, rounding)


# The layer-by-layer bound of each architecture in int8 (DESIGN.md section 7,
# computed from the published architectures): the largest set of tensors one
# layer needs at once. These models take float input, which is the caller's
# buffer here (`io_in_arena=False`), so the arena holds int8 tensors only.
LAYER_BY_LAYER_BOUND = {
    "kws_dscnn": 16_000,  # 25x5x64 in and out of a depthwise/pointwise layer
    "vww_mobilenet_v1": 55_296,  # 48x48x8 in, 48x48x16 out
    "resnet8": 49_152,  # 32x32x16: block input, conv output, waiting skip
    "fc_autoencoder": 768,  # 640 in, 128 out
    "mobilenet_v2_035_144": 311_040,
}


@pytest.mark.parametrize("name", MODELS)
def test_int8_arena_is_the_layer_by_layer_bound(name: str, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(_model(name), path)
    _, compiled = compile_model(str(path), io_in_arena=False)
    assert compiled is not None
    assert compiled.report["arena_bytes"] == LAYER_BY_LAYER_BOUND[name]
