"""One int8 TFLite operator, built in memory and run by TFLite Micro.

TFLite Micro's Python interpreter (package `tflite-micro`) runs TFLM's
reference kernels, the int8 arithmetic that issue 4 must match bit for bit,
on a `.tflite` flatbuffer. `run_tflm` builds the smallest such model with the
generated schema's object API: one operator, its tensors (per-tensor or
per-channel quantized, or plain int32 for shape operands), a buffer for each
constant, and the operator's builtin options:

    y = run_tflm(
        "CONV_2D",
        [tensor(x_shape, 0.02, -3), constant(w, scales), constant(b, bias_scales)],
        tensor(y_shape, 0.1, 5),
        [x],
        options("Conv2DOptions", padding="SAME", strideW=1, strideH=1),
    )

Under `CI=true` a missing `tflite-micro` is an import error (a failure);
elsewhere the tests importing this module are skipped, with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

_MISSING = "TFLite Micro oracle: pip install tflite-micro flatbuffers (the test extra)"
if os.environ.get("CI") != "true":
    pytest.importorskip("tflite_micro", reason=_MISSING)
    pytest.importorskip("flatbuffers", reason=_MISSING)

import flatbuffers  # noqa: E402
from tflite_micro.python.tflite_micro import runtime  # noqa: E402
from tflite_micro.tensorflow.lite.micro.python import (  # noqa: E402
    schema_py_generated as schema,
)

_TENSOR_TYPES = {
    np.dtype(np.int8): schema.TensorType.INT8,
    np.dtype(np.int32): schema.TensorType.INT32,
}

# Option fields given by name (`padding="SAME"`), looked up in their enum.
_ENUMS = {
    "padding": schema.Padding,
    "fusedActivationFunction": schema.ActivationFunctionType,
}


@dataclass(frozen=True)
class Tensor:
    """A tensor of the model: a run-time input (no `data`) or a constant.

    `scales`/`zero_points` hold one value (per tensor) or one per index of
    dimension `axis` (per channel); none for an unquantized int32 operand
    such as a shape or an axis list.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    scales: tuple[float, ...] = ()
    zero_points: tuple[int, ...] = ()
    axis: int = 0
    data: np.ndarray | None = None


def tensor(shape: Sequence[int], scale: float, zero_point: int) -> Tensor:
    """A per-tensor quantized int8 activation."""
    return Tensor(tuple(shape), np.dtype(np.int8), (scale,), (zero_point,))


def constant(data: np.ndarray, scales: Sequence[float] = (), axis: int = 0) -> Tensor:
    """A constant (int8 weights, int32 biases or shapes) with symmetric scales:
    one for the tensor, or one per index of `axis`; no scales for a plain
    int32 operand."""
    data = np.asarray(data)
    return Tensor(
        data.shape,
        data.dtype,
        tuple(float(s) for s in scales),
        (0,) * len(scales),
        axis,
        data,
    )


def ints(values: Sequence[int] | Sequence[Sequence[int]]) -> Tensor:
    """An unquantized int32 constant (shapes, axes, paddings, permutations)."""
    return constant(np.asarray(values, np.int32))


def options(kind: str, **fields: object) -> tuple[int, object]:
    """Builtin options `kind` (`"Conv2DOptions"`) with `fields` set by their
    schema names (`strideW`, `fusedActivationFunction`...); padding and
    activation may be given by name."""
    table = getattr(schema, f"{kind}T")()
    for name, value in fields.items():
        if not hasattr(table, name):
            raise AttributeError(f"{kind} has no field {name}")
        if isinstance(value, str):
            value = getattr(_ENUMS[name], value)
        setattr(table, name, value)
    return getattr(schema.BuiltinOptions, kind), table


def _quantization(t: Tensor) -> object | None:
    if not t.scales:
        return None
    quantization = schema.QuantizationParametersT()
    quantization.scale = list(t.scales)
    quantization.zeroPoint = list(t.zero_points)
    quantization.quantizedDimension = t.axis
    return quantization


def _tensor(t: Tensor, index: int, buffer: int) -> object:
    table = schema.TensorT()
    table.shape = list(t.shape)
    table.type = _TENSOR_TYPES[t.dtype]
    table.buffer = buffer
    table.name = f"t{index}"
    table.quantization = _quantization(t)
    return table


def _buffer(data: np.ndarray | None) -> object:
    buffer = schema.BufferT()
    if data is not None:
        little_endian = data.astype(data.dtype.newbyteorder("<"), copy=False)
        buffer.data = np.frombuffer(little_endian.tobytes(), np.uint8)
    return buffer


def model_bytes(
    operator: str,
    inputs: Sequence[Tensor | None],
    output: Tensor,
    builtin_options: tuple[int, object] | None = None,
) -> bytes:
    """The flatbuffer of a one-operator model; `None` inputs are absent
    optional operands (a convolution without bias)."""
    tensors = [t for t in inputs if t is not None] + [output]
    buffers = [_buffer(None)]  # buffer 0: the empty sentinel of every input
    subgraph = schema.SubGraphT()
    subgraph.tensors = []
    for index, t in enumerate(tensors):
        buffer = 0
        if t.data is not None:
            buffer = len(buffers)
            buffers.append(_buffer(t.data))
        subgraph.tensors.append(_tensor(t, index, buffer))
    indices = iter(range(len(tensors)))
    op = schema.OperatorT()
    op.opcodeIndex = 0
    op.inputs = [-1 if t is None else next(indices) for t in inputs]
    op.outputs = [len(tensors) - 1]
    if builtin_options is not None:
        op.builtinOptionsType, op.builtinOptions = builtin_options
    subgraph.operators = [op]
    subgraph.inputs = [i for i, t in enumerate(tensors[:-1]) if t.data is None]
    subgraph.outputs = [len(tensors) - 1]

    code = schema.OperatorCodeT()
    code.builtinCode = getattr(schema.BuiltinOperator, operator)
    code.deprecatedBuiltinCode = min(
        code.builtinCode, schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES
    )
    code.version = 1
    model = schema.ModelT()
    model.version = 3
    model.operatorCodes = [code]
    model.subgraphs = [subgraph]
    model.buffers = buffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def run_tflm(
    operator: str,
    inputs: Sequence[Tensor | None],
    output: Tensor,
    feeds: Sequence[np.ndarray],
    builtin_options: tuple[int, object] | None = None,
) -> np.ndarray:
    """TFLM's result of `operator` on `feeds`, one array per non-constant
    input, in order."""
    model = model_bytes(operator, inputs, output, builtin_options)
    interpreter = runtime.Interpreter.from_bytes(model)
    for index, feed in enumerate(feeds):
        interpreter.set_input(np.ascontiguousarray(feed), index)
    interpreter.invoke()
    return interpreter.get_output(0).copy()
