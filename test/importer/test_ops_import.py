"""Single operators: attribute handling across opsets, folded weights, names."""

from __future__ import annotations

import math

import numpy as np
import pytest
from importer_testlib import (
    constant_of,
    make_model,
    node_names,
    only,
    op_names,
    seeded,
    values,
)
from onnx import helper

from tinycc.dialects import graph
from tinycc.importer import import_onnx
from tinycc.ir import parse_module, print_module


def imported(nodes, inputs, outputs, initializers=None, opset=17):
    return import_onnx(make_model(nodes, inputs, outputs, initializers, opset)).module


# Linear layers ----------------------------------------------------------------


@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_folds_alpha_beta_and_transposition_into_constants(trans_b: int) -> None:
    a_weight = seeded((6, 4) if trans_b else (4, 6))
    bias = seeded((6,), 1)
    node = helper.make_node(
        "Gemm", ["x", "w", "b"], ["y"], alpha=0.5, beta=2.0, transB=trans_b
    )
    module = imported([node], {"x": [3, 4]}, {"y": [3, 6]}, {"w": a_weight, "b": bias})
    fc = only(module, graph.FullyConnectedOp)
    expected = 0.5 * (a_weight if trans_b else a_weight.T)
    np.testing.assert_allclose(constant_of(fc.weight), expected, rtol=1e-6)
    np.testing.assert_allclose(constant_of(fc.bias), 2.0 * bias, rtol=1e-6)
    assert op_names(module) == ["graph.fully_connected"]


def test_gemm_with_a_computed_b_is_a_matmul() -> None:
    node = helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)
    module = imported([node], {"x": [3, 4], "w": [5, 4]}, {"y": [3, 5]})
    assert op_names(module) == ["graph.transpose", "graph.matmul"]


def test_gemm_with_a_full_c_adds_it() -> None:
    node = helper.make_node("Gemm", ["x", "w", "c"], ["y"], beta=3.0)
    c = seeded((3, 5), 2)
    module = imported(
        [node], {"x": [3, 4]}, {"y": [3, 5]}, {"w": seeded((4, 5)), "c": c}
    )
    assert op_names(module) == ["graph.fully_connected", "graph.add"]
    np.testing.assert_allclose(constant_of(only(module, graph.AddOp).rhs), 3 * c)


def test_matmul_with_a_constant_rhs_is_fully_connected() -> None:
    weight = seeded((8, 3))
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    module = imported([node], {"x": [2, 5, 8]}, {"y": [2, 5, 3]}, {"w": weight})
    fc = only(module, graph.FullyConnectedOp)
    np.testing.assert_array_equal(constant_of(fc.weight), weight.T)
    assert graph.shape_of(fc.result) == (2, 5, 3)


def test_matmul_of_two_computed_tensors() -> None:
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    module = imported([node], {"a": [2, 3, 4], "b": [2, 4, 5]}, {"y": [2, 3, 5]})
    assert op_names(module) == ["graph.matmul"]


# Opset differences ------------------------------------------------------------


@pytest.mark.parametrize("opset", [11, 13])
def test_clip_bounds_are_inputs(opset: int) -> None:
    node = helper.make_node("Clip", ["x", "lo", "hi"], ["y"])
    bounds = {"lo": np.float32(-1.5), "hi": np.float32(6.0)}
    clamp = only(imported([node], {"x": [4]}, {"y": [4]}, bounds, opset), graph.ClampOp)
    assert (clamp.min.value.data, clamp.max.value.data) == (-1.5, 6.0)


def test_clip_with_one_bound_and_none() -> None:
    upper = helper.make_node("Clip", ["x", "", "hi"], ["y"])
    clamp = only(
        imported([upper], {"x": [4]}, {"y": [4]}, {"hi": np.float32(6)}), graph.ClampOp
    )
    assert (clamp.min.value.data, clamp.max.value.data) == (-math.inf, 6.0)
    bare = helper.make_node("Clip", ["x"], ["y"])
    assert op_names(imported([bare], {"x": [4]}, {"y": [4]})) == []


@pytest.mark.parametrize("opset", [13, 18])
def test_reduce_axes_attribute_or_input(opset: int) -> None:
    if opset < 18:
        node = helper.make_node("ReduceMax", ["x"], ["y"], axes=[-1], keepdims=0)
        constants = {}
    else:
        node = helper.make_node("ReduceMax", ["x", "axes"], ["y"], keepdims=0)
        constants = {"axes": np.array([-1])}
    module = imported([node], {"x": [2, 3, 4]}, {"y": [2, 3]}, constants, opset)
    reduce = only(module, graph.ReduceMaxOp)
    assert values(reduce.axes) == [2] and reduce.keepdims is None


@pytest.mark.parametrize("opset", [11, 13])
def test_reduce_sum_axes_moved_at_13(opset: int) -> None:
    inputs = ["x"] if opset < 13 else ["x", "axes"]
    attrs = {"axes": [1]} if opset < 13 else {}
    node = helper.make_node("ReduceSum", inputs, ["y"], **attrs)
    constants = {} if opset < 13 else {"axes": np.array([1])}
    module = imported([node], {"x": [2, 3]}, {"y": [2, 1]}, constants, opset)
    assert values(only(module, graph.ReduceSumOp).axes) == [1]


def test_reduce_with_empty_axes_noop_or_everything() -> None:
    noop = helper.make_node("ReduceMean", ["x"], ["y"], noop_with_empty_axes=1)
    assert op_names(imported([noop], {"x": [2, 3]}, {"y": [2, 3]}, opset=18)) == []
    full = helper.make_node("ReduceMean", ["x"], ["y"], keepdims=0)
    module = imported([full], {"x": [2, 3]}, {"y": []}, opset=18)
    assert values(only(module, graph.ReduceMeanOp).axes) == [0, 1]


def test_softmax_before_13_flattens_the_trailing_axes() -> None:
    node = helper.make_node("Softmax", ["x"], ["y"], axis=1)
    old = imported([node], {"x": [2, 3, 4]}, {"y": [2, 3, 4]}, opset=11)
    assert op_names(old) == ["graph.reshape", "graph.softmax", "graph.reshape"]
    assert graph.shape_of(only(old, graph.SoftmaxOp).input) == (2, 12)
    new = imported([node], {"x": [2, 3, 4]}, {"y": [2, 3, 4]}, opset=13)
    assert op_names(new) == ["graph.softmax"]
    assert only(new, graph.SoftmaxOp).axis.value.data == 1


def test_softmax_before_13_over_one_wide_axis_needs_no_reshape() -> None:
    node = helper.make_node("LogSoftmax", ["x"], ["y"])  # axis 1 by default
    module = imported([node], {"x": [1, 10, 1]}, {"y": [1, 10, 1]}, opset=11)
    assert op_names(module) == ["graph.log_softmax"]
    assert only(module, graph.LogSoftmaxOp).axis.value.data == 1


@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze_and_unsqueeze_axes(opset: int) -> None:
    if opset < 13:
        nodes = [
            helper.make_node("Unsqueeze", ["x"], ["u"], axes=[0, -1]),
            helper.make_node("Squeeze", ["u"], ["y"], axes=[0]),
        ]
        constants = {}
    else:
        nodes = [
            helper.make_node("Unsqueeze", ["x", "ua"], ["u"]),
            helper.make_node("Squeeze", ["u", "sa"], ["y"]),
        ]
        constants = {"ua": np.array([0, -1]), "sa": np.array([0])}
    module = imported(nodes, {"x": [2, 3]}, {"y": [2, 3, 1]}, constants, opset)
    assert op_names(module) == ["graph.reshape", "graph.reshape"]


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_split_becomes_slices(opset: int) -> None:
    outputs = {"a": [2, 2], "b": [2, 4]}
    if opset < 13:
        node = helper.make_node("Split", ["x"], ["a", "b"], axis=1, split=[2, 4])
        constants = {}
    elif opset < 18:
        node = helper.make_node("Split", ["x", "sizes"], ["a", "b"], axis=1)
        constants = {"sizes": np.array([2, 4])}
    else:
        node = helper.make_node("Split", ["x"], ["a", "b"], axis=1, num_outputs=2)
        outputs = {"a": [2, 3], "b": [2, 3]}
        constants = {}
    module = imported([node], {"x": [2, 6]}, outputs, constants, opset)
    slices = [op for op in module.walk() if isinstance(op, graph.SliceOp)]
    assert [graph.shape_of(s.result) for s in slices] == [
        tuple(s) for s in outputs.values()
    ]


def test_slice_normalizes_negative_and_huge_bounds() -> None:
    node = helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"])
    constants = {
        "s": np.array([-1, 0]),
        "e": np.array([-1000, np.iinfo(np.int64).max]),
        "a": np.array([0, 1]),
        "st": np.array([-2, 3]),
    }
    module = imported([node], {"x": [5, 7]}, {"y": [3, 3]}, constants)
    op = only(module, graph.SliceOp)
    assert (values(op.starts), values(op.ends), values(op.steps)) == (
        [4, 0], [-1, 7], [-2, 3],
    )  # fmt: skip


def test_pad_with_negative_pads_crops_first() -> None:
    node = helper.make_node("Pad", ["x", "p", "v"], ["y"])
    constants = {"p": np.array([-1, 2, 0, 1]), "v": np.float32(0.5)}
    module = imported([node], {"x": [4, 4]}, {"y": [3, 7]}, constants)
    assert op_names(module) == ["graph.slice", "graph.pad"]
    pad = only(module, graph.PadOp)
    assert values(pad.pads) == [0, 2, 0, 1] and pad.value.value.data == 0.5


def test_reshape_zero_and_minus_one() -> None:
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    module = imported(
        [node], {"x": [2, 3, 4]}, {"y": [2, 4, 3]}, {"shape": np.array([0, -1, 3])}
    )
    assert graph.shape_of(only(module, graph.ReshapeOp).result) == (2, 4, 3)


def test_resize_scales_and_sizes() -> None:
    for extra, constants in [
        (["scales"], {"scales": np.array([1, 1, 2, 3], np.float32)}),
        (["", "sizes"], {"sizes": np.array([1, 2, 8, 12])}),
    ]:
        node = helper.make_node(
            "Resize", ["x", "", *extra], ["y"], mode="nearest",
            coordinate_transformation_mode="asymmetric", nearest_mode="floor",
        )  # fmt: skip
        module = imported([node], {"x": [1, 2, 4, 4]}, {"y": [1, 2, 8, 12]}, constants)
        resize = only(module, graph.ResizeOp)
        assert values(resize.scales) == [2.0, 3.0]
        assert graph.shape_of(resize.result) == (1, 8, 12, 2)
        assert resize.coordinate_mode.data == "asymmetric"


def test_global_pools_and_max_pool_attributes() -> None:
    nodes = [
        helper.make_node(
            "MaxPool", ["x"], ["m"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1
        ),
        helper.make_node("GlobalAveragePool", ["m"], ["y"]),
    ]
    module = imported(nodes, {"x": [1, 2, 6, 6]}, {"y": [1, 2, 1, 1]})
    pool = only(module, graph.MaxPool2DOp)
    assert pool.ceil_mode is not None and graph.shape_of(pool.result) == (1, 3, 3, 2)
    assert op_names(module) == ["graph.max_pool2d", "graph.global_avg_pool"]


def test_activations() -> None:
    nodes = [
        helper.make_node("LeakyRelu", ["x"], ["a"], alpha=0.2),
        helper.make_node("HardSigmoid", ["a"], ["b"]),
        helper.make_node("HardSwish", ["b"], ["c"]),
        helper.make_node("Sigmoid", ["c"], ["d"]),
        helper.make_node("Tanh", ["d"], ["e"]),
        helper.make_node("Exp", ["e"], ["f"]),
        helper.make_node("Gelu", ["f"], ["g"], approximate="tanh"),
        helper.make_node("PRelu", ["g", "slope"], ["y"]),
    ]
    module = imported(
        nodes, {"x": [1, 3]}, {"y": [1, 3]}, {"slope": seeded((3,))}, opset=20
    )
    assert op_names(module) == [
        "graph.leaky_relu", "graph.hard_sigmoid", "graph.hard_swish", "graph.sigmoid",
        "graph.tanh", "graph.exp", "graph.gelu", "graph.prelu",
    ]  # fmt: skip
    assert only(module, graph.LeakyReluOp).alpha.value.data == pytest.approx(0.2)
    hard_sigmoid = only(module, graph.HardSigmoidOp)
    assert hard_sigmoid.alpha.value.data == pytest.approx(0.2)
    assert only(module, graph.GeluOp).approximate.data == "tanh"


# Names ------------------------------------------------------------------------


def test_ops_carry_node_names_and_constants_initializer_names() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "onnx::Conv_1"], ["a"], name="features.0"),
        helper.make_node("Relu", ["a"], ["relu_out"]),  # unnamed
        helper.make_node("Add", ["relu_out", "0"], ["y"], name="add"),
    ]
    constants = {"onnx::Conv_1": seeded((2, 2, 1, 1)), "0": seeded((2, 1, 1))}
    module = imported(nodes, {"x": [1, 2, 3, 3]}, {"y": [1, 2, 3, 3]}, constants)
    assert node_names(module) == [None, "features.0", "relu_out", None, "add", None]
    symbols = [
        op.sym_name.data for op in module.walk() if isinstance(op, graph.ConstantOp)
    ]
    assert symbols == ["onnx__Conv_1", "_0"]


def test_printed_module_parses_back() -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")]
    module = imported(
        nodes, {"x": [1, 3, 8, 8]}, {"y": [1, 16, 6, 6]}, {"w": seeded((16, 3, 3, 3))}
    )
    text, arrays = print_module(module)
    assert 'onnx.node = "conv"' in text
    assert list(arrays) == ["w"]
    assert print_module(parse_module(text, arrays))[0] == text
