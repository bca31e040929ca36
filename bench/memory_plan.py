"""Static arena plans of the reference networks against the lower bound and TFLM.

    python bench/memory_plan.py

One row per network, float32 and int8 (QDQ from onnxruntime's
quantize_static, then the default graph passes), then the real trained int8
models of `../shared/models` when present. Columns:

- bound / arena: the layer-by-layer lower bound and the planned arena;
- TFLM greedy: TFLite Micro's planner (largest first, lowest offset) on the
  same buffers, without in-place ops;
- peak: the ONNX node at the step of the bound; time: `plan()` wall time;
- first with the graph's inputs and outputs in the arena, then provided by
  the caller ("user I/O"). The int8 QDQ zoo graphs keep a float32 input and
  output beside their int8 copies, so their user I/O figures (int8 copies
  counted, float32 left out) are the ones comparable with TFLite Micro,
  whose int8 models take int8 input and output in the arena; for the real
  tf2onnx models (int8 I/O) the in-arena figures are;
- TFLM arena: DESIGN.md section 7's measured `tflite-micro` arena for the
  real int8 models (planner plus interpreter bookkeeping);
- strategy: what produced the user I/O plan.

Sizes are aligned to 16 bytes. Scratch buffers are not declared yet.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path

import onnx

from tinycc import zoo
from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.importer import import_onnx
from tinycc.memory import Plan, check_plan, graph_buffers, placement, plan

MODELS: dict[str, tuple[Callable[[], onnx.ModelProto], int | None]] = {
    "KWS DS-CNN": (zoo.kws_dscnn, 24_224),
    "VWW MobileNetV1-0.25": (zoo.vww_mobilenet_v1, 103_560),
    "ResNet-8": (zoo.resnet8, 55_936),
    "FC autoencoder": (zoo.fc_autoencoder, 22_040),
    "MobileNetV2-0.35 @144": (functools.partial(zoo.mobilenet_v2, 0.35, 144), 390_992),
    "MobileNetV2-1.0 @224": (functools.partial(zoo.mobilenet_v2, 1.0, 224), 1_665_360),
}
SHARED = Path(__file__).resolve().parents[2] / "shared" / "models"
REAL = {
    "kws/kws_ref_model.onnx": 24_224,
    "vww/vww_96_int8.onnx": 103_560,
    "ic/pretrainedResnet_quant.onnx": 55_936,
    "ad/ad01_int8.onnx": 22_040,
    "ic_large/pretrainedResnet_large_int8.onnx": None,
    "sww/str_ww_ref_model.onnx": None,
}


def timed_plan(module, io_in_arena: bool) -> tuple[Plan, str, float, int]:
    """The plan, its peak node, the planning time and TFLM's greedy arena."""
    buffers, ops = graph_buffers(module, io_in_arena)
    start = time.perf_counter()
    result = plan(buffers)
    elapsed = time.perf_counter() - start
    check_plan(buffers, result)
    node = ops[result.peak_step].attributes["onnx.node"].data if ops else "-"
    blocks = [placement.Block(-(-b.size // 16) * 16, b.first, b.last) for b in buffers]
    tflm = placement.arena_of(blocks, placement.greedy(blocks, "size", "first-fit"))
    return result, node, elapsed, tflm


def row(name: str, model: onnx.ModelProto | Path, tflm_arena: int | None) -> str:
    module = import_onnx(model).module
    apply_pipeline(module, DEFAULT_PIPELINE)
    cells = [name]
    for io_in_arena in (True, False):
        result, node, elapsed, tflm = timed_plan(module, io_in_arena)
        cells += [
            f"{result.lower_bound_bytes:,}",
            f"{result.arena_bytes:,}",
            f"{tflm:,}",
            node,
            f"{elapsed * 1e3:.0f} ms",
        ]
    cells += [f"{tflm_arena:,}" if tflm_arena is not None else "", result.strategy]
    return f"| {' | '.join(cells)} |"


def main() -> None:
    columns = "bound | arena | TFLM greedy | peak | time"
    print(
        f"| model | {columns} | user I/O: {columns} | TFLM arena | strategy "
        "(user I/O) |"
    )
    print(f"|---|{'---:|---:|---:|---|---:|' * 2}---:|---|")
    for name, (build, tflm_arena) in MODELS.items():
        model = build()
        print(row(f"{name} float32", model, None), flush=True)
        quantized = zoo.quantize_qdq(model, samples=2)
        print(row(f"{name} int8", quantized, tflm_arena), flush=True)
    if not SHARED.is_dir():
        print(f"\n(no real models at {SHARED})")
        return
    for path, tflm_arena in REAL.items():
        print(row(f"real `{path}`", SHARED / path, tflm_arena), flush=True)


if __name__ == "__main__":
    main()
