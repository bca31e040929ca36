"""Kernel builders: one graph compute op as a loop-level function (float32).

`build_layer(op, name)` gives

    func.func private @name(%input: memref<...>, ..., %output: memref<...>)

with one memref per tensor operand of `op` (weights included, operand order)
and the result last; the body is `scf.for` nests over `index`, `arith`/`math`
on scalars and `memref.load`/`memref.store` (see `docs/lowering.md`). The
function carries `tinycc.layer = {op, shape, macs}` for reports and for the
emitter's comment. The loops of each op family are described in its module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from xdsl.dialects import func, memref
from xdsl.dialects.builtin import (
    DictionaryAttr,
    Float32Type,
    IntegerAttr,
    IntegerType,
    MemRefType,
    Signedness,
    StringAttr,
)
from xdsl.ir import Block, Operation, Region, SSAValue

from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.integer import Rounding, rounding_of
from tinycc.kernels import (
    conv,
    data,
    elementwise,
    linear,
    pool,
    qdata,
    qedges,
    qelementwise,
    qlinear,
    qpool,
    qsoftmax,
    reduce,
    resize,
    softmax,
)
from tinycc.kernels.builder import KernelBuilder
from tinycc.kernels.quantized import constant_operand

__all__ = ["INTEGER_KERNELS", "KERNELS", "Layer", "build_layer", "macs", "supported"]

Kernel = Callable[[KernelBuilder, Operation, list[SSAValue], SSAValue], None]

KERNELS: dict[type[Operation], Kernel] = {
    **conv.KERNELS,
    **linear.KERNELS,
    **elementwise.KERNELS,
    **softmax.KERNELS,
    **pool.KERNELS,
    **reduce.KERNELS,
    **data.KERNELS,
    **resize.KERNELS,
    **qedges.EDGE_KERNELS,
}

IntegerKernel = Callable[
    [KernelBuilder, Operation, list[SSAValue], SSAValue, Rounding], None
]

# Kernels of quantized ops, once `graph-int8-rounding` chose their semantics.
INTEGER_KERNELS: dict[type[Operation], IntegerKernel] = {
    **qlinear.INTEGER_KERNELS,
    **qelementwise.INTEGER_KERNELS,
    **qpool.INTEGER_KERNELS,
    **qsoftmax.INTEGER_KERNELS,
    **qdata.INTEGER_KERNELS,
}

# Why an integer kernel cannot compute a particular op of its type, or None.
INTEGER_LIMITS: dict[type[Operation], Callable[[Operation, Rounding], str | None]] = {
    **qpool.UNSUPPORTED,
    **qdata.UNSUPPORTED,
}


def supported(op: Operation) -> str | None:
    """None if `build_layer` handles `op`, else the reason it does not."""
    values = (*op.operands, *op.results)
    if type(op) in qedges.EDGE_KERNELS:
        return qedges.per_tensor(op)
    if any(graph.is_quantized(value) for value in values):
        return _integer_supported(op)
    if type(op) not in KERNELS:
        return f"no kernel for {op.name}"
    for value in values:
        element = graph.tensor_type(value).element_type
        if not isinstance(element, Float32Type):
            return f"{element} tensors: the kernels are float32 only"
    return None


def _integer_supported(op: Operation) -> str | None:
    if type(op) not in INTEGER_KERNELS:
        return f"no integer kernel for quantized {op.name}"
    rounding = rounding_of(op)
    if rounding is None:
        return "quantized op without integer semantics (run graph-int8-rounding)"
    limit = INTEGER_LIMITS.get(type(op))
    return None if limit is None else limit(op, rounding)


def macs(op: Operation) -> int:
    """Multiply-accumulates, counted as in published figures (and
    `tinycc.zoo.count_macs`): every tap of a convolution, padding included;
    M*N*K for matrix products; nothing for other ops."""
    outputs = math.prod(graph.shape_of(op.results[0]))
    if isinstance(op, graph.Conv2DOp):
        return outputs * math.prod(graph.shape_of(op.weight)[1:])
    if isinstance(op, graph.FullyConnectedOp):
        return outputs * graph.shape_of(op.weight)[1]
    if isinstance(op, graph.MatMulOp):
        return outputs * graph.shape_of(op.lhs)[-1]
    return 0


@dataclass(frozen=True)
class Layer:
    """A layer function and the constant tables it reads (`memref.global`s
    the caller puts into the module next to it)."""

    function: func.FuncOp
    tables: list[memref.GlobalOp]
    # Operands the kernel never reads (a constant it replaced by a table, e.g.
    # a bias folded with the input zero point): not parameters of `function`.
    unread: frozenset[int] = frozenset()


def build_layer(op: Operation, name: str) -> Layer:
    """The loop-level function computing `op` into its last argument."""
    reason = supported(op)
    if reason is not None:
        raise TinyccError(f"{op.name}: {reason}")
    values = [*op.operands, op.results[0]]
    block = Block(arg_types=[_buffer_type(v) for v in values])
    for arg, arg_name in zip(block.args, _argument_names(op), strict=True):
        arg.name_hint = arg_name
    body = Region(block)
    kb = KernelBuilder(block, name)
    rounding = rounding_of(op)
    if rounding is not None and type(op) in INTEGER_KERNELS:
        INTEGER_KERNELS[type(op)](
            kb, op, list(block.args[:-1]), block.args[-1], rounding
        )
    else:
        KERNELS[type(op)](kb, op, list(block.args[:-1]), block.args[-1])
    kb.insert(func.ReturnOp())
    kb.finish()
    unread = _drop_unread_constants(op, block)
    function = func.FuncOp(name, ([a.type for a in block.args], []), body, "private")
    function.attributes["tinycc.layer"] = DictionaryAttr(
        {
            "op": StringAttr(op.name),
            "shape": StringAttr(
                "x".join(map(str, graph.shape_of(op.results[0]))) or "scalar"
            ),
            "macs": IntegerAttr(macs(op), 64),
            "dtype": StringAttr(_element_name(op.results[0])),
        }
    )
    return Layer(function, list(kb.tables.values()), unread)


def _drop_unread_constants(op: Operation, block: Block) -> frozenset[int]:
    """Remove the parameters of constant operands the kernel does not read,
    so that their bytes need not be in flash; their operand indices."""
    unread = [
        index
        for index, (arg, operand) in enumerate(
            zip(block.args[:-1], op.operands, strict=True)
        )
        if not arg.uses and constant_operand(operand) is not None
    ]
    for index in reversed(unread):
        block.erase_arg(block.args[index])
    return frozenset(unread)


def _element_name(value: SSAValue) -> str:
    """`float32`, `int8`, `uint8`, `int16`...: what the layer computes in."""
    element = _buffer_type(value).element_type
    if isinstance(element, Float32Type):
        return "float32"
    assert isinstance(element, IntegerType), element
    prefix = "uint" if element.signedness.data == Signedness.UNSIGNED else "int"
    return f"{prefix}{element.width.data}"


def _buffer_type(value: SSAValue) -> MemRefType:
    """Same shape, the storage type if quantized."""
    tensor = graph.tensor_type(value)
    element = getattr(tensor.element_type, "storage", tensor.element_type)
    return MemRefType(element, tensor.get_shape())


def _argument_names(op: Operation) -> list[str]:
    """The op definition's operand names (`input`, `weight`, `bias`, ...;
    `inputs0`, `inputs1`... for a variadic operand), then `output`."""
    names = []
    for name, _ in op.get_irdl_definition().operands:
        value = getattr(op, name)
        if isinstance(value, SSAValue):
            names.append(name)
        elif value is not None:
            names.extend(f"{name}{i}" for i in range(len(value)))
    return [*names, "output"]
