"""The `quant` dialect: uniformly quantized element types.

Modelled on MLIR's `!quant.uniform`. A quantized value `q` of storage type
`i8` stands for the real number `scale * (q - zero_point)`:

    !quant.uniform<i8:f32, 0.0235:-128>                 per tensor
    !quant.uniform<i8:f32:0, {0.01:0, 0.02:0, 0.5:0}>    per axis (axis 0)

Storage types are `i8`, `u8`, `i16`, `u16` and `i32` (int32 biases whose
scale is `s_input * s_weight`). The type is an element type: it goes inside
a builtin `tensor<...>`, so int8 graphs are ordinary IR.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import (
    ArrayAttr,
    Float32Type,
    FloatData,
    IntAttr,
    IntegerType,
    Signedness,
)
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from tinycc import weights

# Storage spelling (MLIR's) -> (bit width, signed).
STORAGE_TYPES: dict[str, tuple[int, bool]] = {
    "i8": (8, True),
    "u8": (8, False),
    "i16": (16, True),
    "u16": (16, False),
    "i32": (32, True),
}

PER_TENSOR = -1


def float_literal(value: float) -> str:
    """Shortest text that parses back to exactly `value` (MLIR wants a '.')."""
    text = repr(float(value))
    if "." in text or "inf" in text or "nan" in text:
        return text
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}.0" + (f"e{exponent}" if exponent else "")


def storage_type(spelling: str) -> IntegerType:
    width, signed = STORAGE_TYPES[spelling]
    return IntegerType(width, Signedness.SIGNLESS if signed else Signedness.UNSIGNED)


def storage_spelling(storage: IntegerType) -> str:
    prefix = "u" if storage.signedness.data == Signedness.UNSIGNED else "i"
    return f"{prefix}{storage.width.data}"


@irdl_attr_definition
class UniformQuantizedType(ParametrizedAttribute, TypeAttribute):
    """Uniform (affine) quantization, per tensor or along one axis."""

    name = "quant.uniform"

    storage: IntegerType
    expressed: Attribute
    axis: IntAttr
    scales: ArrayAttr[FloatData]
    zero_points: ArrayAttr[IntAttr]

    def __init__(
        self,
        storage: str | IntegerType,
        scales: Sequence[float],
        zero_points: Sequence[int],
        axis: int = PER_TENSOR,
        expressed: Attribute | None = None,
    ):
        if isinstance(storage, str):
            storage = storage_type(storage)
        super().__init__(
            storage,
            expressed if expressed is not None else Float32Type(),
            IntAttr(axis),
            ArrayAttr([FloatData(float(s)) for s in scales]),
            ArrayAttr([IntAttr(int(z)) for z in zero_points]),
        )

    # Accessors -------------------------------------------------------------
    @property
    def is_per_axis(self) -> bool:
        return self.axis.data != PER_TENSOR

    @property
    def scale_values(self) -> tuple[float, ...]:
        return tuple(s.data for s in self.scales.data)

    @property
    def zero_point_values(self) -> tuple[int, ...]:
        return tuple(z.data for z in self.zero_points.data)

    @property
    def storage_name(self) -> str:
        return storage_spelling(self.storage)

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(
            ("int" if self.storage_name[0] == "i" else "uint")
            + str(self.storage.width.data)
        )

    @property
    def storage_range(self) -> tuple[int, int]:
        info = np.iinfo(self.numpy_dtype)
        return int(info.min), int(info.max)

    def with_axis(self, axis: int) -> UniformQuantizedType:
        """The same quantization with its axis renumbered (layout changes)."""
        return UniformQuantizedType(
            self.storage,
            self.scale_values,
            self.zero_point_values,
            axis,
            self.expressed,
        )

    def verify(self) -> None:
        if self.storage_name not in STORAGE_TYPES:
            raise VerifyException(
                f"unsupported storage type {self.storage_name}, expected one of "
                f"{', '.join(STORAGE_TYPES)}"
            )
        if len(self.scales.data) != len(self.zero_points.data):
            raise VerifyException("quant.uniform needs one zero point per scale")
        if not self.is_per_axis and len(self.scales.data) != 1:
            raise VerifyException("a per-tensor quant.uniform has exactly one scale")
        if self.is_per_axis and self.axis.data < 0:
            raise VerifyException("quant.uniform axis must be non-negative")
        low, high = self.storage_range
        for scale, zero_point in zip(
            self.scale_values, self.zero_point_values, strict=True
        ):
            if not scale > 0:
                raise VerifyException(f"quant.uniform scale {scale} is not positive")
            if not low <= zero_point <= high:
                raise VerifyException(
                    f"zero point {zero_point} outside the {self.storage_name} range"
                )

    # Syntax ----------------------------------------------------------------
    def print_by_reference(self, printer: Printer, name: str) -> None:
        """`!quant.uniform<i8:f32:0, @name>`, the parameters in the weights file.

        A per-channel type of a wide layer holds thousands of scales; printed
        inline they would dwarf the IR, so they travel with the weights as
        `<name>.scales` and `<name>.zero_points`.
        """
        printer.print_string(f"!{self.name}<{self.storage_name}:")
        printer.print_attribute(self.expressed)
        printer.print_string(f":{self.axis.data}, @{name}>")
        weights.deposit(f"{name}.scales", np.array(self.scale_values, np.float64))
        weights.deposit(
            f"{name}.zero_points", np.array(self.zero_point_values, np.int64)
        )

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string(f"{self.storage_name}:")
            printer.print_attribute(self.expressed)
            pairs = [
                f"{float_literal(s)}:{z}"
                for s, z in zip(self.scale_values, self.zero_point_values, strict=True)
            ]
            if self.is_per_axis:
                printer.print_string(f":{self.axis.data}, {{{', '.join(pairs)}}}")
            else:
                printer.print_string(f", {pairs[0]}")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            spelling = parser.parse_keyword_in(tuple(STORAGE_TYPES), " as storage type")
            parser.parse_punctuation(":")
            expressed = parser.parse_type()
            axis = PER_TENSOR
            if parser.parse_optional_punctuation(":") is not None:
                axis = parser.parse_integer(allow_negative=False)
            parser.parse_punctuation(",")

            def parse_pair() -> tuple[float, int]:
                scale = parser.parse_number()
                parser.parse_punctuation(":")
                return float(scale), parser.parse_integer()

            if axis == PER_TENSOR:
                pairs = [parse_pair()]
            elif (reference := parser.parse_optional_symbol_name()) is not None:
                pairs = _stored_parameters(parser, reference.data)
            else:
                pairs = parser.parse_comma_separated_list(
                    parser.Delimiter.BRACES, parse_pair
                )
        return (
            storage_type(spelling),
            expressed,
            IntAttr(axis),
            ArrayAttr([FloatData(s) for s, _ in pairs]),
            ArrayAttr([IntAttr(z) for _, z in pairs]),
        )


def _stored_parameters(parser: AttrParser, name: str) -> list[tuple[float, int]]:
    """The (scale, zero point) pairs `@name` refers to in the weights file."""
    scales = weights.lookup(f"{name}.scales")
    zero_points = weights.lookup(f"{name}.zero_points")
    if scales is None or zero_points is None or scales.shape != zero_points.shape:
        parser.raise_error(
            f"no quantization parameters for @{name} (is the weights side file "
            "missing?)"
        )
    return [(float(s), int(z)) for s, z in zip(scales, zero_points, strict=True)]


Quant = Dialect("quant", [], [UniformQuantizedType])
