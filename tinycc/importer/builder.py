"""Building the body of `main`: ops named after their node, constants, relayouts."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import StringAttr, TensorType
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.utils.exceptions import VerifyException

from tinycc.dialects.graph import (
    ConstantOp,
    DequantizeOp,
    ReshapeOp,
    TransposeOp,
    i64_array,
    shape_of,
    tensor_type,
)
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.importer import layout
from tinycc.importer.layout import Perm
from tinycc.importer.problems import Unsupported
from tinycc.importer.tensors import Const, QuantConst, Tensor, Value, perm_of

NODE_ATTR = "onnx.node"


def sanitize(name: str) -> str:
    """A symbol name made of `[A-Za-z0-9_.]` that starts with a letter or `_`."""
    symbol = re.sub(r"[^A-Za-z0-9_.]", "_", name)
    return symbol if re.match(r"[A-Za-z_]", symbol) else "_" + symbol


def first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def permuted_element(element: Attribute, perm: Perm) -> Attribute:
    """The element type after transposing by `perm` (a per-axis axis moves)."""
    if isinstance(element, UniformQuantizedType) and element.is_per_axis:
        return element.with_axis(layout.ir_axis(perm, element.axis.data))
    return element


class IRBuilder:
    """Appends ops to one block; caches constants and relayouts per layout."""

    def __init__(self) -> None:
        self.block = Block()
        self.node_name: str | None = None
        self._symbols: set[str] = set()
        # (id(tensor), perm) -> (tensor, ssa); the tensor is kept so that its
        # id is not reused while the entry lives.
        self._cache: dict[tuple[int, Perm], tuple[Tensor, SSAValue]] = {}

    # Ops -------------------------------------------------------------------------

    def emit(self, op: Operation) -> Operation:
        """Name `op` after the current node, verify it and append it."""
        if self.node_name is not None:
            op.attributes[NODE_ATTR] = StringAttr(self.node_name)
        try:
            op.verify()
        except VerifyException as error:
            raise Unsupported(first_line(error)) from None
        self.block.add_op(op)
        return op

    def op(
        self,
        op_type: type[IRDLOperation],
        operands: Sequence[SSAValue | Sequence[SSAValue] | None],
        result_type: Attribute,
        **properties: Attribute | None,
    ) -> SSAValue:
        """Build and emit an op, return its result; `None` properties are left out."""
        op = op_type.build(
            operands=list(operands),
            result_types=[result_type],
            properties={k: v for k, v in properties.items() if v is not None},
        )
        return self.emit(op).results[0]

    def constant(
        self, name: str, array: np.ndarray, result_type: TensorType | None = None
    ) -> SSAValue:
        symbol = sanitize(name)
        unique, count = symbol, 0
        while unique in self._symbols:
            count += 1
            unique = f"{symbol}_{count}"
        self._symbols.add(unique)
        op = ConstantOp(unique, array, result_type)
        op.verify()
        self.block.add_op(op)
        return op.result

    def reshape(
        self, ssa: SSAValue, shape: Sequence[int], element: Attribute | None = None
    ) -> SSAValue:
        """A row-major reshape; `element` overrides the per-axis element type."""
        source = tensor_type(ssa)
        if tuple(shape) == source.get_shape():
            return ssa
        if element is None:
            element = source.element_type
            if isinstance(element, UniformQuantizedType) and element.is_per_axis:
                raise Unsupported("a per-axis quantized tensor cannot be reshaped")
        return self.op(ReshapeOp, [ssa], TensorType(element, shape))

    def relayout(self, ssa: SSAValue, perm: Perm) -> SSAValue:
        """`graph.transpose` by `perm`, or a reshape when only unit axes move."""
        if layout.is_identity(perm):
            return ssa
        source = tensor_type(ssa)
        result_type = TensorType(
            permuted_element(source.element_type, perm),
            layout.permute(source.get_shape(), perm),
        )
        if layout.moves_only_unit_axes(perm, source.get_shape()):
            return self.op(ReshapeOp, [ssa], result_type)
        return self.op(TransposeOp, [ssa], result_type, perm=i64_array(perm))

    # Tensors ---------------------------------------------------------------------

    def value(self, tensor: Tensor, perm: Perm | None = None) -> SSAValue:
        """`tensor` as an SSA value in layout `perm` (default: its own / ONNX)."""
        perm = perm_of(tensor) if perm is None else perm
        if isinstance(tensor, Value) and tensor.perm == perm:
            return tensor.ssa
        key = (id(tensor), perm)
        if key not in self._cache:
            self._cache[key] = (tensor, self._materialize(tensor, perm))
        return self._cache[key][1]

    def broadcast(self, tensor: Tensor, rank: int, perm: Perm) -> SSAValue:
        """`tensor` with leading unit axes up to `rank` (broadcasting), in `perm`."""
        extra = rank - len(tensor.shape)
        if extra == 0:
            return self.value(tensor, perm)
        key = (id(tensor), perm)  # `perm` is longer than the tensor's rank
        if key not in self._cache:
            expanded = self._with_leading_axes(tensor, extra)
            self._cache[key] = (tensor, self.value(expanded, perm))
        return self._cache[key][1]

    def _with_leading_axes(self, tensor: Tensor, count: int) -> Tensor:
        if isinstance(tensor, Const):
            return Const(tensor.name, tensor.array.reshape((1,) * count + tensor.shape))
        if isinstance(tensor, QuantConst):
            return tensor.with_unit_axes(range(count))
        element = tensor.element_type
        if isinstance(element, UniformQuantizedType) and element.is_per_axis:
            element = element.with_axis(element.axis.data + count)
        ssa = self.reshape(tensor.ssa, (1,) * count + shape_of(tensor.ssa), element)
        return Value(ssa, (*range(count), *(p + count for p in tensor.perm)))

    def _materialize(self, tensor: Tensor, perm: Perm) -> SSAValue:
        if isinstance(tensor, Value):
            return self.relayout(tensor.ssa, layout.relative(tensor.perm, perm))
        if isinstance(tensor, Const):
            if tensor.array.dtype != np.float32:
                raise Unsupported(
                    f"{tensor.array.dtype} constant '{tensor.name}' used as a tensor "
                    "(only float32 data, or integers with a quantization)"
                )
            return self.constant(tensor.name, tensor.array.transpose(perm))
        permuted = tensor.transposed(perm)
        ssa = self.constant(
            permuted.name,
            permuted.array,
            TensorType(permuted.qtype, permuted.shape),
        )
        if not permuted.dequantized:
            return ssa
        result_type = TensorType(permuted.qtype.expressed, permuted.shape)
        consumer, self.node_name = self.node_name, permuted.node
        try:
            return self.op(DequantizeOp, [ssa], result_type)
        finally:
            self.node_name = consumer
