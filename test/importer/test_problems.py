"""Unsupported models: every problem at once, each with its node and reason."""

from __future__ import annotations

import numpy as np
import pytest
from importer_testlib import make_model, seeded, tensor
from onnx import TensorProto, helper

from tinycc.errors import TinyccError
from tinycc.importer import (
    Problem,
    UnsupportedModelError,
    check_onnx,
    import_onnx,
)


def three_problem_model():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("Erf", ["a"], ["b"], name="erf"),
        helper.make_node("Sigmoid", ["b"], ["c"], name="sigmoid"),
        helper.make_node("Hardmax", ["c"], ["d"], name="hardmax"),
        helper.make_node(
            "Resize", ["d", "", "scales"], ["y"], name="resize", mode="cubic"
        ),
    ]
    constants = {
        "scales": np.array([1, 1, 2, 2], np.float32),
    }
    return make_model(nodes, {"x": [1, 2, 4, 4]}, {"y": [1, 2, 8, 8]}, constants)


def test_all_problems_are_reported_at_once() -> None:
    model = three_problem_model()
    problems = check_onnx(model)
    resize_reason = "mode=cubic is not supported (nearest and linear only)"
    assert problems == [
        Problem("erf", "Erf", "", 17, "unsupported operator"),
        Problem("hardmax", "Hardmax", "", 17, "unsupported operator"),
        Problem("resize", "Resize", "", 17, resize_reason),
    ]
    with pytest.raises(UnsupportedModelError) as info:
        import_onnx(model, name="net.onnx")
    assert info.value.problems == problems
    assert str(info.value).splitlines() == [
        "net.onnx: 3 unsupported node(s)",
        "  node 'erf' (Erf, opset 17): unsupported operator",
        "  node 'hardmax' (Hardmax, opset 17): unsupported operator",
        "  node 'resize' (Resize, opset 17): mode=cubic is not supported (nearest and "
        "linear only)",
    ]
    assert isinstance(info.value, TinyccError)


def test_supported_model_has_no_problems() -> None:
    node = helper.make_node("Relu", ["x"], ["y"])
    assert check_onnx(make_model([node], {"x": [2]}, {"y": [2]})) == []


def test_problem_text_names_a_custom_domain() -> None:
    problem = Problem("n", "QFoo", "com.example", 1, "unsupported operator")
    assert str(problem) == "node 'n' (com.example.QFoo, opset 1): unsupported operator"


def test_float16_model_is_a_dtype_problem() -> None:
    nodes = [
        helper.make_node("Cast", ["x"], ["h"], to=TensorProto.FLOAT16, name="to_half"),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Cast", ["r"], ["y"], to=TensorProto.FLOAT, name="to_float"),
    ]
    problems = check_onnx(make_model(nodes, {"x": [3]}, {"y": [3]}))
    assert [p.reason for p in problems] == [
        "Cast from float32 to float16 is not supported",
        "float16 tensors are not supported: tinycc compiles float32 and quantized "
        "(int8/int16) models; convert the model to float32",
        "Cast from float16 to float32 is not supported",
    ]


def test_double_input_is_a_dtype_problem() -> None:
    node = helper.make_node("Relu", ["x"], ["y"])
    model = make_model(
        [node],
        [tensor("x", [3], TensorProto.DOUBLE)],
        [tensor("y", [3], TensorProto.DOUBLE)],
    )
    (problem,) = check_onnx(model)
    assert str(problem).startswith("input 'x': double tensors are not supported")


def single(node, inputs, outputs, constants=None, opset=17) -> Problem:
    (problem,) = check_onnx(make_model([node], inputs, outputs, constants, opset))
    return problem


def test_max_pool_indices_output_is_rejected() -> None:
    node = helper.make_node("MaxPool", ["x"], ["y", "i"], kernel_shape=[2, 2])
    problem = single(
        node, {"x": [1, 1, 4, 4]},
        [tensor("y", [1, 1, 3, 3]), tensor("i", [1, 1, 3, 3], TensorProto.INT64)],
    )  # fmt: skip
    assert problem.reason == "the Indices output is not supported"


def test_batch_norm_training_outputs_are_rejected() -> None:
    params = {name: seeded((2,), i) ** 2 for i, name in enumerate("sbmv")}
    node = helper.make_node(
        "BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"],
        training_mode=1,
    )  # fmt: skip
    problem = single(
        node, {"x": [1, 2, 3, 3]}, {"y": [1, 2, 3, 3], "rm": [2], "rv": [2]}, params, 15
    )
    assert "running mean/variance" in problem.reason


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ({"coordinate_transformation_mode": "tf_crop_and_resize"},
         "coordinate_transformation_mode=tf_crop_and_resize is not supported"),
        ({"antialias": 1}, "antialias=1 is not supported: no antialiasing"),
    ],
)  # fmt: skip
def test_resize_variants(attrs, reason: str) -> None:
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], **attrs)
    constants = {
        "roi": np.array([0, 0, 0, 0, 1, 1, 1, 1], np.float32),
        "scales": np.array([1, 1, 2, 2], np.float32),
    }
    problem = single(node, {"x": [1, 1, 2, 2]}, {"y": [1, 1, 4, 4]}, constants, 18)
    assert problem.reason == reason


def test_resize_of_channels_is_rejected() -> None:
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"])
    constants = {"scales": np.array([1, 2, 1, 1], np.float32)}
    problem = single(node, {"x": [1, 1, 2, 2]}, {"y": [1, 2, 2, 2]}, constants)
    assert problem.reason == "only H and W can be resized"


def test_3d_convolution_is_rejected() -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"])
    problem = single(
        node,
        {"x": [1, 1, 3, 3, 3]},
        {"y": [1, 1, 1, 1, 1]},
        {"w": seeded((1, 1, 3, 3, 3))},
    )
    assert problem.reason == "3-D convolution is not supported (only 1-D and 2-D)"


def test_computed_reshape_target_is_rejected() -> None:
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    model = make_model(
        [node],
        [tensor("x", [2, 3]), tensor("shape", [2], TensorProto.INT64)],
        [tensor("y", [3, 2])],
    )
    problems = check_onnx(model)
    assert [str(p) for p in problems] == [
        "input 'shape': int64 tensors are not supported",
    ]


def test_downstream_of_a_failed_node_is_still_checked() -> None:
    nodes = [
        helper.make_node("Erf", ["x"], ["a"], name="erf"),
        helper.make_node("Relu", ["a"], ["b"], name="relu"),
        helper.make_node("Softplus", ["b"], ["y"], name="softplus"),
    ]
    problems = check_onnx(make_model(nodes, {"x": [3]}, {"y": [3]}))
    assert [p.node for p in problems] == ["erf", "softplus"]
