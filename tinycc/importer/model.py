"""Loading an ONNX model into the form the converters expect.

Loading validates the file (protobuf, external data, checker, opset),
inlines model-local functions, gives every graph input a static shape (a
dynamic batch dimension is 1, anything else comes from `input_shapes`) and
runs ONNX shape inference. Every failure is a one-line `TinyccError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import onnx
import onnx.defs
import onnx.external_data_helper
import onnx.inliner
import onnx.shape_inference
import onnx.version_converter
from google.protobuf.message import DecodeError

from tinycc.errors import TinyccError

MIN_OPSET = 11
UPGRADE_OPSET = 13  # older models are converted to this opset on import
DEFAULT_DOMAINS = ("", "ai.onnx")
MODEL_NAME = "<model>"

ModelSource = str | Path | bytes | onnx.ModelProto


@dataclass
class PreparedModel:
    """A checked, inlined, shape-inferred model with static graph inputs."""

    model: onnx.ModelProto
    name: str
    opsets: dict[str, int]  # domain -> version; the default domain is ""
    value_types: dict[str, onnx.TypeProto]  # inferred, by value name

    @property
    def opset(self) -> int:
        return self.opsets[""]


def prepare(
    source: ModelSource,
    name: str | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
) -> PreparedModel:
    if name is None:
        name = str(source) if isinstance(source, str | Path) else MODEL_NAME
    model, base_dir = _load(source, name)
    _load_external_data(model, base_dir, name)
    if _default_opset(model, name) < MIN_OPSET:
        model = _upgrade(model, name)
    opsets = _opsets(model, name)
    _check(model, name)
    if model.functions:
        model = onnx.inliner.inline_local_functions(model)
    _fix_input_shapes(model, name, input_shapes or {})
    model = _infer_shapes(model, name)
    graph = model.graph
    value_types = {
        info.name: info.type
        for info in (*graph.input, *graph.value_info, *graph.output)
    }
    return PreparedModel(model, name, opsets, value_types)


def invalid(name: str, reason: str) -> TinyccError:
    return TinyccError(f"{name}: not a valid ONNX model ({reason})")


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _load(source: ModelSource, name: str) -> tuple[onnx.ModelProto, Path]:
    """The model (a private copy) and the directory its external data is in."""
    if isinstance(source, onnx.ModelProto):
        model = onnx.ModelProto()
        model.CopyFrom(source)
        return model, Path(name).parent
    if isinstance(source, bytes):
        data, base_dir = source, Path(name).parent
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise invalid(name, f"cannot read file: {error.strerror}") from error
        base_dir = path.parent
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except DecodeError as error:
        raise invalid(name, "not a protobuf ModelProto; truncated?") from error
    return model, base_dir


def _load_external_data(model: onnx.ModelProto, base_dir: Path, name: str) -> None:
    helper = onnx.external_data_helper
    for tensor in helper._get_all_tensors(model):
        if not helper.uses_external_data(tensor):
            continue
        location = helper.ExternalDataInfo(tensor).location
        if not (base_dir / location).is_file():
            raise TinyccError(
                f"{name}: external data file '{location}' of tensor '{tensor.name}' "
                f"not found in {base_dir.resolve()}"
            )
        try:
            helper.load_external_data_for_tensor(tensor, str(base_dir))
        except (OSError, ValueError, onnx.checker.ValidationError) as error:
            raise invalid(
                name, f"external data of '{tensor.name}': {_first_line(error)}"
            ) from error


def _default_opset(model: onnx.ModelProto, name: str) -> int:
    for entry in model.opset_import:
        if entry.domain in DEFAULT_DOMAINS:
            return entry.version
    raise invalid(name, "no ai.onnx opset import")


def _upgrade(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    """Opsets before 11 go through onnx's version converter to UPGRADE_OPSET.

    The converter keeps the old IR version, under which every initializer
    must also be a graph input; the upgraded graph is valid at IR 7.
    """
    old = _default_opset(model, name)
    try:
        upgraded = onnx.version_converter.convert_version(model, UPGRADE_OPSET)
    except Exception as error:  # the converter raises bare RuntimeErrors
        raise TinyccError(
            f"{name}: opset {old} is older than {MIN_OPSET} and onnx's version "
            f"converter could not upgrade it: {_first_line(error)}"
        ) from error
    upgraded.ir_version = max(upgraded.ir_version, 7)
    return upgraded


def _opsets(model: onnx.ModelProto, name: str) -> dict[str, int]:
    opsets = {
        "" if entry.domain in DEFAULT_DOMAINS else entry.domain: entry.version
        for entry in model.opset_import
    }
    newest = onnx.defs.onnx_opset_version()
    opset = _default_opset(model, name)
    if opset > newest:
        raise TinyccError(
            f"{name}: opset {opset} is newer than the installed onnx package knows "
            f"({newest})"
        )
    return opsets


def _check(model: onnx.ModelProto, name: str) -> None:
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as error:
        raise invalid(name, _first_line(error)) from error


def _fix_input_shapes(
    model: onnx.ModelProto, name: str, input_shapes: Mapping[str, Sequence[int]]
) -> None:
    """Make every graph input static; batch (dimension 0) defaults to 1."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [info for info in model.graph.input if info.name not in initializers]
    unknown = set(input_shapes) - {info.name for info in inputs}
    if unknown:
        raise TinyccError(
            f"{name}: --input-shape names {', '.join(sorted(unknown))}, which is not "
            f"a graph input (inputs: {', '.join(info.name for info in inputs)})"
        )
    for info in inputs:
        if not info.type.HasField("tensor_type"):
            raise TinyccError(f"{name}: input '{info.name}' is not a tensor")
        given = input_shapes.get(info.name)
        if given is not None:
            _set_given_shape(info, [int(d) for d in given], name)
        else:
            _set_default_shape(info, name)
    # Stale symbolic shapes of intermediate values would only get in the way.
    del model.graph.value_info[:]


def _set_given_shape(info: onnx.ValueInfoProto, given: list[int], name: str) -> None:
    shape = info.type.tensor_type.shape
    text = "x".join(map(str, given))
    if len(shape.dim) != len(given):
        raise TinyccError(
            f"{name}: input '{info.name}' has rank {len(shape.dim)} but "
            f"--input-shape {info.name}={text} has rank {len(given)}"
        )
    for dim, size in zip(shape.dim, given, strict=False):
        if dim.HasField("dim_value") and dim.dim_value != size:
            raise TinyccError(
                f"{name}: input '{info.name}' has shape {_shape_text(info)}, which "
                f"--input-shape {info.name}={text} contradicts"
            )
    if any(size < 1 for size in given):
        raise TinyccError(
            f"{name}: --input-shape {info.name}={text}: sizes must be >= 1"
        )
    del shape.dim[:]
    for size in given:
        shape.dim.add().dim_value = size


def _set_default_shape(info: onnx.ValueInfoProto, name: str) -> None:
    dims = info.type.tensor_type.shape.dim
    for index, dim in enumerate(dims):
        if dim.HasField("dim_value"):
            continue
        if index == 0:
            dim.dim_value = 1
            continue
        label = f"'{dim.dim_param}'" if dim.dim_param else str(index)
        raise TinyccError(
            f"{name}: input '{info.name}' has dynamic dimension {label}: pass "
            f"--input-shape {info.name}={_shape_text(info)}"
        )


def _shape_text(info: onnx.ValueInfoProto) -> str:
    """`1x3x<height>x<width>`: the static sizes and the names of the others."""
    parts = []
    for dim in info.type.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            parts.append(str(dim.dim_value))
        else:
            parts.append(f"<{dim.dim_param or '?'}>")
    return "x".join(parts)


def _infer_shapes(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    """Shapes of every value where ONNX knows them.

    Not strict: the converters compute every shape themselves (with the
    graph dialect's rules), and ONNX's inference is not always what runtimes
    do (before opset 22 it disagrees with onnxruntime and PyTorch on
    ceil-mode pooling), so a disagreement must not reject a valid model.
    """
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=True, data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as error:
        raise invalid(name, f"shape inference: {_first_line(error)}") from error
