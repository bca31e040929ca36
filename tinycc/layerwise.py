"""`tinycc verify --layerwise`: every layer of the reference interpreter next to
onnxruntime's intermediate tensors, to find where two results part.

onnxruntime runs a copy of the model in which every node output is also a
graph output, with graph optimizations off (ONNX's definition: for QDQ models
dequantize, float op, quantize). The reference interpreter runs the graph
`tinycc compile` lowers (the pipeline, then `graph-int8-rounding` when a
rounding is chosen) op by op, keeping every result.

Matching. The importer names each graph op after its ONNX node (`onnx.node`);
the last op of a node holds the node's result. Fusion moves that result
downstream: a quantized `graph.conv2d` named `Conv_22` is the tensor after
`Relu_23` and `QuantizeLinear_24`. So from the node's output the match follows
single consumers that have no op of their own in our graph (fused away), up
to a DequantizeLinear, and takes the last tensor of the same kind (integer
storage for a quantized result, float otherwise) whose shape fits. Layouts:
our activations may be channels-last where ONNX's are channels-first; of the
two readings whose shape fits, the closer one is taken (only a tensor with
equal C, H and W has two). Tensors found on one side only are skipped.

Units: quantized tensors compare their stored integers, so differences are
in LSB; float tensors compare real values, a mismatch being a difference
beyond the verify float tolerance. The SNR is that of our real values against
onnxruntime's: 10 log10(sum ref^2 / sum (ours - ref)^2), infinite if equal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import onnx
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.ir import Operation

from tinycc.importer.builder import NODE_ATTR


@dataclass
class LayerComparison:
    """One op's result next to the onnxruntime tensor it computes."""

    node: str  # ONNX node name
    op: str  # graph op name
    tensor: str  # the ONNX tensor compared
    shape: tuple[int, ...]  # IR shape
    quantized: bool
    max_abs_diff: float  # LSB when quantized, real units otherwise
    mismatches: int
    count: int
    snr_db: float

    def json(self) -> dict[str, object]:
        return {
            "node": self.node,
            "op": self.op,
            "tensor": self.tensor,
            "shape": list(self.shape),
            "quantized": self.quantized,
            "max_abs_diff": self.max_abs_diff,
            "max_lsb": self.max_abs_diff if self.quantized else None,
            "mismatches": self.mismatches,
            "count": self.count,
            "snr_db": None if math.isinf(self.snr_db) else self.snr_db,
        }


def table(rows: Sequence[LayerComparison]) -> str:
    """A fixed-width table, one row per layer."""
    header = ("layer (ONNX node)", "op", "shape", "max|diff|", "mismatches", "SNR dB")
    body = [
        (
            row.node,
            row.op,
            "x".join(map(str, row.shape)),
            f"{row.max_abs_diff:g} LSB" if row.quantized else f"{row.max_abs_diff:.3g}",
            f"{row.mismatches}/{row.count}",
            "inf" if math.isinf(row.snr_db) else f"{row.snr_db:.1f}",
        )
        for row in rows
    ]
    widths = [max(len(r[i]) for r in (header, *body)) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < 3 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        for cells in (header, *body)
    ]
    return "\n".join(line.rstrip() for line in lines)


# Both sides ------------------------------------------------------------------------


def onnxruntime_tensors(
    model: onnx.ModelProto, feeds: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Every node output of `model`, by onnxruntime without optimizations."""
    from tinycc.verify import run_onnxruntime

    exposed = onnx.ModelProto.FromString(model.SerializeToString())
    present = {o.name for o in exposed.graph.output}
    for node in exposed.graph.node:
        for name in node.output:
            if name and name not in present:
                exposed.graph.output.append(onnx.ValueInfoProto(name=name))
                present.add(name)
    return run_onnxruntime(exposed.SerializeToString(), feeds)


def interpreter_results(
    module: ModuleOp, feeds: Mapping[str, np.ndarray]
) -> list[tuple[Operation, np.ndarray]]:
    """Every graph op of `@main` with its (first) result, in program order."""
    from tinycc import signature
    from tinycc.interpreter import trace_function

    main = signature.main_function(module)
    ports = signature.inputs(module)
    arguments = [port.to_ir(np.asarray(feeds[port.name])) for port in ports]
    return [(op, results[0]) for op, results in trace_function(main, arguments)]


# Matching --------------------------------------------------------------------------


def node_results(
    results: Sequence[tuple[Operation, np.ndarray]],
) -> dict[str, tuple[Operation, np.ndarray]]:
    """The last op named after each ONNX node: the node's result."""
    named = {}
    for op, value in results:
        node = op.attributes.get(NODE_ATTR)
        if isinstance(node, StringAttr):
            named[node.data] = (op, value)
    return named


def fused_chain(
    node: onnx.NodeProto,
    consumers: Mapping[str, list[onnx.NodeProto]],
    ours: set[str],
) -> list[str]:
    """The output of `node`, then of each single consumer fused into it: one
    without an op of its own in our graph, up to a DequantizeLinear (which
    belongs to the next op)."""
    chain = [node.output[0]] if node.output else []
    while chain:
        following = consumers.get(chain[-1], [])
        if len(following) != 1 or not following[0].output:
            break
        successor = following[0]
        if successor.name in ours or successor.op_type == "DequantizeLinear":
            break
        chain.append(successor.output[0])
    return chain


def reading(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray | None:
    """`theirs` in our layout: as is or channels-last, whichever fits `ours`
    best; None when neither shape fits."""
    candidates = [theirs]
    if theirs.ndim >= 3:
        candidates.append(np.moveaxis(theirs, 1, -1))
    fitting = [c for c in candidates if c.shape == ours.shape]
    if not fitting:
        return None
    return min(fitting, key=lambda c: _max_difference(ours, c))


def _max_difference(a: np.ndarray, b: np.ndarray) -> float:
    difference = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return float(np.max(difference, initial=0))


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """10 log10(energy of signal / energy of noise); inf without noise."""
    noise_energy = float(np.sum(noise**2))
    if noise_energy == 0:
        return math.inf
    signal_energy = float(np.sum(signal**2))
    if signal_energy == 0:
        return -math.inf
    return 10 * math.log10(signal_energy / noise_energy)


def compare_layer(
    node: str, op: Operation, tensor: str, ours: np.ndarray, theirs: np.ndarray
) -> LayerComparison:
    from tinycc.dialects import graph
    from tinycc.dialects.quant import UniformQuantizedType
    from tinycc.interpreter import dequantize
    from tinycc.verify import float_tolerance

    element = graph.tensor_type(op.results[0]).element_type
    quantized = isinstance(element, UniformQuantizedType)
    if quantized:
        real_ours, real_theirs = dequantize(ours, element), dequantize(theirs, element)
        tolerance = 0.0
    else:
        real_ours, real_theirs = ours, theirs
        tolerance = float_tolerance(theirs)
    difference = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    reference = real_theirs.astype(np.float64)
    snr = snr_db(reference, real_ours.astype(np.float64) - reference)
    return LayerComparison(
        node,
        op.name,
        tensor,
        ours.shape,
        quantized,
        float(np.max(difference, initial=0)),
        int(np.count_nonzero(difference > tolerance)),
        int(ours.size),
        snr,
    )


def compare_layers(
    model: onnx.ModelProto, module: ModuleOp, feeds: Mapping[str, np.ndarray]
) -> list[LayerComparison]:
    """Our interpreter on `module` (imported from `model`, pipeline applied)
    next to onnxruntime on `model`, layer by layer in program order."""
    from tinycc.dialects import graph

    tensors = onnxruntime_tensors(model, feeds)
    named = node_results(interpreter_results(module, feeds))
    nodes = {node.name: node for node in model.graph.node}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in set(node.input):
            consumers.setdefault(name, []).append(node)
    rows = []
    for name, (op, ours) in named.items():
        if name not in nodes:
            continue
        integer = graph.is_quantized(op.results[0])
        for tensor in reversed(fused_chain(nodes[name], consumers, set(named))):
            theirs = tensors.get(tensor)
            if theirs is None or np.issubdtype(theirs.dtype, np.integer) != integer:
                continue
            if (fitted := reading(ours, theirs)) is not None:
                rows.append(compare_layer(name, op, tensor, ours, fitted))
                break
    return rows


def layerwise(
    path: str,
    *,
    inputs: Mapping[str | None, np.ndarray] | None = None,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
    pipeline: str = "",
    seed: int = 0,
    rounding: str | None = None,
) -> list[LayerComparison]:
    """`tinycc verify --layerwise`: the model at `path` on seeded or given
    inputs, compared layer by layer."""
    from tinycc.cli import apply_pipeline
    from tinycc.importer import import_onnx
    from tinycc.verify import load_onnx, model_feeds, rounding_pipeline

    model = load_onnx(path)
    shapes = dict(input_shapes or {})
    feeds = model_feeds(model, inputs or {}, shapes, seed)
    module = import_onnx(path, input_shapes=shapes).module
    apply_pipeline(module, rounding_pipeline(pipeline, rounding))
    return compare_layers(model, module, feeds)
