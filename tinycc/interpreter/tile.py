"""Reference semantics of the `tile` dialect, for xDSL's interpreter.

A `tile.compute` is its body run on its operands; `tile.extract` is a numpy
slice; `tile.assemble` writes each box into a fresh array. Tiled and untiled
programs must give identical arrays: this is how the `tile` pass is checked.
"""

from __future__ import annotations

import numpy as np
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_terminator,
    register_impls,
)

from tinycc.dialects import graph, tile


@register_impls
class TileFunctions(InterpreterFunctions):
    @impl(tile.ComputeOp)
    def run_compute(
        self, interpreter: Interpreter, op: tile.ComputeOp, args: PythonValues
    ) -> PythonValues:
        return interpreter.run_ssacfg_region(op.body, args)

    @impl_terminator(tile.YieldOp)
    def run_yield(
        self, interpreter: Interpreter, op: tile.YieldOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl(tile.ExtractOp)
    def run_extract(
        self, interpreter: Interpreter, op: tile.ExtractOp, args: PythonValues
    ) -> PythonValues:
        (source,) = args
        lo = op.offsets.get_values()
        sizes = op.result.type.get_shape()
        index = tuple(slice(o, o + s) for o, s in zip(lo, sizes, strict=True))
        return (np.ascontiguousarray(source[index]),)

    @impl(tile.AssembleOp)
    def run_assemble(
        self, interpreter: Interpreter, op: tile.AssembleOp, args: PythonValues
    ) -> PythonValues:
        result = np.empty(op.result.type.get_shape(), graph.storage_dtype(op.result))
        for box, value in zip(op.boxes(), args, strict=True):
            result[
                tuple(slice(lo, hi) for lo, hi in zip(box.lo, box.hi, strict=True))
            ] = value
        return (result,)


TILE_OPS = (tile.ComputeOp, tile.YieldOp, tile.ExtractOp, tile.AssembleOp)
