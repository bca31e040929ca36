"""The graph's edges: `graph.quantize` (float -> int) and `graph.dequantize`
(int -> float), elementwise, per-tensor parameters, as ONNX defines them in
either rounding mode (they convert values, they do not rescale):

    quantize:    y = clamp(roundeven(x / s), lo - zp, hi - zp) + zp
    dequantize:  y = float(q - zp) * s

The clamp comes before the conversion to an integer, so out-of-range floats
saturate instead of overflowing. The only float code an int8 model with
float inputs or outputs has.
"""

from __future__ import annotations

from xdsl.dialects import arith, math
from xdsl.dialects.builtin import IntegerType, i32
from xdsl.ir import SSAValue

from tinycc.dialects import graph
from tinycc.integer.params import qtype, scales, zero_point
from tinycc.kernels.builder import KernelBuilder, Scalar, f32, shape


def per_tensor(op: graph.QuantizeOp | graph.DequantizeOp) -> str | None:
    """None if the op's quantized side has one scale, else the reason."""
    quantized = op.result if isinstance(op, graph.QuantizeOp) else op.input
    if qtype(quantized).is_per_axis:
        return "per-axis quantization of an activation is not supported"
    return None


def quantize(
    kb: KernelBuilder, op: graph.QuantizeOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    (x,) = inputs
    scale, zp = float(scales(op.result)[0]), zero_point(op.result)
    low, high = qtype(op.result).storage_range
    storage = qtype(op.result).storage
    assert isinstance(storage, IntegerType)
    for at in kb.grid(shape(y)):
        ratio = kb.load(x, at, "xv") / kb.scalar(scale)
        rounded = Scalar(kb, kb.insert(math.RoundEvenOp(ratio.ssa)).result)
        bounded = kb.binary(
            arith.MinnumfOp, kb.binary(arith.MaxnumfOp, rounded, low - zp), high - zp
        )
        as_int = Scalar(kb, kb.insert(arith.FPToSIOp(bounded.ssa, i32)).result)
        kb.store(kb.convert(as_int + zp, storage), y, at)


def dequantize(
    kb: KernelBuilder, op: graph.DequantizeOp, inputs: list[SSAValue], y: SSAValue
) -> None:
    (q,) = inputs
    scale, zp = float(scales(op.input)[0]), zero_point(op.input)
    for at in kb.grid(shape(y)):
        centered = kb.convert(kb.load(q, at, "qv"), i32) - zp
        real = Scalar(kb, kb.insert(arith.SIToFPOp(centered.ssa, f32)).result)
        kb.store(real * scale, y, at)


EDGE_KERNELS = {graph.QuantizeOp: quantize, graph.DequantizeOp: dequantize}
