"""Time to import and print the reference models (target: MobileNetV2-1.0 @224 < 5 s).

    python bench/import_speed.py

Prints one row per model, float and int8 (QDQ from onnxruntime's
quantize_static; quantizing is not timed): parameters, ONNX file size, the
times of the raw import, of the default graph passes and of printing, and
the sizes of the printed IR and of its weights side file. Wall times are
noisy on shared machines; read them against the 5 s target, not to the third
digit.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import onnx

from tinycc import weights, zoo
from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.importer import import_onnx
from tinycc.ir import print_module


def measure(name: str, model: onnx.ModelProto, folder: Path) -> str:
    path = folder / "model.onnx"
    onnx.save(model, path)
    start = time.perf_counter()
    module = import_onnx(path).module
    imported = time.perf_counter()
    apply_pipeline(module, DEFAULT_PIPELINE)
    canonical = time.perf_counter()
    text, arrays = print_module(module)
    side = folder / "model.weights.npz"
    weights.save_npz(side, arrays)
    printed = time.perf_counter()
    return (
        f"| {name} | {zoo.count_params(model):,} | {path.stat().st_size / 1e6:.2f} MB "
        f"| {imported - start:.2f} s | {canonical - imported:.2f} s "
        f"| {printed - canonical:.2f} s "
        f"| {len(text) / 1e3:.1f} kB | {side.stat().st_size / 1e6:.2f} MB |"
    )


def main() -> None:
    print(
        "| model | params | .onnx | import | passes | print + save | IR text "
        "| weights.npz |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in zoo.REFERENCE_MODELS.items():
            model = build()
            print(measure(name, model, Path(tmp)), flush=True)
            quantized = zoo.quantize_qdq(model, samples=2)
            print(measure(f"{name} int8", quantized, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
