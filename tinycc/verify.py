"""`tinycc verify`: tinycc's result for a model next to its references.

The tinycc side is the reference interpreter on the imported graph (after
`pipeline`), or with `target` the generated C, built and run there (its
interpreter check then runs the graph `tinycc compile` lowers, whatever
`pipeline` says). For a
quantized model `rounding` chooses the integer semantics (`tflite` or `onnx`,
see `tinycc.integer`): the interpreter runs the graph after
`graph-int8-rounding{mode=...}`, the C is compiled with it. `rounding=None`
(the Python API's default) keeps ONNX's meaning: the interpreter runs the QDQ
graph as the pipeline leaves it, the C rounds like ONNX.

Each output is compared with up to three references:

- onnxruntime with graph optimizations off: ONNX's own definition of each op
  (QDQ: dequantize, float op, quantize). Float models: the oracle, within
  1e-5 of the output's scale. Quantized models with `onnx` rounding (or
  None): the oracle within 1 LSB (float summation order may flip a rounding).
  With `tflite` rounding only information: TFLite's double rounding
  legitimately differs from ONNX's single rounding by several LSB once
  differences propagate through a network (see ../shared/models/README.md).
- the reference interpreter with the same rounding, when a quantized model
  runs as C: bit for bit, the contract of every integer kernel.
- `expected` outputs given by the user (e.g. TFLite Micro's): bit for bit for
  integer outputs, within the float tolerance for float ones.

`VerifyReport.json()` (`tinycc verify --json`) is one object:

    model, engine        the .onnx path; "reference interpreter",
                         "generated C (host)" or, on a microcontroller target,
                         e.g. "generated C (cortex-m4: Nordic nRF52840 in QEMU
                         mps2-an386)"
    rounding             "tflite", "onnx" or null (ONNX's QDQ meaning)
    quantized            whether the graph has quantized tensors
    match                every enforced comparison holds
    arena_bytes          the compiled arena (null for the interpreter)
    text_bytes, data_bytes, bss_bytes, stack_bytes
                         a microcontroller target's program: flash for code
                         and constants, initialized and zeroed RAM, the
                         static stack bound (null for other engines; see
                         tinycc.targets.mcu.build)
    instructions, macs   executed instructions of one inference (QEMU,
                         exact) and its multiply-accumulates (null for other
                         engines)
    max_abs_error, max_rel_error, outputs {name: {shape, max_abs_error}}
                         vs onnxruntime, whether enforced or not
    comparisons          one per output and reference: {reference
                         ("onnxruntime" | "interpreter" | "expected"), output,
                         shape, max_abs_error (output units: stored integers
                         for integer outputs), max_lsb (the same in
                         quantization steps, null for float outputs of float
                         models), mismatches (elements beyond the tolerance),
                         count, tolerance, enforced, match}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import numpy_helper
from xdsl.dialects.builtin import ModuleOp, TensorType

from tinycc.errors import TinyccError

if TYPE_CHECKING:
    from tinycc.targets.mcu.build import Footprint
    from tinycc.targets.mcu.presets import Preset

FLOAT_TOLERANCE = 1e-5
INTEGER_TOLERANCE = 1

_ONNX_TO_NUMPY = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.INT8: np.int8,
    onnx.TensorProto.UINT8: np.uint8,
    onnx.TensorProto.INT16: np.int16,
    onnx.TensorProto.INT32: np.int32,
}

ONNXRUNTIME, INTERPRETER, EXPECTED = "onnxruntime", "interpreter", "expected"


@dataclass
class Comparison:
    """One output of tinycc next to one reference's."""

    output: str
    reference: str  # ONNXRUNTIME, INTERPRETER or EXPECTED
    shape: tuple[int, ...]
    max_abs_error: float
    tolerance: float
    mismatches: int  # elements differing by more than `tolerance`
    count: int
    lsb: float | None = None  # one quantization step of the output, if known
    enforced: bool = True
    max_rel_error: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.enforced or self.max_abs_error <= self.tolerance

    @property
    def max_lsb(self) -> float | None:
        return None if self.lsb is None else self.max_abs_error / self.lsb

    def json(self) -> dict[str, object]:
        return {
            "reference": self.reference,
            "output": self.output,
            "shape": list(self.shape),
            "max_abs_error": self.max_abs_error,
            "max_lsb": self.max_lsb,
            "mismatches": self.mismatches,
            "count": self.count,
            "tolerance": self.tolerance,
            "enforced": self.enforced,
            "match": self.ok,
        }

    def text(self) -> str:
        error = f"max |diff| = {self.max_abs_error:.3g}"
        if self.lsb is not None and self.lsb != 1.0:
            error += f" ({self.max_lsb:.3g} LSB)"
        elif self.lsb is not None:
            error += " LSB"
        differ = f"{self.mismatches}/{self.count} " + (
            f"beyond {self.tolerance:.3g}" if self.tolerance else "differ"
        )
        if not self.enforced:
            verdict = "information (TFLite and ONNX round differently)"
        else:
            verdict = "match" if self.ok else "MISMATCH"
        return (
            f"  {self.output} {list(self.shape)} vs {self.reference}: {error}, "
            f"{differ}: {verdict}"
        )


@dataclass
class VerifyReport:
    model: str
    engine: str
    rounding: str | None = None
    quantized: bool = False
    comparisons: list[Comparison] = field(default_factory=list)
    arena_bytes: int | None = None
    footprint: Footprint | None = None  # a microcontroller target's program
    instructions: int | None = None  # executed by one inference (in QEMU)
    macs: int | None = None
    outputs: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    def json(self) -> dict[str, object]:
        versus_ort = [c for c in self.comparisons if c.reference == ONNXRUNTIME]
        return {
            "model": self.model,
            "engine": self.engine,
            "rounding": self.rounding,
            "quantized": self.quantized,
            "match": self.ok,
            "max_abs_error": max((c.max_abs_error for c in versus_ort), default=0.0),
            "max_rel_error": max((c.max_rel_error for c in versus_ort), default=0.0),
            "arena_bytes": self.arena_bytes,
            **footprint_json(self.footprint),
            "instructions": self.instructions,
            "macs": self.macs,
            "outputs": {
                c.output: {"shape": list(c.shape), "max_abs_error": c.max_abs_error}
                for c in versus_ort
            },
            "comparisons": [c.json() for c in self.comparisons],
        }

    def text(self) -> str:
        mode = f", int8 rounding {self.rounding}" if self.quantized else ""
        lines = [f"{self.model}: tinycc {self.engine}{mode}"]
        lines += [c.text() for c in self.comparisons]
        if self.footprint is not None:
            lines.append(f"  program: {self.footprint.text_line()}")
        if self.instructions is not None and self.macs is not None:
            per = self.macs / self.instructions
            lines.append(
                f"  latency: {self.instructions:,} instructions for one inference "
                f"({self.macs:,} MACs, {per:.3f} MAC/instruction)"
            )
        return "\n".join(lines)


def footprint_json(footprint: Footprint | None) -> dict[str, int | None]:
    """The program-size keys of the JSON report, null without a program."""
    if footprint is None:
        keys = ("text_bytes", "data_bytes", "bss_bytes", "stack_bytes")
        return dict.fromkeys(keys)
    return footprint.json()


def compare(
    output: str,
    reference: str,
    actual: np.ndarray,
    expected: np.ndarray,
    tolerance: float,
    lsb: float | None = None,
    enforced: bool = True,
) -> Comparison:
    """`actual` next to `expected`; a shape difference is an infinite error."""
    if actual.shape != expected.shape:
        count = int(expected.size)
        return Comparison(
            output, reference, expected.shape, float("inf"), tolerance, count, count
        )
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    error = float(np.max(difference, initial=0))
    scale = float(np.max(np.abs(expected.astype(np.float64)), initial=0))
    return Comparison(
        output,
        reference,
        expected.shape,
        error,
        tolerance,
        int(np.count_nonzero(difference > tolerance)),
        int(expected.size),
        lsb,
        enforced,
        error / scale if scale else error,
    )


def float_tolerance(expected: np.ndarray) -> float:
    """1e-5 of the output's scale (at least 1e-5)."""
    return FLOAT_TOLERANCE * max(1.0, float(np.max(np.abs(expected), initial=0)))


def output_lsbs(model: onnx.ModelProto) -> dict[str, float | None]:
    """One quantization step of each graph output: 1 for an integer output,
    the scale of the DequantizeLinear producing a float one (the largest if per
    axis), None for other float outputs."""
    initializers = {i.name: i for i in model.graph.initializer}
    producers = {out: node for node in model.graph.node for out in node.output}
    lsbs: dict[str, float | None] = {}
    for value in model.graph.output:
        elem = value.type.tensor_type.elem_type
        node = producers.get(value.name)
        if elem != onnx.TensorProto.FLOAT:
            lsbs[value.name] = 1.0
        elif node is not None and node.op_type == "DequantizeLinear":
            scale = initializers.get(node.input[1])
            array = numpy_helper.to_array(scale) if scale is not None else None
            lsbs[value.name] = None if array is None else float(np.max(array))
        else:
            lsbs[value.name] = None
    return lsbs


def random_inputs(
    model: onnx.ModelProto, shapes: Mapping[str, tuple[int, ...]], seed: int
):
    """Seeded inputs: N(0,1) for floats, the full range for integers."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for value in graph_inputs(model):
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


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    initializers = {t.name for t in model.graph.initializer}
    return [v for v in model.graph.input if v.name not in initializers]


def model_feeds(
    model: onnx.ModelProto,
    given: Mapping[str | None, np.ndarray],
    shapes: Mapping[str, tuple[int, ...]],
    seed: int,
) -> dict[str, np.ndarray]:
    """Seeded inputs, replaced by the `given` ones (None: the only input),
    which must have the input's element type and static dimensions."""
    feeds = random_inputs(model, shapes, seed)
    if None in given and (len(feeds) != 1 or len(given) != 1):
        raise TinyccError(
            f"the model has inputs {', '.join(feeds)}: pass --input NAME=FILE.npy "
            "for each"
        )
    infos = {v.name: v.type.tensor_type for v in graph_inputs(model)}
    for name, array in given.items():
        name = name if name is not None else next(iter(feeds))
        if name not in feeds:
            raise TinyccError(
                f"the model has no input '{name}' (it has {', '.join(feeds)})"
            )
        array = np.asarray(array)
        dims = [
            d.dim_value if d.HasField("dim_value") else None
            for d in infos[name].shape.dim
        ]
        fits = len(dims) == array.ndim and all(
            d is None or d == n for d, n in zip(dims, array.shape, strict=True)
        )
        if array.dtype != feeds[name].dtype or not fits:
            shown = ["?" if d is None else d for d in dims]
            raise TinyccError(
                f"input '{name}': expected {feeds[name].dtype} of shape {shown}, "
                f"got {array.dtype} of shape {list(array.shape)}"
            )
        feeds[name] = array
    return feeds


def bind_expected(
    given: Mapping[str | None, np.ndarray], names: list[str]
) -> dict[str, np.ndarray]:
    """Expected outputs by name (None: the only output)."""
    if None in given and (len(names) != 1 or len(given) != 1):
        raise TinyccError(
            f"the model has outputs {', '.join(names)}: pass --expected "
            "NAME=FILE.npy for each"
        )
    bound = {names[0] if n is None else n: np.asarray(a) for n, a in given.items()}
    if unknown := [n for n in bound if n not in names]:
        raise TinyccError(
            f"the model has no output '{unknown[0]}' (it has {', '.join(names)})"
        )
    return bound


def load_onnx(path: str) -> onnx.ModelProto:
    if not path.endswith(".onnx") or not Path(path).exists():
        raise TinyccError(f"{path}: verify needs an existing .onnx model")
    return onnx.load(path)


def rounding_pipeline(pipeline: str, rounding: str | None) -> str:
    """`pipeline` followed by the int8 rounding choice, if any."""
    if rounding is None:
        return pipeline
    from tinycc.compile import integer_passes

    step = integer_passes(rounding)
    return f"{pipeline},{step}" if pipeline else step


def is_quantized(module: ModuleOp) -> bool:
    from tinycc.dialects import graph

    return any(
        isinstance(result.type, TensorType) and graph.is_quantized(result)
        for op in module.walk()
        for result in op.results
    )


def run_onnxruntime(
    source: str | bytes, feeds: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Unoptimized onnxruntime on a model file or serialized model: ONNX's
    definition (QDQ: dequantize, float op, quantize); its fused int8 kernels
    may differ by 1 LSB a layer."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.graph_optimization_level = level
    session = onnxruntime.InferenceSession(
        source, options, providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, dict(feeds)), strict=True))


def verify_against_onnxruntime(
    path: str,
    *,
    inputs: Mapping[str | None, np.ndarray] | None = None,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
    pipeline: str = "",
    seed: int = 0,
    target: str | None = None,
    workdir: Path | None = None,
    rounding: str | None = None,
    expected: Mapping[str | None, np.ndarray] | None = None,
    ram: int | None = None,
    flash: int | None = None,
) -> VerifyReport:
    """Run tinycc on `path` and compare its outputs with the references above.
    `target` is a preset name of `tinycc.targets.mcu` ("host", "cortex-m4",
    ...); `ram` and `flash` replace a microcontroller part's sizes."""
    from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
    from tinycc.importer import import_onnx
    from tinycc.interpreter import run_module

    chosen = target_preset(target, ram, flash)
    model = load_onnx(path)
    shapes = dict(input_shapes or {})
    feeds = model_feeds(model, inputs or {}, shapes, seed)

    if target is not None:
        rounding = rounding or "onnx"  # C rounds somehow: ONNX's way by default
        pipeline = DEFAULT_PIPELINE  # the graph `tinycc compile` lowers
    module = import_onnx(path, input_shapes=shapes).module
    apply_pipeline(module, rounding_pipeline(pipeline, rounding))
    quantized = is_quantized(module)
    engine = "reference interpreter" if chosen is None else engine_name(chosen)
    shown = rounding if quantized else None
    report = VerifyReport(path, engine, shown, quantized)
    if chosen is None:
        ours, interpreted = run_module(module, feeds), None
    else:
        run = run_compiled(path, feeds, shapes, chosen, workdir, rounding)
        ours, interpreted = (
            run.outputs,
            run_module(module, feeds) if quantized else None,
        )
        report.arena_bytes, report.footprint = run.arena_bytes, run.footprint
        report.instructions, report.macs = run.instructions, run.macs
    report.outputs = ours

    lsbs = output_lsbs(model) if quantized else {}
    theirs = run_onnxruntime(path, feeds)
    informative = quantized and rounding == "tflite"
    for name, reference in theirs.items():
        lsb = lsbs.get(name)
        tolerance = 0.0 if informative else onnxruntime_tolerance(reference, lsb)
        report.comparisons.append(
            compare(
                name,
                ONNXRUNTIME,
                ours[name],
                reference,
                tolerance,
                lsb,
                not informative,
            )
        )
    for name, reference in (interpreted or {}).items():
        report.comparisons.append(
            compare(name, INTERPRETER, ours[name], reference, 0.0, lsbs.get(name))
        )
    for name, reference in bind_expected(expected or {}, list(theirs)).items():
        integer = np.issubdtype(ours[name].dtype, np.integer)
        tolerance = 0.0 if integer else float_tolerance(reference)
        report.comparisons.append(
            compare(name, EXPECTED, ours[name], reference, tolerance, lsbs.get(name))
        )
    return report


def target_preset(
    target: str | None, ram: int | None, flash: int | None
) -> Preset | None:
    """The preset `target` names, with the part's sizes replaced, checked to
    run here before anything is compiled; None for the interpreter."""
    from tinycc.targets.mcu import preset
    from tinycc.targets.mcu.build import runnable_machine

    sized = ram is not None or flash is not None
    if sized and target in (None, "host"):
        raise TinyccError("--ram and --flash apply to microcontroller targets")
    if target is None:
        return None
    chosen = preset(target, ram, flash)
    if chosen.name != "host":
        runnable_machine(chosen)
    return chosen


def engine_name(chosen: Preset) -> str:
    if chosen.machine is None:
        return f"generated C ({chosen.name})"
    where = f"{chosen.part} in QEMU {chosen.machine.name}"
    return f"generated C ({chosen.name}: {where})"


def onnxruntime_tolerance(reference: np.ndarray, lsb: float | None) -> float:
    """1 LSB for a quantized output (a float one's LSB is a float32 scale:
    a little more, for its rounding); the float tolerance otherwise."""
    if lsb is None:
        return float_tolerance(reference)
    return INTEGER_TOLERANCE * (lsb if lsb == 1.0 else lsb * 1.0001)


@dataclass
class CompiledRun:
    """The compiled C, run: outputs by ONNX name and what it took."""

    outputs: dict[str, np.ndarray]
    arena_bytes: int
    macs: int
    footprint: Footprint | None = None  # microcontrollers only
    instructions: int | None = None  # microcontrollers only: one inference


def run_compiled(
    path: str,
    feeds: Mapping[str, np.ndarray],
    shapes: Mapping[str, tuple[int, ...]],
    target: Preset,
    workdir: Path | None,
    rounding: str = "tflite",
) -> CompiledRun:
    """Compile for `target`, build and run the C (on the host, or in QEMU for
    a microcontroller, counting the instructions of the inference)."""
    import tempfile

    from tinycc import host
    from tinycc.compile import compile_model, write_outputs
    from tinycc.targets.mcu import build, run

    _, compiled = compile_model(
        path, target=target.name, input_shapes=dict(shapes), rounding=rounding
    )
    report = compiled.report
    result = CompiledRun({}, int(report["arena_bytes"]), int(report["macs"]))
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(workdir or scratch)
        write_outputs(compiled, directory)
        inputs, outputs = host.ports(compiled.module)
        arrays = [port.to_ir(np.asarray(feeds[port.name])) for port in inputs]
        if target.name == "host":
            program = host.build(directory, compiled.name, compiled.module)
            results = host.run(program, arrays, outputs)
        else:
            built = build.build(directory, compiled.name, compiled.module, target)
            ran = run.run(built, arrays, outputs)
            results, result.instructions = ran.outputs, ran.instructions
            result.footprint = built.footprint
    result.outputs = {
        p.name: p.to_onnx(r) for p, r in zip(outputs, results, strict=True)
    }
    return result
