"""Models compiled for Cortex-M cores and run in QEMU give the host's outputs.

int8: bit for bit equal to the host C build and to the reference interpreter
(ResNet-8 also to TFLite Micro's published outputs); float: within the float
tolerance of the host build (libm and FPU rounding differ in the last bits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinycc.verify import (
    EXPECTED,
    INTERPRETER,
    VerifyReport,
    float_tolerance,
    verify_against_onnxruntime,
)

pytestmark = pytest.mark.usefixtures("arm_qemu")

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
KWS_INT8 = str(EXAMPLES / "kws_dscnn_int8.onnx")
KWS_FLOAT = str(EXAMPLES / "kws_dscnn.onnx")


def verify(model: str, target: str, **options) -> VerifyReport:
    report = verify_against_onnxruntime(model, target=target, **options)
    assert report.ok, report.text()
    return report


@pytest.fixture(scope="module")
def host_int8() -> VerifyReport:
    return verify(KWS_INT8, "host", rounding="tflite")


@pytest.fixture(scope="module")
def host_float() -> VerifyReport:
    return verify(KWS_FLOAT, "host")


@pytest.mark.parametrize(
    "target", ["cortex-m0plus", "cortex-m4", "cortex-m7", "cortex-m55"]
)
def test_int8_kws_is_bit_exact(target: str, host_int8: VerifyReport) -> None:
    report = verify(KWS_INT8, target, rounding="tflite")
    (versus_interpreter,) = [
        c for c in report.comparisons if c.reference == INTERPRETER
    ]
    assert versus_interpreter.enforced and versus_interpreter.max_abs_error == 0
    for name, ours in report.outputs.items():
        assert ours.tobytes() == host_int8.outputs[name].tobytes()
    footprint = report.footprint
    assert footprint is not None and footprint.stack > 0
    assert footprint.bss >= report.arena_bytes


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
def test_float_kws_matches_the_host(target: str, host_float: VerifyReport) -> None:
    report = verify(KWS_FLOAT, target)
    for name, ours in report.outputs.items():
        theirs = host_float.outputs[name]
        assert np.max(np.abs(ours - theirs)) <= float_tolerance(theirs)


def test_int8_resnet8_on_cortex_m4_equals_tflite_micro(shared_models: Path) -> None:
    folder = shared_models / "ic"
    report = verify(
        str(folder / "pretrainedResnet_quant.onnx"),
        "cortex-m4",
        rounding="tflite",
        inputs={None: np.load(folder / "input.npy")},
        expected={None: np.load(folder / "tflm_output.npy")},
    )
    references = {c.reference for c in report.comparisons if c.enforced}
    assert {INTERPRETER, EXPECTED} <= references
