"""Constant folding while importing: nodes whose inputs are all known.

Exporters compute shapes at run time (`Shape -> Gather -> Unsqueeze -> Concat
-> Reshape`); with static shapes all of that is known at import time, so
such nodes are evaluated with ONNX's reference implementation and never
reach the IR. `Shape` and `Size` of a computed tensor fold too, since every
tensor has a static shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import helper
from onnx.reference import ReferenceEvaluator

from tinycc.importer.builder import first_line
from tinycc.importer.problems import Unsupported
from tinycc.importer.tensors import Const, Tensor

# Kept as ops: a DequantizeLinear of a constant weight is what marks a QDQ
# model's quantized weights (see `QuantConst`).
NOT_FOLDED = frozenset({"DequantizeLinear"})

# Folding these would bake one random draw into the model.
NONDETERMINISTIC = frozenset(
    {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
     "Multinomial", "Bernoulli"}
)  # fmt: skip


def can_fold(node: onnx.NodeProto, inputs: Sequence[Tensor | None]) -> bool:
    """True if `node` only needs its inputs' values, and all of them are known."""
    if node.domain not in ("", "ai.onnx"):
        return False
    if node.op_type in NOT_FOLDED or node.op_type in NONDETERMINISTIC:
        return False
    if node.op_type in ("Shape", "Size"):
        return inputs[0] is not None
    return all(tensor is None or isinstance(tensor, Const) for tensor in inputs)


def fold(
    node: onnx.NodeProto, inputs: Sequence[Tensor | None], opset: int
) -> list[Const | None]:
    """The outputs of `node` as constants named after them (None: no output)."""
    if node.op_type in ("Shape", "Size"):
        arrays = [_shape_or_size(node, inputs[0].shape)]
    else:
        arrays = _evaluate(node, inputs, opset)
    produced = iter(arrays)
    return [
        Const(name, np.asarray(next(produced))) if name else None
        for name in node.output
    ]


def _shape_or_size(node: onnx.NodeProto, shape: Sequence[int]) -> np.ndarray:
    if node.op_type == "Size":
        return np.array(int(np.prod(shape)), np.int64)
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    start, end = attributes.get("start", 0), attributes.get("end", len(shape))
    return np.array(shape[slice(start, end)], np.int64)


def _evaluate(
    node: onnx.NodeProto, inputs: Sequence[Tensor | None], opset: int
) -> list[np.ndarray]:
    feeds = {
        name: tensor.array
        for name, tensor in zip(node.input, inputs, strict=False)
        if tensor is not None
    }
    graph = helper.make_graph(
        [node],
        "fold",
        [
            helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(array.dtype), array.shape
            )
            for name, array in feeds.items()
        ],
        [
            helper.make_value_info(name, onnx.TypeProto())
            for name in node.output
            if name
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    try:
        return ReferenceEvaluator(model).run(None, feeds)
    except Exception as error:  # the reference ops raise anything at all
        raise Unsupported(f"constant folding failed: {first_line(error)}") from None
