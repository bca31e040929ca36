"""The onnx wheel's conformance cases through importer + reference interpreter.

Every case of `onnx/backend/test/data/{pytorch-converted,pytorch-operator,
simple}` runs: one whose ops tinycc claims must import and match the
expected outputs stored with the case (the independent oracle); any other
must be rejected with `UnsupportedModelError`, never crash. A case that uses
only claimed ops on 1-D/2-D data may not be rejected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tinycc.importer import UnsupportedModelError, import_onnx, supported_op_types
from tinycc.interpreter import run_module

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
SUITES = ("pytorch-converted", "pytorch-operator", "simple")
CASES = sorted(p for suite in SUITES for p in (DATA / suite).iterdir() if p.is_dir())


def read_tensors(folder: Path, prefix: str) -> list[np.ndarray]:
    files = sorted(
        folder.glob(f"{prefix}_*.pb"), key=lambda p: int(p.stem.split("_")[1])
    )
    arrays = []
    for path in files:
        tensor = onnx.TensorProto()
        tensor.ParseFromString(path.read_bytes())
        arrays.append(numpy_helper.to_array(tensor))
    return arrays


# Opset-6 models that rely on PRelu's legacy channel broadcasting: onnx's
# version converter keeps the [C] slope, which opset 7+ broadcasting rejects
# (onnxruntime refuses the upgraded model too). They must be rejected cleanly.
INVALID_AFTER_UPGRADE = {"test_PReLU_1d_multiparam", "test_PReLU_2d_multiparam"}


def claimed(model: onnx.ModelProto, case: Path) -> bool:
    """Only claimed ops on float32 1-D/2-D data (no rank-5 volumes)."""
    ops = {node.op_type for node in model.graph.node}
    tensors = [v.type.tensor_type for v in model.graph.input]
    return (
        ops <= supported_op_types()
        and all(t.elem_type == onnx.TensorProto.FLOAT for t in tensors)
        and max((len(t.shape.dim) for t in tensors), default=0) <= 4
        and case.name not in INVALID_AFTER_UPGRADE
    )


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_conformance_case(case: Path) -> None:
    model = onnx.load(case / "model.onnx")
    try:
        module = import_onnx(case / "model.onnx").module
    except UnsupportedModelError as error:
        assert not claimed(model, case), f"claimed ops rejected: {error}"
        return
    initializers = {t.name for t in model.graph.initializer}
    input_names = [v.name for v in model.graph.input if v.name not in initializers]
    output_names = [v.name for v in model.graph.output]
    datasets = sorted(case.glob("test_data_set_*"))
    assert datasets
    for dataset in datasets:
        feeds = dict(zip(input_names, read_tensors(dataset, "input"), strict=True))
        expected = read_tensors(dataset, "output")
        actual = run_module(module, feeds)
        for name, want in zip(output_names, expected, strict=True):
            got = actual[name]
            assert got.shape == want.shape, name
            scale = max(1.0, float(np.max(np.abs(want), initial=0)))
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)
