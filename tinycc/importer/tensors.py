"""What an ONNX value is while the importer walks the graph.

A value is known at import time (`Const`, or `QuantConst` for integer data
with its quantization), or computed by the IR (`Value`: an SSA value and the
layout tag of its IR tensor), or `MISSING` when the node producing it could
not be imported. Constants stay numpy arrays in ONNX layout until an op needs
them, and are then materialized in the layout that op wants, so a weight is
permuted once at compile time and never at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from xdsl.ir import Attribute, SSAValue

from tinycc.dialects.graph import shape_of, tensor_type
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.importer import layout
from tinycc.importer.dtypes import dequantize
from tinycc.importer.layout import Perm


@dataclass(eq=False)
class Const:
    """A constant (initializer, Constant node or folded subgraph), ONNX layout."""

    name: str
    array: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape


@dataclass(eq=False)
class QuantConst:
    """Integer data with its quantization, ONNX layout (`qtype.axis` too).

    `dequantized` says what the ONNX value is: the real tensor (the output of
    a DequantizeLinear of a constant, as in QDQ models) or the integers
    themselves (a QLinearConv weight). `node` names the DequantizeLinear,
    which becomes a `graph.dequantize` wherever the value is used.
    """

    name: str
    array: np.ndarray
    qtype: UniformQuantizedType
    dequantized: bool
    node: str | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    def real(self) -> np.ndarray:
        return dequantize(self.array, self.qtype)

    def transposed(self, perm: Perm) -> QuantConst:
        qtype = self.qtype
        if qtype.is_per_axis:
            qtype = qtype.with_axis(layout.ir_axis(perm, qtype.axis.data))
        return replace(self, array=self.array.transpose(perm), qtype=qtype)

    def with_unit_axes(self, axes: Sequence[int]) -> QuantConst:
        """Unit axes inserted at `axes` (numbered in the result), as unsqueeze."""
        qtype = self.qtype
        if qtype.is_per_axis:
            rank = len(self.shape) + len(axes)
            kept = [i for i in range(rank) if i not in axes]
            qtype = qtype.with_axis(kept[qtype.axis.data])
        return replace(self, array=np.expand_dims(self.array, tuple(axes)), qtype=qtype)


@dataclass(eq=False)
class Value:
    """A tensor computed by the IR: `ir = np.transpose(onnx, perm)`."""

    ssa: SSAValue
    perm: Perm

    @property
    def shape(self) -> tuple[int, ...]:
        """The ONNX (logical) shape."""
        return layout.unpermute(shape_of(self.ssa), self.perm)

    @property
    def element_type(self) -> Attribute:
        return tensor_type(self.ssa).element_type

    @property
    def is_quantized(self) -> bool:
        return isinstance(self.element_type, UniformQuantizedType)


class _Missing:
    """The output of a node that could not be imported."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()

Tensor = Const | QuantConst | Value


def perm_of(tensor: Tensor) -> Perm:
    """The layout tag of a tensor; constants are in ONNX layout."""
    if isinstance(tensor, Value):
        return tensor.perm
    return layout.identity(len(tensor.shape))
