"""Executed instructions of one int8 inference per model and Cortex-M target.

    python bench/mcu_instructions.py [--models ../shared/models]

Each model is compiled (`tflite` rounding), built with arm-none-eabi-gcc -O2
for the target's preset, run in QEMU and verified against the reference
interpreter; the instructions between the harness's bench markers (the one
`<model>_run` call) are counted exactly by the TCG plugin
(`tinycc.targets.mcu.icount`), so the figures repeat run after run. Models:
the MLPerf Tiny int8 models in `../shared/models` when present (the real
trained networks TFLite Micro was measured on, DESIGN.md section 7), else the
same architectures from `tinycc.zoo`, quantized by onnxruntime.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import onnx

from tinycc import zoo
from tinycc.verify import verify_against_onnxruntime

TARGETS = ("cortex-m0plus", "cortex-m4", "cortex-m7", "cortex-m55")
SHARED = {
    "KWS DS-CNN": "kws/kws_ref_model.onnx",
    "VWW MobileNetV1-0.25": "vww/vww_96_int8.onnx",
    "ResNet-8": "ic/pretrainedResnet_quant.onnx",
    "FC autoencoder": "ad/ad01_int8.onnx",
}
# TFLite Micro on the same QEMU machine (mps2-an386, Cortex-M4), exact
# instructions of Invoke(), GCC 12 release build: DESIGN.md section 7.
TFLM_M4 = {
    "KWS DS-CNN": (7_699_278, 43_016_783),
    "VWW MobileNetV1-0.25": (24_101_671, 100_300_580),
    "ResNet-8": (29_857_123, 107_361_093),
    "FC autoencoder": (595_937, 1_690_657),
}
ZOO = {
    "KWS DS-CNN": zoo.kws_dscnn,
    "VWW MobileNetV1-0.25": zoo.vww_mobilenet_v1,
    "ResNet-8": zoo.resnet8,
    "FC autoencoder": zoo.fc_autoencoder,
}


def model_paths(shared: Path, scratch: Path) -> dict[str, Path]:
    if all((shared / file).exists() for file in SHARED.values()):
        return {name: shared / file for name, file in SHARED.items()}
    print(f"({shared} not found: the zoo architectures, quantized)", file=sys.stderr)
    paths = {}
    for name, build in ZOO.items():
        model = build()
        model.ir_version = min(model.ir_version, 10)
        paths[name] = scratch / f"{build.__name__}.onnx"
        onnx.save(zoo.quantize_qdq(model), paths[name])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("../shared/models"))
    args = parser.parse_args()
    print(
        "| model | target | MACs | instructions | MAC/insn | text B | match "
        "| TFLM+CMSIS-NN (M4) | TFLM reference (M4) |"
    )
    print("|---|---|---:|---:|---:|---:|---|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        for name, path in model_paths(args.models, Path(scratch)).items():
            for target in TARGETS:
                report = verify_against_onnxruntime(
                    str(path), target=target, rounding="tflite"
                )
                assert report.instructions and report.macs and report.footprint
                tflm = TFLM_M4[name] if target == "cortex-m4" else ()
                cmsis, reference = (f"{count:,}" for count in tflm) if tflm else "  "
                print(
                    f"| {name} | {target} | {report.macs:,} "
                    f"| {report.instructions:,} "
                    f"| {report.macs / report.instructions:.3f} "
                    f"| {report.footprint.text:,} | {report.ok} "
                    f"| {cmsis} | {reference} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
