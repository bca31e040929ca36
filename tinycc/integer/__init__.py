"""Integer-only semantics of quantized graph ops: what int8 code computes.

The graph level gives a quantized op its ONNX meaning (dequantize, real op,
quantize). Compiling to integer code pins down *how* the result is rounded;
`graph-int8-rounding` records that choice on every quantized op as the
`quant.rounding` attribute, and from then on the op means what this package
computes, bit for bit:

- `tflite` (the default of `tinycc compile`): TFLite's int8 specification as
  its reference kernels implement it: 32-bit fixed-point multipliers and
  gemmlowp's double rounding. TFLite Micro gives the same bytes.
- `onnx`: one rounding, half to even, of the exact rescaled accumulator, the
  ONNX QDQ definition computed in fixed point; within 1 LSB of onnxruntime.

`fixedpoint` holds the arithmetic primitives, `gemmlowp` gemmlowp's
fixed-point functions (exp, logistic, tanh, reciprocal, log), `params` the compile-time
constants derived from the quantized types (shared by the numpy reference,
`tinycc.interpreter.integer`, and the C kernels, so both use the same
numbers).
"""

from __future__ import annotations

from typing import Literal

from xdsl.dialects.builtin import StringAttr
from xdsl.ir import Operation

from tinycc.errors import TinyccError

Rounding = Literal["tflite", "onnx"]
ROUNDINGS: tuple[Rounding, ...] = ("tflite", "onnx")
ROUNDING_ATTR = "quant.rounding"


def rounding_of(op: Operation) -> Rounding | None:
    """The integer semantics chosen for `op`, None while it keeps the ONNX
    (dequantize, real op, quantize) meaning of the graph level."""
    attr = op.attributes.get(ROUNDING_ATTR)
    if not isinstance(attr, StringAttr):
        return None
    if attr.data not in ROUNDINGS:
        raise TinyccError(
            f"{op.name}: {ROUNDING_ATTR} must be one of {', '.join(ROUNDINGS)}, "
            f"not '{attr.data}'"
        )
    return attr.data  # type: ignore[return-value]
