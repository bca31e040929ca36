"""ONNX element types and quantization parameters as tinycc types."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from tinycc.dialects.quant import PER_TENSOR, UniformQuantizedType
from tinycc.importer.problems import Unsupported

# Integer element types that can hold quantized values, by numpy dtype.
STORAGE = {
    np.dtype("int8"): "i8",
    np.dtype("uint8"): "u8",
    np.dtype("int16"): "i16",
    np.dtype("uint16"): "u16",
    np.dtype("int32"): "i32",
}

STORAGE_ELEM_TYPES = frozenset(
    helper.np_dtype_to_tensor_dtype(dtype) for dtype in STORAGE
)

UNSUPPORTED_FLOAT = (
    "{dtype} tensors are not supported: tinycc compiles float32 and quantized "
    "(int8/int16) models; convert the model to float32"
)


def dtype_name(elem_type: int) -> str:
    """`TensorProto.FLOAT16` -> `float16`."""
    return TensorProto.DataType.Name(elem_type).lower()


def check_activation_type(elem_type: int) -> None:
    """Raise `Unsupported` unless a computed tensor may have this type."""
    if elem_type == TensorProto.FLOAT or elem_type in STORAGE_ELEM_TYPES:
        return
    name = dtype_name(elem_type)
    if elem_type in (TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16):
        raise Unsupported(UNSUPPORTED_FLOAT.format(dtype=name))
    raise Unsupported(f"{name} tensors are not supported")


def storage_of(dtype: np.dtype) -> str:
    try:
        return STORAGE[np.dtype(dtype)]
    except KeyError:
        raise Unsupported(
            f"{np.dtype(dtype)} quantized tensors are not supported (int8, uint8, "
            "int16, uint16 or int32)"
        ) from None


def quantized_type(
    scale: np.ndarray,
    zero_point: np.ndarray | None,
    storage: np.dtype,
    axis: int,
    shape: tuple[int, ...],
) -> UniformQuantizedType:
    """The type of ONNX's `scale * (q - zero_point)` on a tensor of `shape`.

    A scale with one element is per tensor; a 1-D scale is per axis along
    `axis` (already normalized), whose extent it must match.
    """
    if not np.issubdtype(scale.dtype, np.floating):
        raise Unsupported(f"scale of type {scale.dtype} (expected float32)")
    if zero_point is None:
        zero_point = np.zeros(scale.shape, storage)
    if zero_point.dtype != storage:
        raise Unsupported(
            f"zero point of type {zero_point.dtype} for {np.dtype(storage)} data"
        )
    # One element each is per tensor whatever the shapes (onnxruntime writes
    # a scalar bias scale with a [1] zero point).
    if zero_point.shape != scale.shape and not scale.size == zero_point.size == 1:
        raise Unsupported("scale and zero point differ in shape")
    scales = [float(s) for s in scale.reshape(-1)]
    zero_points = [int(z) for z in zero_point.reshape(-1)]
    if any(not s > 0 for s in scales):
        raise Unsupported(f"quantization scale {min(scales)} is not positive")
    if scale.size == 1:
        return UniformQuantizedType(storage_of(storage), scales, zero_points)
    if scale.ndim != 1 or scale.size != shape[axis]:
        raise Unsupported(
            f"per-axis scale of shape {list(scale.shape)} does not match axis "
            f"{axis} of a tensor of shape {list(shape)}"
        )
    return UniformQuantizedType(storage_of(storage), scales, zero_points, axis)


def dequantize(array: np.ndarray, qtype: UniformQuantizedType) -> np.ndarray:
    """`scale * (q - zero_point)` in float32 (`qtype.axis` numbers `array`'s axes)."""
    scale = np.asarray(qtype.scale_values, np.float32)
    zero = np.asarray(qtype.zero_point_values, np.int64)
    if qtype.axis.data != PER_TENSOR:
        shape = [1] * array.ndim
        shape[qtype.axis.data] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return ((array.astype(np.int64) - zero) * scale).astype(np.float32)


def same_quantization(a: UniformQuantizedType, b: UniformQuantizedType) -> bool:
    """Equal storage, scales and zero points; the axis numbering may differ."""
    return (
        a.storage == b.storage
        and a.scale_values == b.scale_values
        and a.zero_point_values == b.zero_point_values
        and a.is_per_axis == b.is_per_axis
    )
