"""graph-int8-rounding: choose the integer semantics of every quantized op.

On the graph level a quantized op means its ONNX definition: dequantize the
operands, compute in real numbers, quantize the result. Integer code has to
round the rescaled accumulator somewhere, and the two conventions users
validate against round differently (up to tens of LSB at a softmax output,
see `../shared/models/README.md`). This pass records the choice as
`quant.rounding` on every op with a quantized result, after which the op
means `tinycc.integer`'s kernel bit for bit:

    graph-int8-rounding{mode=tflite}   TFLite's int8 reference kernels
                                       (gemmlowp double rounding), the default
    graph-int8-rounding{mode=onnx}     one rounding, half to even (onnxruntime)

Constants, `graph.quantize` and `graph.dequantize` are left alone: they are
the graph's edges, where values are converted, not rescaled.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from tinycc.dialects import graph
from tinycc.integer import ROUNDING_ATTR, ROUNDINGS

_EDGES = (graph.ConstantOp, graph.QuantizeOp, graph.DequantizeOp)


@dataclass(frozen=True)
class GraphInt8RoundingPass(ModulePass):
    """Mark every quantized graph op with `quant.rounding = mode`."""

    name = "graph-int8-rounding"

    mode: str = "tflite"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.mode not in ROUNDINGS:
            raise PassFailedException(
                f"graph-int8-rounding: mode must be one of {', '.join(ROUNDINGS)}, "
                f"not '{self.mode}'"
            )
        for inner in op.walk():
            if not inner.name.startswith("graph.") or isinstance(inner, _EDGES):
                continue
            if any(graph.is_quantized(result) for result in inner.results):
                inner.attributes[ROUNDING_ATTR] = StringAttr(self.mode)
