"""The reference interpreter: what a graph-dialect program computes, in numpy.

Every later lowering (tensor level, loops, C, int8 kernels) is checked against
this package, and it is itself checked against onnxruntime, so it favours the
obvious formulation over the fast one.

Values are numpy arrays: float32 for real tensors, the storage integers for
quantized ones (the scale and zero point come from the SSA value's type).
The per-op math lives in `kernels`, on real values. `evaluate_op` wraps every
kernel the same way, which is the meaning of a graph op on quantized tensors:
dequantize the quantized operands, compute the real op, quantize the result
to the result type (round half to even, saturate). `graph.quantize` and
`graph.dequantize` are therefore the identity on real values.

Once `graph-int8-rounding` has set `quant.rounding` on an op, it means its
integer kernel instead (`tinycc.interpreter.integer`), bit for bit; ops that
have none keep the dequantize-compute-quantize meaning.

`run_function` walks a `func.func` with xDSL's interpreter, dispatching every
graph op to `evaluate_op`; `run_module` adds the ONNX boundary: names
(`onnx.name`) and layouts (`onnx.perm`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    impl,
    register_impls,
)
from xdsl.interpreters.func import FuncFunctions
from xdsl.ir import Attribute, Operation, SSAValue

from tinycc import signature, weights
from tinycc.dialects import graph
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.errors import TinyccError
from tinycc.integer import rounding_of
from tinycc.interpreter.integer import INTEGER_KERNELS
from tinycc.interpreter.kernels import KERNELS
from tinycc.interpreter.tile import TILE_OPS, TileFunctions

__all__ = [
    "dequantize",
    "evaluate_op",
    "quantize",
    "run_function",
    "run_module",
    "trace_function",
]

# Quantization -------------------------------------------------------------------


def _per_axis(values: Sequence[float], qtype: UniformQuantizedType, rank: int, dtype):
    """Quantization parameters shaped to broadcast along the type's axis."""
    array = np.asarray(values, dtype)
    if not qtype.is_per_axis:
        return array.reshape(())
    shape = [1] * rank
    shape[qtype.axis.data] = -1
    return array.reshape(shape)


def quantize(real: np.ndarray, qtype: UniformQuantizedType) -> np.ndarray:
    """`saturate(round_half_even(real / scale) + zero_point)`, in float32 like
    onnxruntime's QuantizeLinear, so that ties round the same way."""
    scale = _per_axis(qtype.scale_values, qtype, real.ndim, np.float32)
    zero_point = _per_axis(qtype.zero_point_values, qtype, real.ndim, np.float64)
    low, high = qtype.storage_range
    with np.errstate(divide="ignore", invalid="ignore"):
        rounded = np.rint(np.asarray(real, np.float32) / scale)
    return np.clip(rounded + zero_point, low, high).astype(qtype.numpy_dtype)


def dequantize(stored: np.ndarray, qtype: UniformQuantizedType) -> np.ndarray:
    """`float32(q - zero_point) * scale`, as onnxruntime's DequantizeLinear."""
    scale = _per_axis(qtype.scale_values, qtype, stored.ndim, np.float32)
    zero_point = _per_axis(qtype.zero_point_values, qtype, stored.ndim, np.int64)
    return (stored.astype(np.int64) - zero_point).astype(np.float32) * scale


def _to_real(value: np.ndarray, type_: Attribute) -> np.ndarray:
    element = graph.tensor_type(type_).element_type
    if isinstance(element, UniformQuantizedType):
        return dequantize(value, element)
    return np.asarray(value)


def _from_real(value: np.ndarray, type_: Attribute) -> np.ndarray:
    element = graph.tensor_type(type_).element_type
    if isinstance(element, UniformQuantizedType):
        return quantize(value, element)
    return np.asarray(value, weights.numpy_dtype(element))


# Evaluating ops ------------------------------------------------------------------


def evaluate_op(op: Operation, operands: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The results of one graph op, given its operand values."""
    if isinstance(op, graph.ConstantOp):
        # Already the stored value: quantizing it again could round int32 biases.
        return [op.array]
    rounding = rounding_of(op)
    if rounding is not None and type(op) in INTEGER_KERNELS:
        return [INTEGER_KERNELS[type(op)](op, rounding, *operands)]
    kernel = KERNELS.get(type(op))
    if kernel is None:
        raise TinyccError(f"the reference interpreter has no semantics for {op.name}")
    reals = [
        _to_real(v, operand.type)
        for v, operand in zip(operands, op.operands, strict=True)
    ]
    result = kernel(op, *reals)
    return [_from_real(result, op.results[0].type)]


def _run_graph_op(
    functions: InterpreterFunctions, interpreter: Interpreter, op: Operation, args
) -> PythonValues:
    return tuple(evaluate_op(op, args))


def _graph_functions() -> type[InterpreterFunctions]:
    """`InterpreterFunctions` with one `@impl` per graph op, all `evaluate_op`.

    Written as a table rather than 36 identical methods: the per-op
    semantics live in the kernels, and `evaluate_op` (which constant folding
    calls directly) must be the same code the interpreter runs.
    """
    methods = {
        f"run_{op_type.__name__}": impl(op_type)(_run_graph_op)
        for op_type in (graph.ConstantOp, *KERNELS)
    }
    return register_impls(type("GraphFunctions", (InterpreterFunctions,), methods))


GraphFunctions = _graph_functions()


def run_function(function: func.FuncOp, args: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run a function on values in IR layout (storage integers when quantized)."""
    for op in function.body.walk():
        if (
            not isinstance(op, (func.ReturnOp, graph.ConstantOp, *TILE_OPS))
            and type(op) not in KERNELS
        ):
            raise TinyccError(f"the reference interpreter cannot run {op.name}")
    parent = function.parent_op()
    interpreter = Interpreter(parent if isinstance(parent, ModuleOp) else ModuleOp([]))
    interpreter.register_implementations(FuncFunctions())
    interpreter.register_implementations(GraphFunctions())
    interpreter.register_implementations(TileFunctions())
    return list(interpreter.call_op(function, tuple(args)))


def trace_function(
    function: func.FuncOp, args: Sequence[np.ndarray]
) -> Iterator[tuple[Operation, list[np.ndarray]]]:
    """Every non-constant op of a flat graph-level body with its results,
    computed op by op (calibration and layer-by-layer comparison read them)."""
    values: dict[SSAValue, np.ndarray] = dict(
        zip(function.body.block.args, args, strict=True)
    )
    for op in function.body.block.ops:
        if isinstance(op, func.ReturnOp):
            return
        results = evaluate_op(op, [values[operand] for operand in op.operands])
        values.update(zip(op.results, results, strict=True))
        if not isinstance(op, graph.ConstantOp):
            yield op, results


# The ONNX boundary ------------------------------------------------------------------


def _checked(port: signature.Port, array: np.ndarray) -> np.ndarray:
    """An input in IR layout, after checking it is what the model takes."""
    dtype = graph.storage_dtype(port.type)
    if array.dtype != dtype or array.shape != port.onnx_shape:
        raise TinyccError(
            f"input '{port.name}': expected {dtype} of shape "
            f"{list(port.onnx_shape)}, got {array.dtype} of shape {list(array.shape)}"
        )
    return port.to_ir(array)


def run_module(
    module: ModuleOp, inputs: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Run `@main` on ONNX-named inputs in ONNX layout; outputs likewise.

    Quantized inputs and outputs are their storage integers.
    """
    function = signature.main_function(module)
    in_ports, out_ports = signature.inputs(module), signature.outputs(module)
    names = [port.name for port in in_ports]
    if missing := [name for name in names if name not in inputs]:
        raise TinyccError(f"missing input '{missing[0]}' (the model takes {names})")
    if extra := [name for name in inputs if name not in names]:
        raise TinyccError(f"unknown input '{extra[0]}' (the model takes {names})")
    args = [_checked(port, np.asarray(inputs[port.name])) for port in in_ports]
    results = run_function(function, args)
    return {
        port.name: port.to_onnx(result)
        for port, result in zip(out_ports, results, strict=True)
    }
