"""Running loop-level layer functions with xDSL's interpreter (test helpers).

xDSL's interpreter computes floats as Python floats (float64); the C compiler
will compute in float32. `Float32Functions` makes every float op round to its
result type, as C does, supplies the ops xDSL 0.74 has no implementation for
(divf, tanh, erf, casts, ...), and checks every memory access against the
buffer's shape: an out-of-range index is an error here, not a silent wrong
read as in C.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.dialects import arith, func, memref
from xdsl.dialects import math as mathd
from xdsl.dialects.builtin import Float32Type, Float64Type, ModuleOp
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    impl,
    register_impls,
)
from xdsl.interpreters.arith import ArithFunctions
from xdsl.interpreters.func import FuncFunctions
from xdsl.interpreters.memref import MemRefFunctions
from xdsl.interpreters.scf import ScfFunctions
from xdsl.interpreters.shaped_array import ShapedArray
from xdsl.interpreters.utils.ptr import TypedPtr
from xdsl.ir import Operation

from tinycc import kernels
from tinycc.dialects import graph
from tinycc.dialects.graph import conv2d_shape, pool2d_shape
from tinycc.interpreter import evaluate_op
from tinycc.ir import parse_module

_FLOAT = {Float32Type(): np.float32, Float64Type(): np.float64}
LOOP_DIALECTS = {"func", "scf", "arith", "math", "memref"}  # docs/lowering.md


def _rounded(op: Operation, value: float) -> float:
    """`value` rounded to the float type of `op`'s result."""
    return _FLOAT[op.results[0].type](value)


def _float_impl(op_type: type[Operation], fn):
    def run(self, interpreter: Interpreter, op: Operation, args: PythonValues):
        with np.errstate(all="ignore"):
            return (_rounded(op, fn(*(np.float64(a) for a in args))),)

    return impl(op_type)(run)


def _integer_impl(op_type: type[Operation], fn):
    def run(self, interpreter: Interpreter, op: Operation, args: PythonValues):
        return (fn(*args),)

    return impl(op_type)(run)


def _checked(array: ShapedArray, index: Sequence[int], op: Operation) -> tuple:
    if any(not 0 <= i < d for i, d in zip(index, array.shape, strict=True)):
        raise IndexError(f"{op.name} at {list(index)} of a {array.shape} buffer")
    return tuple(index)


@register_impls
class Float32Functions(InterpreterFunctions):
    """Float ops rounded to their result type, bounds-checked memory, and the
    ops xDSL's own implementations lack."""

    run_addf = _float_impl(arith.AddfOp, lambda a, b: a + b)
    run_subf = _float_impl(arith.SubfOp, lambda a, b: a - b)
    run_mulf = _float_impl(arith.MulfOp, lambda a, b: a * b)
    run_divf = _float_impl(arith.DivfOp, lambda a, b: a / b)
    run_negf = _float_impl(arith.NegfOp, lambda a: -a)
    run_maximumf = _float_impl(arith.MaximumfOp, lambda a, b: np.maximum(a, b))
    run_minimumf = _float_impl(arith.MinimumfOp, lambda a, b: np.minimum(a, b))
    run_sitofp = _float_impl(arith.SIToFPOp, lambda a: a)
    run_truncf = _float_impl(arith.TruncFOp, lambda a: a)
    run_extf = _float_impl(arith.ExtFOp, lambda a: a)
    run_exp = _float_impl(mathd.ExpOp, np.exp)
    run_log = _float_impl(mathd.LogOp, np.log)
    run_sqrt = _float_impl(mathd.SqrtOp, np.sqrt)
    run_tanh = _float_impl(mathd.TanhOp, np.tanh)
    run_erf = _float_impl(mathd.ErfOp, math.erf)
    run_ceil = _float_impl(mathd.CeilOp, np.ceil)
    run_fptosi = _integer_impl(arith.FPToSIOp, lambda a: int(a))  # toward zero
    run_maxsi = _integer_impl(arith.MaxSIOp, max)
    run_minsi = _integer_impl(arith.MinSIOp, min)

    @impl(arith.ConstantOp)
    def run_constant(
        self, interpreter: Interpreter, op: arith.ConstantOp, args: PythonValues
    ) -> PythonValues:
        value = op.value.value.data
        if op.result.type in _FLOAT:
            return (_rounded(op, value),)
        return (value,)

    @impl(memref.LoadOp)
    def run_load(
        self, interpreter: Interpreter, op: memref.LoadOp, args: PythonValues
    ) -> PythonValues:
        array, *index = args
        return (array.load(_checked(array, index, op)),)

    @impl(memref.StoreOp)
    def run_store(
        self, interpreter: Interpreter, op: memref.StoreOp, args: PythonValues
    ) -> PythonValues:
        value, array, *index = args
        array.store(_checked(array, index, op), value)
        return ()


def run_layer(function: func.FuncOp, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Call a layer function on float32 arrays; its result buffer, as numpy."""
    result_type = function.function_type.inputs.data[-1]
    buffers = [_shaped(a) for a in arrays]
    output = _shaped(np.zeros(result_type.get_shape(), np.float32))
    interpreter = Interpreter(ModuleOp([function]))
    for functions in (
        FuncFunctions(),
        ScfFunctions(),
        ArithFunctions(),
        MemRefFunctions(),
    ):
        interpreter.register_implementations(functions)
    interpreter.register_implementations(Float32Functions(), override=True)
    interpreter.call_op(function, (*buffers, output))
    return np.array(output.data, np.float32).reshape(result_type.get_shape())


def _shaped(array: np.ndarray) -> ShapedArray:
    flat = np.asarray(array, np.float32).ravel().tolist()
    return ShapedArray(TypedPtr.new_float32(flat), list(array.shape))


# Building graph ops from IR text -------------------------------------------------


def graph_op(
    op_text: str, operands: Sequence[Sequence[int]], result: Sequence[int]
) -> Operation:
    """The one graph op of `%y = <op_text> %a0, %a1... : (types) -> type`,
    parsed and verified, its operands being float32 function arguments."""
    types = [tensor(s) for s in operands]
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(types))
    names = ", ".join(f"%a{i}" for i in range(len(types)))
    name, _, attributes = op_text.partition(" ")
    text = f"""
func.func @main({args}) -> {tensor(result)} {{
  %y = {name} {names} {attributes} : ({", ".join(types)}) -> {tensor(result)}
  func.return %y : {tensor(result)}
}}"""
    module = parse_module(text)
    return next(op for op in module.walk() if op.name == name)


def conv(
    c_in: int,
    c_out: int,
    kernel: tuple[int, int] = (3, 3),
    strides: tuple[int, int] = (1, 1),
    dilations: tuple[int, int] = (1, 1),
    pads: tuple[int, int, int, int] = (0, 0, 0, 0),
    groups: int = 1,
    bias: bool = True,
    clamp: str = "",
    size: tuple[int, int] = (6, 5),
) -> Operation:
    """A `graph.conv2d` on a `[1, *size, c_in]` input."""
    x = (1, *size, c_in)
    w = (c_out, *kernel, c_in // groups)
    y = conv2d_shape(x, w, strides, dilations, pads, groups)
    props = (
        f"strides = array<i64: {strides[0]}, {strides[1]}>, "
        f"dilations = array<i64: {dilations[0]}, {dilations[1]}>, "
        f"pads = array<i64: {', '.join(map(str, pads))}>, groups = {groups} : i64"
    )
    operands = [x, w, (c_out,)] if bias else [x, w]
    return graph_op(f"graph.conv2d {{{props}{clamp}}}", operands, y)


def pool(
    kind: str,
    kernel: tuple[int, int] = (3, 3),
    strides: tuple[int, int] = (2, 2),
    pads: tuple[int, int, int, int] = (0, 0, 0, 0),
    dilations: tuple[int, int] = (1, 1),
    ceil_mode: bool = False,
    count_include_pad: bool = False,
    x: tuple[int, ...] = (1, 7, 6, 2),
) -> Operation:
    """A `graph.max_pool2d` or `graph.avg_pool2d` (`kind`)."""
    props = [
        f"kernel = array<i64: {kernel[0]}, {kernel[1]}>",
        f"strides = array<i64: {strides[0]}, {strides[1]}>",
        f"pads = array<i64: {', '.join(map(str, pads))}>",
    ]
    if dilations != (1, 1):
        props.append(f"dilations = array<i64: {dilations[0]}, {dilations[1]}>")
    if ceil_mode:
        props.append("ceil_mode")
    if count_include_pad:
        props.append("count_include_pad")
    y = pool2d_shape(x, kernel, strides, dilations, pads, ceil_mode)
    return graph_op(f"graph.{kind} {{{', '.join(props)}}}", [x], y)


def tensor(shape: Sequence[int]) -> str:
    return f"tensor<{''.join(f'{d}x' for d in shape)}f32>"


def check_layer(
    op: Operation, arrays: Sequence[np.ndarray] | None = None, seed: int = 0
) -> func.FuncOp:
    """Build `op`'s layer, verify it, run it on `arrays` (default: seeded
    normal data) and compare with the reference interpreter within 1e-5 of
    the output's magnitude. Returns the layer function for structural checks."""
    if arrays is None:
        rng = np.random.default_rng(seed)
        arrays = [
            rng.standard_normal(graph.shape_of(v)).astype(np.float32)
            for v in op.operands
        ]
    function = kernels.build_layer(op, "layer").function
    function.verify()
    dialects = {o.dialect_name() for o in function.body.walk()}
    assert dialects <= LOOP_DIALECTS, dialects - LOOP_DIALECTS
    (expected,) = evaluate_op(op, arrays)
    actual = run_layer(function, arrays)
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-30)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5 * scale)
    return function
