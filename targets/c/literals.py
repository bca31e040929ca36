"""C types and exact literals for IR types and values.

Floating-point literals are exact: a value whose exact decimal expansion is
short (a multiple of 2^-10 below 2^24: `0.5f`, `6.0f`, `-128.0f`) prints in
decimal, every other value as a C99 hexadecimal float (`0x1.99999ap-4f`).
C99 lets a compiler round a *decimal* constant to either neighbour of the
nearest value (6.4.4.2p3); a hexadecimal constant, or a decimal one that is
exactly representable, leaves it no choice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    MemRefType,
    NoneAttr,
    Signedness,
)
from xdsl.ir import Attribute

from tinycc.errors import TinyccError

# Integer and float widths the C target knows, with their <stdint.h> names.
_INT_WIDTHS = (8, 16, 32, 64)
_SHORT_DECIMAL_SCALE = 1024.0  # 2^10: at most 10 fractional decimal digits
_SHORT_DECIMAL_LIMIT = float(2**24)
_F32 = Float32Type()
_HEX_TRAILING_ZEROS = re.compile(r"\.?0+p")


def c_type(type_: Attribute) -> str:
    """The C type of a scalar IR type.

    `index` is `ptrdiff_t`: MLIR's index is pointer-sized and signed, which is
    exactly `ptrdiff_t` (32 bits on Cortex-M and Xtensa, 64 on the host), so
    index arithmetic can address any buffer the target can hold.
    """
    if isinstance(type_, IndexType):
        return "ptrdiff_t"
    if isinstance(type_, Float32Type):
        return "float"
    if isinstance(type_, Float64Type):
        return "double"
    if isinstance(type_, IntegerType):
        width = type_.width.data
        if width == 1:
            return "bool"
        if width in _INT_WIDTHS:
            unsigned = type_.signedness.data == Signedness.UNSIGNED
            return f"{'u' if unsigned else ''}int{width}_t"
    raise TinyccError(f"c target: no C type for {type_}")


def unsigned_c_type(type_: Attribute) -> str:
    """The unsigned C type of the same width (`size_t` for index)."""
    if isinstance(type_, IndexType):
        return "size_t"
    name = c_type(type_)
    return name if name.startswith("u") or name == "bool" else "u" + name


def wrapping_c_type(type_: IntegerType) -> str:
    """The unsigned type in which `+ - * <<` wrap like MLIR's integers.

    Narrower types would promote to (signed) `int`, where `uint16_t * uint16_t`
    can overflow; uint32_t and uint64_t do not promote on 32/64-bit targets.
    """
    return "uint64_t" if type_.width.data == 64 else "uint32_t"


def element_bytes(type_: Attribute) -> int:
    if isinstance(type_, Float32Type):
        return 4
    if isinstance(type_, Float64Type):
        return 8
    if isinstance(type_, IntegerType) and type_.width.data in _INT_WIDTHS:
        return type_.width.data // 8
    raise TinyccError(f"c target: no C element type for {type_}")


def memref_shape(type_: MemRefType) -> tuple[int, ...]:
    shape = tuple(type_.get_shape())
    if any(d < 0 for d in shape):
        raise TinyccError(f"c target: dynamic shape in {type_}")
    if not isinstance(type_.layout, NoneAttr):
        raise TinyccError(f"c target: only row-major memrefs, not {type_}")
    return shape


def memref_elements(type_: MemRefType) -> int:
    return math.prod(memref_shape(type_))


def float_literal(value: float, type_: Attribute) -> str:
    """An exact C literal of type `float` (suffix f) or `double`."""
    suffix = "f" if isinstance(type_, Float32Type) else ""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INFINITY" if value > 0 else "-INFINITY"
    if _is_short_decimal(value):
        return repr(value) + suffix
    return _HEX_TRAILING_ZEROS.sub("p", value.hex(), count=1) + suffix


def _is_short_decimal(value: float) -> bool:
    scaled = value * _SHORT_DECIMAL_SCALE
    return (
        abs(value) < _SHORT_DECIMAL_LIMIT
        and scaled == math.floor(scaled)
        and Decimal(repr(value)) == Decimal(value)
    )


def int_literal(value: int, type_: Attribute) -> str:
    """A C literal of the integer IR type, `value` wrapped into its range."""
    if isinstance(type_, IndexType):
        return str(value)
    assert isinstance(type_, IntegerType)
    width = type_.width.data
    if width == 1:
        return "true" if value & 1 else "false"
    unsigned = type_.signedness.data == Signedness.UNSIGNED
    value &= (1 << width) - 1
    if not unsigned and value >= 1 << (width - 1):
        value -= 1 << width
    if unsigned:
        return f"UINT{width}_C({value})" if width >= 32 else str(value)
    if width >= 32 and value == -(1 << (width - 1)):
        return f"INT{width}_MIN"  # the literal -2147483648 is -(2147483648)
    return f"INT64_C({value})" if width == 64 else str(value)


def dense_array(attr: DenseIntOrFPElementsAttr, type_: MemRefType) -> np.ndarray:
    """The values of a global's initializer, flattened in row-major order."""
    element = type_.element_type
    dtype = _numpy_dtype(element)
    data = np.frombuffer(attr.data.data, dtype=dtype)
    count = memref_elements(type_)
    if data.size == 1 and count != 1:  # a splat stored once
        data = np.full(count, data[0], dtype=dtype)
    if data.size != count:
        raise TinyccError(
            f"c target: initializer has {data.size} elements, {type_} needs {count}"
        )
    return data


def _numpy_dtype(element: Attribute) -> np.dtype:
    if isinstance(element, Float32Type):
        return np.dtype("<f4")
    if isinstance(element, Float64Type):
        return np.dtype("<f8")
    name = c_type(element)
    return np.dtype(
        ("<u" if name.startswith("u") else "<i") + str(element_bytes(element))
    )


def array_literals(array: np.ndarray, element: Attribute) -> Iterator[str]:
    """Exact C literals of a flat array, one per element, in order."""
    if isinstance(element, Float32Type):
        yield from _float32_literals(np.asarray(array, np.float32).ravel())
        return
    if isinstance(element, Float64Type):
        for value in array.astype(np.float64).tolist():
            yield float_literal(value, element)
        return
    if element_bytes(element) <= 2:  # int8 weights: plain decimals, fast
        yield from map(str, array.tolist())
        return
    for value in array.tolist():
        yield int_literal(value, element)


def _float32_literals(values: np.ndarray) -> Iterator[str]:
    """`float_literal` of every float32, fast for the common case.

    Weight arrays hold millions of values: a normal float32 that is not a
    short decimal prints as the hex float built straight from its bits (the
    text `float_literal` gives, 4x faster); the rest take the general path.
    """
    bits = values.view(np.uint32)
    exponents = ((bits >> 23) & 0xFF).astype(np.int64)
    scaled = values.astype(np.float64) * _SHORT_DECIMAL_SCALE
    general = (
        (exponents == 0)
        | (exponents == 0xFF)
        | ((np.abs(values) < _SHORT_DECIMAL_LIMIT) & (scaled == np.floor(scaled)))
    )
    mantissas = ((bits & 0x7FFFFF) << 1).tolist()
    for value, negative, exponent, mantissa, slow in zip(
        values.astype(np.float64).tolist(),
        (bits >> 31).tolist(),
        exponents.tolist(),
        mantissas,
        general.tolist(),
        strict=True,
    ):
        if slow:
            yield float_literal(value, _F32)
            continue
        digits = f"{mantissa:06x}".rstrip("0")
        sign = "-" if negative else ""
        point = f".{digits}" if digits else ""
        yield f"{sign}0x1{point}p{exponent - 127:+d}f"


def is_special_literal(literal: str) -> bool:
    """Whether a literal is one of <math.h>'s NAN and INFINITY macros."""
    return literal.lstrip("-") in ("NAN", "INFINITY")


def shape_text(type_: MemRefType) -> str:
    shape = memref_shape(type_)
    return "x".join(str(d) for d in shape) if shape else "scalar"
