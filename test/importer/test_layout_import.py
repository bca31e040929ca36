"""NCHW -> NHWC at import: weights permuted, tags propagated, few transposes."""

from __future__ import annotations

import numpy as np
from importer_testlib import (
    constant_of,
    interface,
    main_of,
    make_model,
    only,
    op_names,
    ops_of,
    seeded,
    values,
)
from onnx import helper

from tinycc.dialects import graph
from tinycc.importer import import_onnx

NHWC = [0, 2, 3, 1]


def conv(name: str, x: str, w: str, y: str, **attrs) -> helper.NodeProto:
    return helper.make_node("Conv", [x, w], [y], name=name, **attrs)


def test_conv_weights_are_ohwi_and_the_image_is_nhwc() -> None:
    weight, bias = seeded((8, 3, 3, 3)), seeded((8,), 1)
    node = helper.make_node(
        "Conv", ["x", "w", "b"], ["y"], name="conv1", pads=[1, 0, 1, 2], strides=[2, 1]
    )
    model = make_model(
        [node], {"x": [1, 3, 9, 9]}, {"y": [1, 8, 5, 9]}, {"w": weight, "b": bias}
    )
    module = import_onnx(model).module
    op = only(module, graph.Conv2DOp)
    np.testing.assert_array_equal(constant_of(op.weight), weight.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(constant_of(op.bias), bias)
    assert graph.shape_of(op.input) == (1, 9, 9, 3)
    assert graph.shape_of(op.result) == (1, 5, 9, 8)
    assert values(op.pads) == [1, 0, 1, 2]  # top, left, bottom, right
    assert values(op.strides) == [2, 1]
    assert interface(module) == [{"name": "x", "perm": NHWC}]
    assert interface(module, results=True) == [{"name": "y", "perm": NHWC}]
    assert op_names(module) == ["graph.conv2d"]


def test_depthwise_conv_keeps_groups() -> None:
    weight = seeded((6, 1, 3, 3))
    node = conv("dw", "x", "w", "y", group=6, pads=[1] * 4)
    model = make_model([node], {"x": [1, 6, 5, 5]}, {"y": [1, 6, 5, 5]}, {"w": weight})
    op = only(import_onnx(model).module, graph.Conv2DOp)
    assert op.groups.value.data == 6 and op.is_depthwise
    np.testing.assert_array_equal(constant_of(op.weight), weight.transpose(0, 2, 3, 1))


def residual_block(add_inputs: tuple[str, str]) -> helper.NodeProto:
    return helper.make_node("Add", list(add_inputs), ["y"], name="add")


def test_residual_add_needs_no_transpose() -> None:
    nodes = [
        conv("c1", "x", "w1", "a", pads=[1] * 4),
        helper.make_node("Relu", ["a"], ["r"], name="relu"),
        conv("c2", "r", "w2", "b", pads=[1] * 4),
        residual_block(("a", "b")),
    ]
    weights = {"w1": seeded((4, 4, 3, 3)), "w2": seeded((4, 4, 3, 3), 1)}
    model = make_model(nodes, {"x": [1, 4, 6, 6]}, {"y": [1, 4, 6, 6]}, weights)
    module = import_onnx(model).module
    assert op_names(module) == [
        "graph.conv2d",
        "graph.relu",
        "graph.conv2d",
        "graph.add",
    ]
    assert graph.shape_of(only(module, graph.AddOp).result) == (1, 6, 6, 4)


def test_add_with_an_nchw_input_transposes_only_that_input() -> None:
    # `skip` arrives as a graph input that no convolution reads: ONNX layout.
    nodes = [conv("c", "x", "w", "a", pads=[1] * 4), residual_block(("a", "skip"))]
    model = make_model(
        nodes,
        {"x": [1, 4, 6, 6], "skip": [1, 4, 6, 6]},
        {"y": [1, 4, 6, 6]},
        {"w": seeded((4, 4, 3, 3))},
    )
    module = import_onnx(model).module
    transpose = only(module, graph.TransposeOp)
    assert values(transpose.perm) == NHWC
    assert interface(module) == [
        {"name": "x", "perm": NHWC},
        {"name": "skip", "perm": None},
    ]


def test_bias_constant_is_laid_out_like_the_activation() -> None:
    bias = seeded((4, 1, 1))
    nodes = [
        conv("c", "x", "w", "a"),
        helper.make_node("Add", ["a", "bias"], ["y"], name="add"),
    ]
    model = make_model(
        nodes, {"x": [1, 3, 5, 5]}, {"y": [1, 4, 3, 3]},
        {"w": seeded((4, 3, 3, 3)), "bias": bias},
    )  # fmt: skip
    add = only(import_onnx(model).module, graph.AddOp)
    np.testing.assert_array_equal(
        constant_of(add.rhs), bias.reshape(1, 4, 1, 1).transpose(NHWC)
    )


def test_concat_on_channels_is_on_the_last_ir_axis() -> None:
    nodes = [
        conv("c1", "x", "w1", "a"),
        conv("c2", "x", "w2", "b"),
        helper.make_node("Concat", ["a", "b"], ["y"], name="cat", axis=1),
    ]
    weights = {"w1": seeded((2, 3, 1, 1)), "w2": seeded((5, 3, 1, 1), 1)}
    model = make_model(nodes, {"x": [1, 3, 4, 4]}, {"y": [1, 7, 4, 4]}, weights)
    module = import_onnx(model).module
    cat = only(module, graph.ConcatOp)
    assert cat.axis.value.data == 3
    assert graph.shape_of(cat.result) == (1, 4, 4, 7)
    assert not ops_of(module, graph.TransposeOp)


def classifier(spatial: int) -> helper.NodeProto:
    nodes = [
        conv("c", "x", "w", "a"),
        helper.make_node("Flatten", ["a"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], name="fc", transB=1),
    ]
    features = 4 * spatial * spatial
    weights = {
        "w": seeded((4, 3, 1, 1)),
        "fc_w": seeded((10, features), 1),
        "fc_b": seeded((10,), 2),
    }
    return make_model(nodes, {"x": [1, 3, spatial, spatial]}, {"y": [1, 10]}, weights)


def test_flatten_of_1x1_spatial_is_a_plain_reshape() -> None:
    module = import_onnx(classifier(1)).module
    assert op_names(module) == [
        "graph.conv2d",
        "graph.reshape",
        "graph.fully_connected",
    ]


def test_flatten_of_larger_spatial_goes_back_to_nchw() -> None:
    module = import_onnx(classifier(2)).module
    assert op_names(module) == [
        "graph.conv2d",
        "graph.transpose",
        "graph.reshape",
        "graph.fully_connected",
    ]
    assert values(only(module, graph.TransposeOp).perm) == [0, 3, 1, 2]


def test_transposes_of_a_tensorflow_export_disappear() -> None:
    # An NHWC image, transposed to NCHW for the Conv, and back for the output.
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        conv("c", "t", "w", "a", pads=[1] * 4),
        helper.make_node("Transpose", ["a"], ["y"], perm=[0, 2, 3, 1]),
    ]
    model = make_model(
        nodes, {"x": [1, 6, 6, 3]}, {"y": [1, 6, 6, 4]}, {"w": seeded((4, 3, 3, 3))}
    )
    module = import_onnx(model).module
    assert op_names(module) == ["graph.conv2d"]
    assert interface(module) == [{"name": "x", "perm": None}]
    assert interface(module, results=True) == [{"name": "y", "perm": None}]


def test_matmul_on_a_4d_activation_uses_the_onnx_layout() -> None:
    nodes = [
        conv("c", "x", "w", "a"),
        helper.make_node("MatMul", ["a", "m"], ["y"], name="mm"),
    ]
    model = make_model(
        nodes, {"x": [1, 3, 4, 5]}, {"y": [1, 2, 4, 6]},
        {"w": seeded((2, 3, 1, 1)), "m": seeded((5, 6), 1)},
    )  # fmt: skip
    module = import_onnx(model).module
    assert op_names(module) == [
        "graph.conv2d",
        "graph.transpose",
        "graph.fully_connected",
    ]
    assert interface(module, results=True) == [{"name": "y", "perm": None}]


def test_reduce_mean_over_space_keeps_or_drops_the_tag() -> None:
    for keepdims, shape, perm in [(1, (1, 1, 1, 4), NHWC), (0, (1, 4), None)]:
        nodes = [
            conv("c", "x", "w", "a"),
            helper.make_node(
                "ReduceMean", ["a"], ["y"], axes=[2, 3], keepdims=keepdims
            ),
        ]
        out = [1, 4, 1, 1] if keepdims else [1, 4]
        model = make_model(
            nodes,
            {"x": [1, 3, 5, 5]},
            {"y": out},
            {"w": seeded((4, 3, 1, 1))},
            opset=13,
        )
        module = import_onnx(model).module
        reduce = only(module, graph.ReduceMeanOp)
        assert values(reduce.axes) == [1, 2]
        assert graph.shape_of(reduce.result) == shape
        assert interface(module, results=True) == [{"name": "y", "perm": perm}]


def test_slice_and_pad_axes_follow_the_tag() -> None:
    nodes = [
        conv("c", "x", "w", "a"),
        helper.make_node("Slice", ["a", "starts", "ends", "axes"], ["s"], name="slice"),
        helper.make_node("Pad", ["s", "pads"], ["y"], name="pad"),
    ]
    constants = {
        "w": seeded((4, 3, 1, 1)),
        "starts": np.array([1, 2]),
        "ends": np.array([3, 100]),
        "axes": np.array([1, 3]),
        "pads": np.array([0, 0, 1, 0, 0, 0, 0, 2]),  # H begin 1, W end 2
    }
    model = make_model(nodes, {"x": [1, 3, 5, 6]}, {"y": [1, 2, 6, 6]}, constants)
    module = import_onnx(model).module
    slice_op, pad = only(module, graph.SliceOp), only(module, graph.PadOp)
    assert values(slice_op.starts) == [0, 0, 2, 1]
    assert values(slice_op.ends) == [1, 5, 6, 3]
    assert values(pad.pads) == [0, 1, 0, 0, 0, 0, 2, 0]
    assert graph.shape_of(pad.result) == (1, 6, 6, 2)


def test_batch_norm_of_a_2d_tensor_needs_no_layout() -> None:
    params = {name: seeded((5,), i) ** 2 for i, name in enumerate("sbmv")}
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])
    model = make_model([node], {"x": [2, 5]}, {"y": [2, 5]}, params)
    module = import_onnx(model).module
    assert op_names(module) == ["graph.batch_norm"]
    assert interface(module) == [{"name": "x", "perm": None}]


def test_1d_convolution_runs_as_2d_with_a_unit_height() -> None:
    weight = seeded((4, 2, 3))
    node = conv("c", "x", "w", "y", pads=[1, 1], strides=[2])
    model = make_model([node], {"x": [1, 2, 9]}, {"y": [1, 4, 5]}, {"w": weight})
    module = import_onnx(model).module
    op = only(module, graph.Conv2DOp)
    np.testing.assert_array_equal(
        constant_of(op.weight), weight.reshape(4, 2, 1, 3).transpose(0, 2, 3, 1)
    )
    assert values(op.pads) == [0, 1, 0, 1] and values(op.strides) == [1, 2]
    assert graph.shape_of(op.result) == (1, 1, 5, 4)
    assert interface(module, results=True) == [{"name": "y", "perm": [0, 2, 1]}]
    assert main_of(module).function_type.outputs.data[0].get_shape() == (1, 5, 4)
