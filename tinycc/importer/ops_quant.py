"""QuantizeLinear and DequantizeLinear: the QDQ form, imported as written.

A DequantizeLinear of a constant (a QDQ model's weights and biases) stays a
`QuantConst`, so that it materializes as an integer `graph.constant` plus a
`graph.dequantize` in whatever layout its consumer wants.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from onnx import helper
from xdsl.dialects.builtin import TensorType

from tinycc.dialects.graph import DequantizeOp, QuantizeOp, shape_of
from tinycc.dialects.quant import PER_TENSOR, UniformQuantizedType
from tinycc.importer import layout
from tinycc.importer.builder import permuted_element
from tinycc.importer.context import NodeContext, converts, rejects
from tinycc.importer.dtypes import quantized_type
from tinycc.importer.problems import Unsupported
from tinycc.importer.tensors import Const, QuantConst, Tensor, Value, perm_of

MICROSOFT = "com.microsoft"

DYNAMIC = (
    "dynamic quantization is not supported: quantize statically, e.g. "
    "onnxruntime.quantization.quantize_static"
)
rejects(DYNAMIC, "DynamicQuantizeLinear", "ConvInteger", "MatMulInteger")
rejects(
    DYNAMIC,
    "DynamicQuantizeMatMul",
    "MatMulIntegerToFloat",
    "DynamicQuantizeLSTM",
    domain=MICROSOFT,
)


def qdq_type(
    ctx: NodeContext, shape: tuple[int, ...], storage: np.dtype
) -> UniformQuantizedType:
    """The quantization given by inputs 1 (scale) and 2 (zero point) and `axis`."""
    ctx.reject_attr("block_size", 0, "blocked quantization")
    scale = ctx.const(1, "scale")
    zero_point = ctx.optional_const(2, "zero point")
    axis = PER_TENSOR
    if scale.size > 1:
        axis = layout.normalize_axis(ctx.attr("axis", 1), len(shape))
    return quantized_type(scale, zero_point, storage, axis, shape)


def _storage_of_quantize(ctx: NodeContext) -> np.dtype:
    """QuantizeLinear's output type: its zero point's, `output_dtype`, or uint8."""
    if ctx.has_input(2):
        return ctx.const(2, "zero point").dtype
    output_dtype = ctx.attr("output_dtype", 0)
    if output_dtype:
        return helper.tensor_dtype_to_np_dtype(output_dtype)
    return np.dtype("uint8")


@converts("QuantizeLinear")
@converts("QuantizeLinear", domain=MICROSOFT)
def convert_quantize(ctx: NodeContext) -> Value:
    x = ctx.input(0)
    qtype = qdq_type(ctx, x.shape, _storage_of_quantize(ctx))
    perm = perm_of(x)
    ssa = ctx.value(x, perm)
    result_type = TensorType(permuted_element(qtype, perm), shape_of(ssa))
    return ctx.output(QuantizeOp, [ssa], result_type, perm)


@converts("DequantizeLinear", quantized=True)
@converts("DequantizeLinear", domain=MICROSOFT, quantized=True)
def convert_dequantize(ctx: NodeContext) -> Tensor:
    x = ctx.input(0)
    if isinstance(x, Const):
        qtype = qdq_type(ctx, x.shape, x.array.dtype)
        return QuantConst(x.name, x.array, qtype, dequantized=True, node=ctx.name)
    if isinstance(x, QuantConst):
        check_quantization(x.qtype, qdq_type(ctx, x.shape, x.qtype.numpy_dtype))
        return replace(x, dequantized=True, node=ctx.name)
    if not x.is_quantized:
        raise Unsupported("DequantizeLinear of a float tensor")
    qtype = qdq_type(ctx, x.shape, x.element_type.numpy_dtype)
    check_quantization(x.element_type, permuted_element(qtype, x.perm))
    result_type = TensorType(qtype.expressed, shape_of(x.ssa))
    return ctx.output(DequantizeOp, [x.ssa], result_type, x.perm)


def check_quantization(actual: object, expected: UniformQuantizedType) -> None:
    """An integer tensor must be read with the quantization it was written with."""
    if actual != expected:
        raise Unsupported(
            f"reads an integer tensor of type {expected} that was produced as {actual}"
        )
