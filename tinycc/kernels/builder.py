"""Building scalar loop nests: the vocabulary every kernel builder shares.

A `KernelBuilder` appends loop-level IR (`scf.for` over `index`, `arith` and
`math` on scalars, `memref.load`/`memref.store`) at its insertion point, and
the kernels read like the C that comes out:

    for oh in kb.range(0, OH, "oh"):
        h0 = (oh * stride - pad).named("h0")
        ...

Index arithmetic is traced, not just emitted. Every `Index` knows the range
`[lo, hi]` it lies in, so arithmetic on known values folds to Python ints and
`max`/`min` whose outcome the ranges decide emit nothing: an unpadded
convolution gets constant tap bounds, a 1x1 kernel no tap loops at all
(single-trip loops are inlined with a constant induction variable). Values
are computed where the kernel asks for them, hence outside the loops they do
not depend on. Constants are created once, at the top of the function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeAlias, TypeVar

import numpy as np
from xdsl.builder import Builder
from xdsl.dialects import arith, math, memref, scf
from xdsl.dialects.builtin import (
    Float32Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    StringAttr,
    UnitAttr,
    i32,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint
from xdsl.transforms.dead_code_elimination import region_dce

from tinycc import weights

T = TypeVar("T")
f32 = Float32Type()
LOWEST_F32 = -3.4028234663852886e38  # numpy.finfo(float32).min: padding never wins
TABLE_ALIGNMENT = 4

IndexLike: TypeAlias = "int | Index"
FloatLike: TypeAlias = "float | Scalar"


def shape(buffer: SSAValue) -> tuple[int, ...]:
    assert isinstance(buffer.type, MemRefType)
    return buffer.type.get_shape()


def _name(value: SSAValue, name: str | None) -> None:
    """Name a value unless it has a name already: folding may hand back an
    existing value (`oh * 1 - 0` is `oh`), which must keep its own name."""
    if name is not None and value.name_hint is None:
        value.name_hint = name


class Index:
    """An `index` value and the range `[lo, hi]` it lies in; static when the
    range is one point, in which case no SSA value exists until one is needed."""

    def __init__(self, kb: KernelBuilder, lo: int, hi: int, ssa: SSAValue | None):
        assert lo <= hi and (ssa is not None or lo == hi)
        self.kb, self.lo, self.hi, self._ssa = kb, lo, hi, ssa

    @property
    def static(self) -> int | None:
        return self.lo if self.lo == self.hi else None

    @property
    def ssa(self) -> SSAValue:
        if self.static is not None:
            return self.kb.index_constant(self.lo)
        assert self._ssa is not None
        return self._ssa

    def named(self, name: str) -> Index:
        if self.static is None:
            _name(self.ssa, name)
        return self

    def _binary(
        self,
        other: IndexLike,
        op: type[arith.SignlessIntegerBinaryOperation],
        lo: int,
        hi: int,
    ) -> Index:
        other = self.kb.index(other)
        if lo == hi:
            return self.kb.index(lo)
        result = self.kb.insert(op(self.ssa, other.ssa)).result
        return Index(self.kb, lo, hi, result)

    def __add__(self, other: IndexLike) -> Index:
        other = self.kb.index(other)
        if other.static == 0:
            return self
        if self.static == 0:
            return other
        return self._binary(other, arith.AddiOp, self.lo + other.lo, self.hi + other.hi)

    __radd__ = __add__

    def __sub__(self, other: IndexLike) -> Index:
        other = self.kb.index(other)
        if other.static == 0:
            return self
        return self._binary(other, arith.SubiOp, self.lo - other.hi, self.hi - other.lo)

    def __rsub__(self, other: int) -> Index:
        return self.kb.index(other) - self

    def __neg__(self) -> Index:
        return 0 - self

    def __mul__(self, other: IndexLike) -> Index:
        other = self.kb.index(other)
        if other.static == 1:
            return self
        if self.static == 1:
            return other
        products = [a * b for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return self._binary(other, arith.MuliOp, min(products), max(products))

    __rmul__ = __mul__

    def __floordiv__(self, divisor: int) -> Index:
        """Division of a non-negative index (C's `/` is floor division there)."""
        assert self.lo >= 0 and divisor > 0
        if divisor == 1:
            return self
        return self._binary(
            divisor, arith.DivSIOp, self.lo // divisor, self.hi // divisor
        )

    def __mod__(self, divisor: int) -> Index:
        """Remainder of a non-negative index."""
        assert self.lo >= 0 and divisor > 0
        if self.hi < divisor:
            return self
        return self._binary(divisor, arith.RemSIOp, 0, divisor - 1)

    def ceildiv(self, divisor: int) -> Index:
        """`ceil(self / divisor)` of a non-negative index."""
        return (self + (divisor - 1)) // divisor


_FLOAT_OPS = {"+": arith.AddfOp, "-": arith.SubfOp, "*": arith.MulfOp}
_INTEGER_OPS = {"+": arith.AddiOp, "-": arith.SubiOp, "*": arith.MuliOp}


class Scalar:
    """A scalar SSA value (float or integer) with arithmetic operators;
    Python numbers mixed in become constants of the same type. Integer
    `+ - * <<` wrap (MLIR's `arith`), `>>` is arithmetic, `&` bitwise."""

    def __init__(self, kb: KernelBuilder, ssa: SSAValue):
        self.kb, self.ssa = kb, ssa

    @property
    def type(self) -> Attribute:
        return self.ssa.type

    @property
    def is_integer(self) -> bool:
        return isinstance(self.type, IntegerType)

    def named(self, name: str) -> Scalar:
        _name(self.ssa, name)
        return self

    def _op(self, symbol: str) -> type[Operation]:
        return (_INTEGER_OPS if self.is_integer else _FLOAT_OPS)[symbol]

    def __add__(self, other: FloatLike) -> Scalar:
        return self.kb.binary(self._op("+"), self, other)

    def __radd__(self, other: float) -> Scalar:
        return self.kb.binary(self._op("+"), other, self)

    def __sub__(self, other: FloatLike) -> Scalar:
        return self.kb.binary(self._op("-"), self, other)

    def __rsub__(self, other: float) -> Scalar:
        return self.kb.binary(self._op("-"), other, self)

    def __mul__(self, other: FloatLike) -> Scalar:
        return self.kb.binary(self._op("*"), self, other)

    def __rmul__(self, other: float) -> Scalar:
        return self.kb.binary(self._op("*"), other, self)

    def __truediv__(self, other: FloatLike) -> Scalar:
        return self.kb.binary(arith.DivfOp, self, other)

    def __rtruediv__(self, other: float) -> Scalar:
        return self.kb.binary(arith.DivfOp, other, self)

    def __neg__(self) -> Scalar:
        if self.is_integer:
            return 0 - self
        return Scalar(self.kb, self.kb.insert(arith.NegfOp(self.ssa)).result)

    def __lshift__(self, other: FloatLike) -> Scalar:
        return self.kb.binary(arith.ShLIOp, self, other)

    def __rshift__(self, other: FloatLike) -> Scalar:
        return self.kb.binary(arith.ShRSIOp, self, other)

    def __and__(self, other: FloatLike) -> Scalar:
        return self.kb.binary(arith.AndIOp, self, other)


class KernelBuilder:
    """Emits a kernel body into `block` (a function's entry block)."""

    def __init__(self, block: Block, function_name: str = "kernel"):
        self.block = block
        self.function_name = function_name
        self.tables: dict[str, memref.GlobalOp] = {}
        self.builder = Builder(InsertPoint.at_end(block))
        self._constants: dict[tuple[Attribute, str], SSAValue] = {}
        self._prologue = Block()

    def insert(self, op: Operation) -> Operation:
        return self.builder.insert(op)

    def finish(self) -> None:
        """Put the constants, created on demand, at the top of the function,
        and drop what range folding left unused (a bound computed before its
        `max` turned out to be decided by the ranges)."""
        constants = list(self._prologue.ops)
        for op in constants:
            self._prologue.detach_op(op)
        if self.block.first_op is None:
            self.block.add_ops(constants)
        else:
            self.block.insert_ops_before(constants, self.block.first_op)
        assert self.block.parent is not None
        region_dce(self.block.parent)

    # Values --------------------------------------------------------------------

    def _constant(self, attr: IntegerAttr | FloatAttr, key: str, name: str) -> SSAValue:
        cached = self._constants.get((attr.type, key))
        if cached is not None:
            return cached
        op = arith.ConstantOp(attr)
        self._prologue.add_op(op)
        op.result.name_hint = name
        self._constants[(attr.type, key)] = op.result
        return op.result

    def index_constant(self, value: int) -> SSAValue:
        name = f"c{value}" if value >= 0 else f"cm{-value}"
        return self._constant(IntegerAttr(value, IndexType()), str(value), name)

    def index(self, value: IndexLike) -> Index:
        if isinstance(value, Index):
            return value
        return Index(self, value, value, None)

    def scalar(self, value: FloatLike, type_: Attribute = f32) -> Scalar:
        if isinstance(value, Scalar):
            assert value.type == type_, f"{value.type} mixed with {type_}"
            return value
        if isinstance(type_, IntegerType):
            assert value == int(value), f"{value} is not an integer"
            name = f"c{int(value)}_i{type_.width.data}".replace("-", "m")
            attr = IntegerAttr(int(value), type_)
            return Scalar(self, self._constant(attr, str(int(value)), name))
        attr = FloatAttr(float(value), type_)
        return Scalar(self, self._constant(attr, float(value).hex(), "cst"))

    def table(self, name: str, values: np.ndarray, type_: IntegerType) -> SSAValue:
        """A constant array the kernel reads (per-channel multipliers, lookup
        tables): a `memref.global` named `<function>_<name>`, which
        `build_layer` hands out with the function."""
        symbol = f"{self.function_name}_{name}"
        memref_type = MemRefType(type_, [len(values)])
        if symbol not in self.tables:
            self.tables[symbol] = memref.GlobalOp.get(
                StringAttr(symbol),
                memref_type,
                weights.dense_from_numpy(
                    np.asarray(values, weights.numpy_dtype(type_))
                ),
                constant=UnitAttr(),
                alignment=TABLE_ALIGNMENT,
            )
        get = memref.GetGlobalOp(symbol, memref_type)
        self._prologue.add_op(get)
        get.memref.name_hint = name
        return get.memref

    # Memory ----------------------------------------------------------------------

    def load(
        self, buffer: SSAValue, indices: Sequence[IndexLike], name: str | None = None
    ) -> Scalar:
        load = memref.LoadOp.get(buffer, [self.index(i).ssa for i in indices])
        self.insert(load)
        _name(load.res, name)
        return Scalar(self, load.res)

    def store(
        self, value: FloatLike, buffer: SSAValue, indices: Sequence[IndexLike]
    ) -> None:
        indices = [self.index(i).ssa for i in indices]
        assert isinstance(buffer.type, MemRefType)
        stored = self.scalar(value, buffer.type.element_type)
        self.insert(memref.StoreOp.get(stored.ssa, buffer, indices))

    # Loops -----------------------------------------------------------------------

    def _loop(
        self, lower: IndexLike, upper: IndexLike, name: str, init: Sequence[SSAValue]
    ) -> tuple[Block, Index] | Index | None:
        """A loop body block and its induction variable, or for a static
        single-trip loop the one index value, or None if it never runs."""
        lower, upper = self.index(lower), self.index(upper)
        if upper.hi <= lower.lo:
            return None
        if lower.static is not None and upper.static == lower.static + 1:
            return lower
        body = Block(arg_types=[IndexType(), *(v.type for v in init)])
        body.args[0].name_hint = name
        iv = Index(self, lower.lo, max(lower.lo, upper.hi - 1), body.args[0])
        return body, iv

    def _close(
        self,
        lower: IndexLike,
        upper: IndexLike,
        body: Block,
        init: Sequence[SSAValue],
        yielded: Sequence[SSAValue],
    ) -> Sequence[SSAValue]:
        Builder(InsertPoint.at_end(body)).insert(scf.YieldOp(*yielded))
        bounds = [self.index(v).ssa for v in (lower, upper, 1)]
        return self.insert(scf.ForOp(*bounds, init, body)).results

    def range(self, lower: IndexLike, upper: IndexLike, name: str) -> Iterator[Index]:
        """`for name in range(lower, upper)`: the loop body is whatever the
        caller builds while the iteration is suspended."""
        loop = self._loop(lower, upper, name, [])
        if loop is None:
            return
        if isinstance(loop, Index):
            yield loop
            return
        body, iv = loop
        outer, self.builder = self.builder, Builder(InsertPoint.at_end(body))
        try:
            yield iv
        finally:
            self.builder = outer
        self._close(lower, upper, body, [], [])

    def fold(
        self,
        lower: IndexLike,
        upper: IndexLike,
        name: str,
        init: FloatLike,
        step: Callable[[Index, Scalar], Scalar],
        carried: str = "acc",
    ) -> Scalar:
        """`acc = init; for name in range(lower, upper): acc = step(name, acc)`,
        the accumulator carried through the loop (`iter_args`): a register.
        `carried` names it inside and after the loop."""
        init = init if isinstance(init, Scalar) else self.scalar(init)
        loop = self._loop(lower, upper, name, [init.ssa])
        if loop is None:
            return init
        if isinstance(loop, Index):
            return step(loop, init)
        body, iv = loop
        body.args[1].name_hint = carried
        outer, self.builder = self.builder, Builder(InsertPoint.at_end(body))
        try:
            result = step(iv, Scalar(self, body.args[1]))
        finally:
            self.builder = outer
        (value,) = self._close(lower, upper, body, [init.ssa], [result.ssa])
        value.name_hint = carried
        return Scalar(self, value)

    def grid(
        self, sizes: Sequence[int], names: Sequence[str] | None = None
    ) -> Iterator[list[Index]]:
        """A row-major loop nest over `sizes` (innermost: the last dimension)."""
        return self.mapped_grid(sizes, lambda d, i, outer: i, names)

    def mapped_grid(
        self,
        sizes: Sequence[int],
        per_dim: Callable[[int, Index, list[T]], T],
        names: Sequence[str] | None = None,
    ) -> Iterator[list[T]]:
        """A row-major loop nest over `sizes` that yields, instead of the
        indices, `per_dim(d, index_d, outer)` for every dimension `d`, where
        `outer` holds the values of the enclosing dimensions. `per_dim` runs
        right inside the loop over `d`: what it computes is hoisted out of
        the inner loops."""
        names = names if names is not None else [f"i{d}" for d in range(len(sizes))]
        yield from self._grid(sizes, per_dim, names, [])

    def _grid(
        self,
        sizes: Sequence[int],
        per_dim: Callable[[int, Index, list[T]], T],
        names: Sequence[str],
        outer: list[T],
    ) -> Iterator[list[T]]:
        depth = len(outer)
        if depth == len(sizes):
            yield outer
            return
        for i in self.range(0, sizes[depth], names[depth]):
            value = per_dim(depth, i, outer)
            yield from self._grid(sizes, per_dim, names, [*outer, value])

    # Scalar math -------------------------------------------------------------------

    def _unary(
        self, op: Callable[[SSAValue], Operation], x: Scalar, name: str | None
    ) -> Scalar:
        result = self.insert(op(x.ssa)).results[0]
        _name(result, name)
        return Scalar(self, result)

    def exp(self, x: Scalar, name: str | None = None) -> Scalar:
        return self._unary(math.ExpOp, x, name)

    def log(self, x: Scalar, name: str | None = None) -> Scalar:
        return self._unary(math.LogOp, x, name)

    def tanh(self, x: Scalar, name: str | None = None) -> Scalar:
        return self._unary(math.TanhOp, x, name)

    def erf(self, x: Scalar, name: str | None = None) -> Scalar:
        return self._unary(math.ErfOp, x, name)

    def sqrt(self, x: Scalar, name: str | None = None) -> Scalar:
        return self._unary(math.SqrtOp, x, name)

    def ceil(self, x: Scalar, name: str | None = None) -> Scalar:
        return self._unary(math.CeilOp, x, name)

    def _pair(self, a: FloatLike, b: FloatLike) -> tuple[Scalar, Scalar]:
        """Two operands of one float type (that of whichever is a Scalar)."""
        type_ = (a if isinstance(a, Scalar) else b).type
        return self.scalar(a, type_), self.scalar(b, type_)

    def binary(self, op: type[Operation], a: FloatLike, b: FloatLike) -> Scalar:
        a, b = self._pair(a, b)
        return Scalar(self, self.insert(op(a.ssa, b.ssa)).results[0])

    def maximum(self, a: FloatLike, b: FloatLike) -> Scalar:
        integer = isinstance(self._pair(a, b)[0].type, IntegerType)
        return self.binary(arith.MaxSIOp if integer else arith.MaximumfOp, a, b)

    def minimum(self, a: FloatLike, b: FloatLike) -> Scalar:
        integer = isinstance(self._pair(a, b)[0].type, IntegerType)
        return self.binary(arith.MinSIOp if integer else arith.MinimumfOp, a, b)

    def clamp(self, x: Scalar, low: float | None, high: float | None) -> Scalar:
        """`min(max(x, low), high)`; `None` leaves that side open."""
        if low is not None:
            x = self.maximum(x, low)
        if high is not None:
            x = self.minimum(x, high)
        return x

    def less(self, a: FloatLike, b: FloatLike) -> SSAValue:
        return self.compare("lt", a, b)

    def compare(self, relation: str, a: FloatLike, b: FloatLike) -> SSAValue:
        """An `i1` for `a <relation> b`, relation one of eq ne lt le gt ge
        (ordered for floats, signed for integers)."""
        a, b = self._pair(a, b)
        if isinstance(a.type, IntegerType):
            predicate = relation if relation in ("eq", "ne") else f"s{relation}"
            return self.insert(arith.CmpiOp(a.ssa, b.ssa, predicate)).result
        return self.insert(arith.CmpfOp(a.ssa, b.ssa, f"o{relation}")).result

    def convert(self, x: Scalar, type_: IntegerType, name: str | None = None):
        """`x` sign-extended or truncated (wrapping) to another integer type."""
        if x.type == type_:
            return x
        assert isinstance(x.type, IntegerType)
        wider = type_.width.data > x.type.width.data
        op = arith.ExtSIOp if wider else arith.TruncIOp
        return self._unary(lambda v: op(v, type_), x, name)

    def divide_truncating(self, a: FloatLike, b: FloatLike) -> Scalar:
        """Integer division rounding toward zero (C's `/`)."""
        return self.binary(arith.DivSIOp, a, b)

    def select(self, condition: SSAValue, a: FloatLike, b: FloatLike) -> Scalar:
        a, b = self._pair(a, b)
        return Scalar(self, self.insert(arith.SelectOp(condition, a.ssa, b.ssa)).result)

    def imax(self, a: IndexLike, b: IndexLike) -> Index:
        """`max(a, b)`, nothing emitted when the ranges decide it."""
        a, b = self.index(a), self.index(b)
        if a.lo >= b.hi:
            return a
        if b.lo >= a.hi:
            return b
        return a._binary(b, arith.MaxSIOp, max(a.lo, b.lo), max(a.hi, b.hi))

    def imin(self, a: IndexLike, b: IndexLike) -> Index:
        """`min(a, b)`, nothing emitted when the ranges decide it."""
        a, b = self.index(a), self.index(b)
        if a.hi <= b.lo:
            return a
        if b.hi <= a.lo:
            return b
        return a._binary(b, arith.MinSIOp, min(a.lo, b.lo), min(a.hi, b.hi))

    def all_of(self, conditions: Sequence[SSAValue]) -> SSAValue:
        result = conditions[0]
        for condition in conditions[1:]:
            result = self.insert(arith.AndIOp(result, condition)).result
        return result

    def any_of(self, conditions: Sequence[SSAValue]) -> SSAValue:
        result = conditions[0]
        for condition in conditions[1:]:
            result = self.insert(arith.OrIOp(result, condition)).result
        return result

    def in_range(self, value: Index, lower: int, upper: int) -> SSAValue | None:
        """An `i1` that says `lower <= value < upper`, or None when the range
        of `value` already says so."""
        checks = []
        if value.lo < lower:
            checks.append(arith.CmpiOp(value.ssa, self.index(lower).ssa, "sge"))
        if value.hi >= upper:
            checks.append(arith.CmpiOp(value.ssa, self.index(upper).ssa, "slt"))
        if not checks:
            return None
        return self.all_of([self.insert(check).result for check in checks])

    def as_i32(self, value: IndexLike) -> Scalar | int:
        """An index as an i32 (a Python int when static)."""
        value = self.index(value)
        if value.static is not None:
            return value.static
        return Scalar(self, self.insert(arith.IndexCastOp(value.ssa, i32)).result)

    def index_of(self, x: Scalar, lo: int, hi: int) -> Index:
        """An integer `x` as an index the caller knows lies in `[lo, hi]`
        (a table lookup by value)."""
        if lo == hi:
            return self.index(lo)
        cast = self.insert(arith.IndexCastOp(x.ssa, IndexType())).result
        return Index(self, lo, hi, cast)

    def to_float(self, value: IndexLike, type_: Attribute = f32) -> Scalar:
        """An index as a float (a constant when static)."""
        as_int = self.as_i32(value)
        if isinstance(as_int, int):
            return self.scalar(float(as_int), type_)
        return Scalar(self, self.insert(arith.SIToFPOp(as_int.ssa, type_)).result)

    def truncate(self, x: Scalar, lo: int, hi: int) -> Index:
        """`x` rounded toward zero, as an index the caller knows lies in
        `[lo, hi]` (C's float-to-int conversion)."""
        if lo == hi:
            return self.index(lo)
        as_int = Scalar(self, self.insert(arith.FPToSIOp(x.ssa, i32)).result)
        return self.index_of(as_int, lo, hi)
