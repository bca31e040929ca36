"""Compile time and arena per model (target: MobileNetV2-1.0 @224 float < 30 s).

    python bench/compile.py

For the reference architectures built by `tinycc.zoo` (float32): the time of
`tinycc compile` (import, passes, planning, kernels; then writing the C
files) and of the host C compiler at -O2, the planned arena against the
layer-by-layer lower bound, weights and MACs. Wall times are noisy on shared
machines: read them against the targets, not to the last digit.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import onnx

from tinycc import host, zoo
from tinycc.compile import compile_model, write_outputs


def measure(name: str, model: onnx.ModelProto, folder: Path) -> str:
    path = folder / "model.onnx"
    onnx.save(model, path)
    start = time.perf_counter()
    _, compiled = compile_model(str(path))
    lowered = time.perf_counter()
    write_outputs(compiled, folder / "out")
    written = time.perf_counter()
    host.build(folder / "out", compiled.name, compiled.module)
    built = time.perf_counter()
    r = compiled.report
    return (
        f"| {name} | {lowered - start:.1f} s | {written - lowered:.1f} s "
        f"| {built - written:.1f} s | {r['arena_bytes']:,} "
        f"| {r['lower_bound_bytes']:,} | {r['weights_bytes']:,} | {r['macs']:,} |"
    )


def main() -> None:
    print(
        "| model (float32) | lower + plan | write C | cc -O2 | arena B | bound B "
        "| weights B | MACs |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, build in zoo.REFERENCE_MODELS.items():
        with tempfile.TemporaryDirectory() as tmp:
            print(measure(name, build(), Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
