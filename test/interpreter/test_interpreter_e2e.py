"""ONNX models through the importer and the reference interpreter.

onnxruntime runs the same model file; `run_module` takes and returns ONNX
layouts and dtypes, so the outputs compare directly.
"""

from __future__ import annotations

import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from test_interpreter_ops import assert_close

from tinycc import zoo
from tinycc.importer import import_onnx
from tinycc.interpreter import run_module


def onnxruntime_outputs(model: onnx.ModelProto, feeds: dict[str, np.ndarray]):
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


def make_model(nodes, inputs, outputs, initializers, opset=19) -> onnx.ModelProto:
    graph_proto = helper.make_graph(
        nodes,
        "m",
        inputs,
        outputs,
        [numpy_helper.from_array(a, n) for n, a in initializers.items()],
    )
    model = helper.make_model(
        graph_proto, opset_imports=[helper.make_opsetid("", opset)], ir_version=9
    )
    # Output shapes from ONNX's own shape inference (the importer wants them).
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def test_nchw_feature_maps_through_pooling_and_resize():
    """Windows with ceil mode and padding, and a resize, on NCHW outputs.

    No window starts in the end padding: onnx's shape inference keeps such a
    ceil-mode window, onnxruntime (and the graph dialect) drop it.
    """
    x = np.random.default_rng(0).standard_normal((1, 3, 9, 7)).astype(np.float32)
    nodes = [
        helper.make_node(
            "MaxPool", ["x"], ["m"], kernel_shape=[3, 3], strides=[2, 2],
            pads=[1, 0, 1, 1], ceil_mode=1,
        ),
        helper.make_node(
            "AveragePool", ["x"], ["a"], kernel_shape=[3, 2], strides=[2, 2],
            pads=[0, 1, 1, 0], ceil_mode=1, count_include_pad=1,
        ),
        helper.make_node(
            "Resize", ["m", "", "s"], ["r"], mode="linear",
            coordinate_transformation_mode="half_pixel",
        ),
    ]  # fmt: skip
    model = make_model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in "ar"],
        {"s": np.array([1, 1, 2, 1.5], np.float32)},
    )
    ours = run_module(import_onnx(model).module, {"x": x})
    expected = onnxruntime_outputs(model, {"x": x})
    assert set(ours) == set(expected)
    for name, want in expected.items():
        assert_close(ours[name], want)


def test_qlinearconv_model_within_one_lsb():
    """QOperator form: uint8 in and out, per-channel int8 weights, int32 bias."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, (1, 4, 8, 8), endpoint=True).astype(np.uint8)
    w_scales = rng.uniform(0.002, 0.01, 6).astype(np.float32)
    initializers = {
        "xs": np.float32(0.02),
        "xz": np.uint8(120),
        "w": rng.integers(-127, 127, (6, 4, 3, 3), endpoint=True).astype(np.int8),
        "ws": w_scales,
        "wz": np.zeros(6, np.int8),
        "ys": np.float32(0.01),
        "yz": np.uint8(128),
        "b": rng.integers(-2000, 2000, 6).astype(np.int32),
    }
    node = helper.make_node(
        "QLinearConv",
        ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"],
        ["y"],
        pads=[1, 1, 1, 1],
        strides=[2, 1],
    )
    model = make_model(
        [node],
        [helper.make_tensor_value_info("x", TensorProto.UINT8, x.shape)],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, None)],
        initializers,
    )
    ours = run_module(import_onnx(model).module, {"x": x})["y"]
    expected = onnxruntime_outputs(model, {"x": x})["y"]
    assert ours.dtype == np.uint8 and ours.shape == expected.shape
    assert np.abs(ours.astype(int) - expected.astype(int)).max() <= 1
    assert len(np.unique(expected)) > 20  # not a saturated, trivial output


def test_mobilenet_v2_runs_in_seconds():
    model = zoo.mobilenet_v2(0.35, 144)
    module = import_onnx(model).module
    feeds = zoo.random_input(model)
    start = time.perf_counter()
    ours = run_module(module, feeds)
    elapsed = time.perf_counter() - start
    for name, want in onnxruntime_outputs(model, feeds).items():
        assert_close(ours[name], want)
    assert elapsed < 5.0
