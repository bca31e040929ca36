"""Weights: numpy arrays inside IR, and the `.weights.npz` side file.

In memory a `graph.constant` holds its data as a bytes-backed
`DenseIntOrFPElementsAttr` (building one from bytes costs ~1 ms for millions
of elements; the per-element xDSL APIs are ~1000x slower). Printed IR refers
to large constants by name only; their data travels in a side file
`model.weights.npz` next to `model.mlir`. Printing deposits the arrays into the
active `WeightSink`; parsing looks names up in the active `WeightSource`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    Float32Type,
    Float64Type,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute

# Constants with at most this many elements print inline in the IR.
INLINE_ELEMENTS = 16

_NUMPY_TO_XDSL: dict[np.dtype, Attribute] = {
    np.dtype("float32"): Float32Type(),
    np.dtype("float64"): Float64Type(),
    np.dtype("int8"): IntegerType(8),
    np.dtype("uint8"): IntegerType(8, Signedness.UNSIGNED),
    np.dtype("int16"): IntegerType(16),
    np.dtype("uint16"): IntegerType(16, Signedness.UNSIGNED),
    np.dtype("int32"): IntegerType(32),
    np.dtype("int64"): IntegerType(64),
}
_XDSL_TO_NUMPY = {attr: dtype for dtype, attr in _NUMPY_TO_XDSL.items()}


def xdsl_element_type(dtype: np.dtype) -> Attribute:
    try:
        return _NUMPY_TO_XDSL[np.dtype(dtype)]
    except KeyError:
        raise ValueError(f"unsupported tensor element type {dtype}") from None


def numpy_dtype(element_type: Attribute) -> np.dtype:
    try:
        return _XDSL_TO_NUMPY[element_type]
    except KeyError:
        raise ValueError(f"no numpy dtype for {element_type}") from None


def dense_from_numpy(array: np.ndarray) -> DenseIntOrFPElementsAttr:
    """A dense attribute sharing nothing with `array`, built from its bytes."""
    array = np.asarray(array, order="C")  # ascontiguousarray makes 0-d arrays 1-d
    tensor_type = TensorType(xdsl_element_type(array.dtype), array.shape)
    return DenseIntOrFPElementsAttr(tensor_type, BytesAttr(array.tobytes()))


def numpy_from_dense(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """A read-only numpy view of a dense attribute's bytes."""
    dtype = numpy_dtype(attr.get_element_type())
    return np.frombuffer(attr.data.data, dtype=dtype).reshape(attr.get_shape())


# Side file I/O --------------------------------------------------------------
_source: ContextVar[Mapping[str, np.ndarray] | None] = ContextVar(
    "weights_source", default=None
)
_sink: ContextVar[dict[str, np.ndarray] | None] = ContextVar(
    "weights_sink", default=None
)


@contextmanager
def reading(weights: Mapping[str, np.ndarray]) -> Iterator[None]:
    """Within this block, parsed `graph.constant @name` ops find their data."""
    token = _source.set(weights)
    try:
        yield
    finally:
        _source.reset(token)


@contextmanager
def collecting() -> Iterator[dict[str, np.ndarray]]:
    """Within this block, printed named constants deposit their data here."""
    sink: dict[str, np.ndarray] = {}
    token = _sink.set(sink)
    try:
        yield sink
    finally:
        _sink.reset(token)


def lookup(name: str) -> np.ndarray | None:
    source = _source.get()
    return None if source is None else source.get(name)


def deposit(name: str, array: np.ndarray) -> None:
    sink = _sink.get()
    if sink is not None:
        sink[name] = array


def side_file_path(ir_path: str | Path) -> Path:
    """`model.mlir` -> `model.weights.npz`."""
    path = Path(ir_path)
    return path.with_name(path.stem + ".weights.npz")


def save_npz(path: str | Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write arrays as an `.npz`, byte-identical for identical content.

    `np.savez` stamps the current time into the zip entries; this does not.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            buffer = BytesIO()
            np.lib.format.write_array(buffer, np.asarray(arrays[name]))
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, buffer.getvalue())


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
