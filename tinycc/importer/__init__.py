"""The ONNX importer: an ONNX model as a verified graph-dialect module.

    model = import_onnx("net.onnx", input_shapes={"x": (1, 3, 224, 224)})
    text, arrays = tinycc.ir.print_module(model.module)

`import_onnx` raises `UnsupportedModelError` listing every unsupported node
at once; `check_onnx` returns that list instead. Bad files and missing
shapes are one-line `TinyccError`s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp

from tinycc.importer.context import CONVERTERS
from tinycc.importer.convert import Conversion, convert
from tinycc.importer.model import ModelSource, prepare
from tinycc.importer.problems import Problem, UnsupportedModelError

__all__ = [
    "ImportedModel",
    "Problem",
    "UnsupportedModelError",
    "check_onnx",
    "import_onnx",
    "supported_op_types",
]


@dataclass
class ImportedModel:
    """A verified `builtin.module` holding `func.func @main`, and its origin."""

    module: ModuleOp
    opset: int
    inputs: list[str]  # ONNX names, in argument order
    outputs: list[str]  # ONNX names, in result order
    producer: str  # e.g. "pytorch 2.3"


def _convert(
    source: ModelSource,
    name: str | None,
    input_shapes: Mapping[str, Sequence[int]] | None,
) -> tuple[Conversion, str, int, str]:
    prepared = prepare(source, name, input_shapes)
    model = prepared.model
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    return convert(prepared), prepared.name, prepared.opset, producer


def import_onnx(
    source: ModelSource,
    *,
    name: str | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
) -> ImportedModel:
    """Import a model given as a path, serialized bytes or a `ModelProto`.

    `name` is the file name used in messages (default: the path, or
    "<model>"); `input_shapes` fixes dynamic dimensions of graph inputs.
    """
    conversion, file, opset, producer = _convert(source, name, input_shapes)
    if conversion.module is None:
        raise UnsupportedModelError(file, conversion.problems)
    return ImportedModel(
        conversion.module, opset, conversion.inputs, conversion.outputs, producer
    )


def check_onnx(
    source: ModelSource,
    *,
    name: str | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
) -> list[Problem]:
    """Every unsupported thing in the model; `[]` if it imports."""
    conversion, _, _, _ = _convert(source, name, input_shapes)
    return conversion.problems


def supported_op_types() -> frozenset[str]:
    """The ai.onnx operators with a converter (constant subgraphs of any op fold)."""
    return frozenset(op_type for domain, op_type in CONVERTERS if domain == "")
