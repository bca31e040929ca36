"""The real networks the onnx wheel ships, `onnx/backend/test/data/light/`.

Each `light_<name>.onnx` is an ONNX model zoo network (opset 9, 224x224
input) whose weights were replaced by `ConstantOfShape` nodes (every weight
0.02) so that the file is small; `light_<name>_output_0.pb` holds its output
for the input onnx's backend test runner feeds it
(`Runner.generate_dummy_data(random=False)`: `arange(n).reshape(shape) / n`).
With constant weights the class scores are all equal, so these models test
structure (every layer, pad, stride, concat and layout of a real network)
rather than trained numerics.

`tinycc check` accepts:

- squeezenet, shufflenet, inception_v2, densenet121, resnet50, vgg19.

It rejects, with an `UnsupportedModelError` naming every LRN node:

- bvlc_alexnet, inception_v1, zfnet512: LocalResponseNormalization (LRN) has
  no converter.

Each accepted model is compiled, built (with sanitizers, which cost little
here: the weights file dominates the build) and run; its output must match
the stored one and onnxruntime's within 1e-5 of the output's scale, the bound
of every float test here: the stored outputs were computed by another
implementation, but no looser bound is needed (the largest difference,
densenet121's, is 2.2e-6 on outputs of 0.46; onnxruntime matches the stored
outputs exactly).

resnet50 is the slow one (25.6M weights: a 430 MB weights file, 85-110 s to
write, build and run). vgg19 is out of the default run (set
TINYCC_HEAVY_MODELS=1 to include it): its 143.7M weights take 300 s to write
as a 2.4 GB C file, which gcc 12 cannot compile in 16 GB of memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from c_pipeline_testlib import assert_close, run_in_c, run_onnxruntime

from tinycc.importer import UnsupportedModelError, check_onnx, import_onnx

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
HEAVY = os.environ.get("TINYCC_HEAVY_MODELS") == "1"
TOLERANCE = 1e-5

SUPPORTED = ["squeezenet", "shufflenet", "inception_v2", "densenet121", "resnet50"]
TOO_HEAVY = {
    "vgg19": "143.7M weights make a 2.4 GB C file (300 s to write) that gcc "
    "cannot build in 16 GB; TINYCC_HEAVY_MODELS=1 runs it",
}
UNSUPPORTED = {  # model -> the operators check_onnx must name
    "bvlc_alexnet": {"LRN"},
    "inception_v1": {"LRN"},
    "zfnet512": {"LRN"},
}


def model_path(name: str) -> Path:
    return LIGHT / f"light_{name}.onnx"


def runner_input(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """What onnx's backend test runner feeds a light model (and what the stored
    output was computed on): `arange(n) / n` in the input's shape."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    feeds = {}
    for info in model.graph.input:
        if info.name in initializers:
            continue
        shape = [d.dim_value or 1 for d in info.type.tensor_type.shape.dim]
        count = int(np.prod(shape))
        feeds[info.name] = (np.arange(count).reshape(shape) / count).astype(np.float32)
    return feeds


def stored_outputs(name: str, model: onnx.ModelProto) -> dict[str, np.ndarray]:
    outputs = {}
    for index, info in enumerate(model.graph.output):
        tensor = onnx.load_tensor(str(LIGHT / f"light_{name}_output_{index}.pb"))
        outputs[info.name] = onnx.numpy_helper.to_array(tensor)
    return outputs


def test_every_light_model_is_classified() -> None:
    found = {path.stem.removeprefix("light_") for path in LIGHT.glob("light_*.onnx")}
    assert found == {*SUPPORTED, *TOO_HEAVY, *UNSUPPORTED}


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_light_model_is_rejected(name: str) -> None:
    path = model_path(name)
    nodes = [n for n in onnx.load(path).graph.node if n.op_type in UNSUPPORTED[name]]
    with pytest.raises(UnsupportedModelError) as error:
        import_onnx(path)
    problems = error.value.problems
    assert problems == check_onnx(path)
    assert [(p.op_type, p.reason) for p in problems] == [
        (n.op_type, "unsupported operator") for n in nodes
    ]


@pytest.mark.parametrize("name", TOO_HEAVY)
def test_heavy_light_model_is_accepted(name: str) -> None:
    assert check_onnx(model_path(name)) == []


@pytest.mark.parametrize(
    "name",
    [
        *SUPPORTED,
        *(
            pytest.param(name, marks=pytest.mark.skipif(not HEAVY, reason=reason))
            for name, reason in TOO_HEAVY.items()
        ),
    ],
)
def test_light_model_runs_in_c(name: str, tmp_path: Path) -> None:
    path = model_path(name)
    assert check_onnx(path) == []
    model = onnx.load(path)
    feeds = runner_input(model)
    ours = run_in_c(path, tmp_path, feeds)
    assert_close(ours, stored_outputs(name, model), TOLERANCE, "stored output")
    assert_close(ours, run_onnxruntime(path, feeds), TOLERANCE, "onnxruntime")
