"""`tinycc verify`: tinycc's result for a model next to onnxruntime's.

Today the tinycc side is the reference interpreter on the imported (and
canonicalized) graph; compiled back ends plug in here as they arrive.
The oracle is onnxruntime with graph optimizations off, i.e. ONNX's own
definition of each op (for QDQ models: dequantize, float op, quantize).
Tolerances: float outputs agree within 1e-5 of the output's scale; integer
(quantized) outputs within 1 LSB (float summation order may flip a rounding).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from tinycc.errors import TinyccError

FLOAT_TOLERANCE = 1e-5
INTEGER_TOLERANCE = 1

_ONNX_TO_NUMPY = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.INT8: np.int8,
    onnx.TensorProto.UINT8: np.uint8,
    onnx.TensorProto.INT16: np.int16,
    onnx.TensorProto.INT32: np.int32,
}


@dataclass
class OutputComparison:
    name: str
    shape: tuple[int, ...]
    max_abs_error: float
    tolerance: float
    max_rel_error: float = 0.0

    @property
    def ok(self) -> bool:
        return self.max_abs_error <= self.tolerance


@dataclass
class VerifyReport:
    model: str
    engine: str
    comparisons: list[OutputComparison] = field(default_factory=list)
    arena_bytes: int | None = None
    outputs: dict[str, np.ndarray] = field(default_factory=dict)

    def json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "engine": self.engine,
            "match": self.ok,
            "max_abs_error": max(
                (c.max_abs_error for c in self.comparisons), default=0.0
            ),
            "max_rel_error": max(
                (c.max_rel_error for c in self.comparisons), default=0.0
            ),
            "arena_bytes": self.arena_bytes,
            "outputs": {
                c.name: {"shape": list(c.shape), "max_abs_error": c.max_abs_error}
                for c in self.comparisons
            },
        }

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    def text(self) -> str:
        lines = [f"{self.model}: tinycc {self.engine} vs onnxruntime"]
        for c in self.comparisons:
            verdict = "match" if c.ok else "MISMATCH"
            lines.append(
                f"  {c.name} {list(c.shape)}: max |diff| = {c.max_abs_error:.3g} "
                f"(tolerance {c.tolerance:.3g}) {verdict}"
            )
        return "\n".join(lines)


def random_inputs(
    model: onnx.ModelProto, shapes: Mapping[str, tuple[int, ...]], seed: int
):
    """Seeded inputs: N(0,1) for floats, the full range for integers."""
    rng = np.random.default_rng(seed)
    initializers = {t.name for t in model.graph.initializer}
    arrays: dict[str, np.ndarray] = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        dtype = _ONNX_TO_NUMPY.get(tensor.elem_type)
        if dtype is None:
            raise TinyccError(
                f"input '{value.name}': cannot generate data of this type"
            )
        shape = shapes.get(value.name) or tuple(
            d.dim_value if d.HasField("dim_value") else 1 for d in tensor.shape.dim
        )
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            arrays[value.name] = rng.integers(
                info.min, info.max, shape, endpoint=True, dtype=dtype
            )
        else:
            arrays[value.name] = rng.standard_normal(shape).astype(dtype)
    return arrays


def verify_against_onnxruntime(
    path: str,
    *,
    inputs: Mapping[str | None, np.ndarray] | None = None,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
    pipeline: str = "",
    seed: int = 0,
    target: str | None = None,
    workdir: Path | None = None,
) -> VerifyReport:
    import onnxruntime

    from tinycc.cli import apply_pipeline
    from tinycc.importer import import_onnx
    from tinycc.interpreter import run_module

    if not path.endswith(".onnx") or not Path(path).exists():
        raise TinyccError(f"{path}: verify needs an existing .onnx model")
    model = onnx.load(path)
    shapes = dict(input_shapes or {})
    feeds = random_inputs(model, shapes, seed)
    for name, array in (inputs or {}).items():
        feeds[name if name is not None else next(iter(feeds))] = array

    if target is None:
        module = import_onnx(path, input_shapes=shapes).module
        if pipeline:
            apply_pipeline(module, pipeline)
        ours, arena = run_module(module, feeds), None
    else:
        ours, arena = run_compiled(path, feeds, shapes, target, workdir)

    # Unoptimized onnxruntime computes ONNX's definition (QDQ: dequantize,
    # float op, quantize); its fused int8 kernels may differ by 1 LSB a layer.
    options = onnxruntime.SessionOptions()
    level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.graph_optimization_level = level
    session = onnxruntime.InferenceSession(
        path, options, providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    theirs = dict(zip(names, session.run(names, feeds), strict=True))

    engine = "reference interpreter" if target is None else f"generated C ({target})"
    report = VerifyReport(path, engine, arena_bytes=arena, outputs=ours)
    for name in names:
        expected, actual = theirs[name], ours[name]
        if expected.shape != actual.shape:
            error, tolerance = float("inf"), 0.0
        elif np.issubdtype(expected.dtype, np.integer):
            error = float(
                np.max(
                    np.abs(expected.astype(np.int64) - actual.astype(np.int64)),
                    initial=0,
                )
            )
            tolerance = float(INTEGER_TOLERANCE)
        else:
            error = float(np.max(np.abs(expected - actual), initial=0))
            tolerance = FLOAT_TOLERANCE * max(
                1.0, float(np.max(np.abs(expected), initial=0))
            )
        scale = float(np.max(np.abs(expected), initial=0))
        relative = error / scale if scale else error
        report.comparisons.append(
            OutputComparison(name, expected.shape, error, tolerance, relative)
        )
    return report


def run_compiled(
    path: str,
    feeds: Mapping[str, np.ndarray],
    shapes: Mapping[str, tuple[int, ...]],
    target: str,
    workdir: Path | None,
) -> tuple[dict[str, np.ndarray], int]:
    """Compile for `target`, build and run the C; outputs by ONNX name."""
    import tempfile

    from tinycc import host
    from tinycc.compile import compile_model, write_outputs

    _, compiled = compile_model(path, target=target, input_shapes=dict(shapes))
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(workdir or scratch)
        write_outputs(compiled, directory)
        program = host.build(directory, compiled.name, compiled.module)
        inputs, outputs = host.ports(compiled.module)
        arrays = [port.to_ir(np.asarray(feeds[port.name])) for port in inputs]
        results = host.run(program, arrays, outputs)
    ours = {p.name: p.to_onnx(r) for p, r in zip(outputs, results, strict=True)}
    return ours, int(compiled.report["arena_bytes"])
