"""`tinycc compile`: an ONNX model to C99 files and a report.

The default pipeline takes the imported graph through canonicalization,
the tile level and bufferization into the loop level, which the C back end
prints. Every level can be printed for inspection (`--emit`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from xdsl.dialects import func, memref
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp

from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.errors import TinyccError

REPORT_SCHEMA = "tinycc.report/1"
LEVELS = ("graph", "tile", "loop")


def model_identifier(path: str) -> str:
    """`models/KWS-ds_cnn.onnx` -> `kws_ds_cnn`: the C prefix of the API."""
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(path).stem).lower()
    return stem if stem[:1].isalpha() else f"model_{stem}"


def quantize_pass(
    quantize: str | None, calibration: str | None, method: str = "minmax"
) -> str:
    """The `graph-quantize` pass of `--quantize int8 --calibration FILE`
    (post-training quantization of a float model), or "" without it."""
    if quantize is None:
        if calibration is not None:
            raise TinyccError("--calibration only applies with --quantize int8")
        return ""
    if quantize != "int8":
        raise TinyccError(f"--quantize: unknown mode '{quantize}' (available: int8)")
    if calibration is None:
        raise TinyccError("--quantize int8 needs --calibration SAMPLES.npy (or .npz)")
    if '"' in calibration:
        raise TinyccError(f"{calibration}: the calibration path cannot contain '\"'")
    return f'graph-quantize{{calibration="{calibration}" method={method}}}'


def integer_passes(rounding: str) -> str:
    """What fixes the integer semantics of a quantized graph: uint8 tensors
    become int8 (zero point - 128), then the rounding mode is chosen."""
    return f"graph-u8-to-i8,graph-int8-rounding{{mode={rounding}}}"


def pipeline_for(
    name: str, io_in_arena: bool, rounding: str = "tflite", quantize: str = ""
) -> dict[str, str]:
    """The passes that reach each level, in order. `quantize` (see
    `quantize_pass`) runs on the canonicalized float graph, before the
    rounding mode is chosen."""
    graph_passes = ",".join(p for p in (DEFAULT_PIPELINE, quantize) if p)
    return {
        "graph": f"{graph_passes},{integer_passes(rounding)}",
        "tile": "lower-graph-to-tile",
        "loop": f"bufferize{{model={name} io_in_arena={str(io_in_arena).lower()}}}",
    }


def default_pipeline(
    name: str, io_in_arena: bool, rounding: str = "tflite", quantize: str = ""
) -> str:
    return ",".join(pipeline_for(name, io_in_arena, rounding, quantize).values())


@dataclass
class Compiled:
    name: str
    module: ModuleOp  # loop level
    report: dict[str, object] = field(default_factory=dict)


def layer_summaries(module: ModuleOp) -> list[dict[str, object]]:
    layers = []
    for op in module.ops:
        if not isinstance(op, func.FuncOp):
            continue
        info = op.attributes.get("tinycc.layer")
        if not isinstance(info, DictionaryAttr):
            continue
        entry: dict[str, object] = {"name": op.sym_name.data}
        for key, value in info.data.items():
            entry[key] = (
                value.value.data if isinstance(value, IntegerAttr) else value.data
            )
        layers.append(entry)
    return layers


def weights_bytes(module: ModuleOp) -> int:
    total = 0
    for op in module.ops:
        if isinstance(op, memref.GlobalOp):
            total += len(op.initial_value.data.data)
    return total


def build_report(compiled_module: ModuleOp, source: bytes, name: str, target: str):
    memory = compiled_module.attributes.get("tinycc.memory")
    if not isinstance(memory, DictionaryAttr):
        raise TinyccError("internal: the loop-level module has no memory plan")
    plan = memory.data
    layers = layer_summaries(compiled_module)
    return {
        "schema": REPORT_SCHEMA,
        "model": name,
        "model_sha256": hashlib.sha256(source).hexdigest(),
        "target": target,
        "arena_bytes": plan["arena_bytes"].value.data,
        "lower_bound_bytes": plan["lower_bound_bytes"].value.data,
        "weights_bytes": weights_bytes(compiled_module),
        "macs": sum(int(layer.get("macs", 0)) for layer in layers),
        "peak_layer": plan["peak_layer"].data or None,
        "live_at_peak": [s.data for s in plan["live_at_peak"].data],
        "float_layers": float_layers(layers),
        "layers": layers,
    }


FLOAT_ISLAND = (
    "float island: the model does not quantize this node (dequantize before, "
    "quantize after)"
)
_EDGES = ("graph.quantize", "graph.dequantize")


def float_layers(layers: list[dict[str, object]]) -> list[dict[str, str]]:
    """The layers computed in float in a model whose other layers are
    integer, and why; empty for an all-float or all-integer model."""
    computing = [layer for layer in layers if layer["op"] not in _EDGES]
    floats = [layer for layer in computing if layer["dtype"] == "float32"]
    if len(floats) == len(computing):
        return []
    return [{"name": str(layer["name"]), "reason": FLOAT_ISLAND} for layer in floats]


def compile_model(
    path: str,
    *,
    target: str = "host",
    name: str | None = None,
    pipeline: str | None = None,
    io_in_arena: bool = True,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    stop_at: str = "loop",
    rounding: str = "tflite",
    quantize: str | None = None,
    calibration: str | None = None,
    calibration_method: str = "minmax",
) -> tuple[ModuleOp, Compiled | None]:
    """Import and lower; returns the module at `stop_at` and, at the loop
    level, the compiled model with its report. `quantize="int8"` quantizes a
    float model first, calibrated on the samples in `calibration`."""
    from tinycc.importer import import_onnx
    from tinycc.targets.mcu import preset

    preset(target)  # an unknown target: one line listing the presets
    quantizer = quantize_pass(quantize, calibration, calibration_method)
    if quantizer and pipeline is not None:
        raise TinyccError(
            "--quantize goes with the default pipeline; with -p, add "
            'graph-quantize{calibration="FILE"} to it'
        )
    name = name or model_identifier(path)
    source = Path(path).read_bytes()
    module = import_onnx(path, input_shapes=input_shapes or {}).module
    if pipeline is not None:
        apply_pipeline(module, pipeline)
        if "tinycc.memory" not in module.attributes:
            return module, None
    else:
        levels = pipeline_for(name, io_in_arena, rounding, quantizer)
        for level, passes in levels.items():
            apply_pipeline(module, passes)
            if level == stop_at:
                break
        if stop_at != "loop":
            return module, None
    compiled = Compiled(name, module, build_report(module, source, name, target))
    return module, compiled


def write_outputs(compiled: Compiled, directory: Path) -> list[Path]:
    from tinycc.targets.c import emit_files

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in emit_files(compiled.module, compiled.name).items():
        path = directory / filename
        path.write_text(text)
        written.append(path)
    report = directory / "report.json"
    report.write_text(json.dumps(compiled.report, indent=2, sort_keys=True) + "\n")
    written.append(report)
    return written


def summary(compiled: Compiled) -> str:
    r = compiled.report
    lines = [
        f"{r['model']}: {len(r['layers'])} layers, {r['macs']:,} MACs",
        f"  arena    {r['arena_bytes']:>10,} B  (layer-by-layer bound "
        f"{r['lower_bound_bytes']:,} B)",
        f"  weights  {r['weights_bytes']:>10,} B  (const, flash)",
        f"  peak at  {r['peak_layer']}: {', '.join(r['live_at_peak'])}",
    ]
    if r["float_layers"]:
        names = ", ".join(layer["name"] for layer in r["float_layers"])
        lines.append(f"  float    {names} (float islands in an integer model)")
    return "\n".join(lines)
