"""Quantized models: QDQ imported as written, QOperator as ops on quantized types."""

from __future__ import annotations

import numpy as np
import pytest
from importer_testlib import (
    MICROSOFT,
    constant_of,
    interface,
    main_of,
    make_model,
    only,
    op_names,
    tensor,
)
from onnx import TensorProto, helper

from tinycc.dialects import graph
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.importer import UnsupportedModelError, check_onnx, import_onnx

RNG = np.random.default_rng(7)


def int8(shape) -> np.ndarray:
    return RNG.integers(-127, 128, shape).astype(np.int8)


def element(value) -> UniformQuantizedType:
    element_type = graph.tensor_type(value).element_type
    assert isinstance(element_type, UniformQuantizedType)
    return element_type


def f32_scalars(**values: float) -> dict[str, np.ndarray]:
    return {name: np.float32(v) for name, v in values.items()}


# QDQ --------------------------------------------------------------------------


def qdq_conv_model() -> tuple:
    w = int8((4, 3, 3, 3))
    w_scale = np.array([0.01, 0.02, 0.03, 0.04], np.float32)
    b = RNG.integers(-1000, 1000, 4).astype(np.int32)
    x_scale = np.float32(0.05)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q_in"),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="dq_in"),
        helper.make_node("DequantizeLinear", ["w", "ws"], ["wd"], name="dq_w", axis=0),
        helper.make_node("DequantizeLinear", ["b", "bs"], ["bd"], name="dq_b", axis=0),
        helper.make_node("Conv", ["xd", "wd", "bd"], ["y"], name="conv", pads=[1] * 4),
    ]
    constants = {
        "xs": x_scale, "xz": np.int8(-3), "w": w, "ws": w_scale,
        "b": b, "bs": x_scale * w_scale,
    }  # fmt: skip
    model = make_model(nodes, {"x": [1, 3, 5, 5]}, {"y": [1, 4, 5, 5]}, constants)
    return model, w, w_scale


def test_qdq_conv_keeps_int8_weights_behind_dequantize() -> None:
    model, w, w_scale = qdq_conv_model()
    module = import_onnx(model).module
    assert op_names(module) == [
        "graph.quantize", "graph.dequantize", "graph.dequantize", "graph.dequantize",
        "graph.conv2d",
    ]  # fmt: skip
    conv = only(module, graph.Conv2DOp)
    weight_q = conv.weight.owner.input
    np.testing.assert_array_equal(constant_of(weight_q), w.transpose(0, 2, 3, 1))
    w_type = element(weight_q)
    assert w_type.axis.data == 0 and w_type.storage_name == "i8"
    np.testing.assert_array_equal(np.float32(w_type.scale_values), w_scale)
    assert w_type.zero_point_values == (0, 0, 0, 0)
    bias_type = element(conv.bias.owner.input)
    assert bias_type.storage_name == "i32" and bias_type.axis.data == 0
    x_type = element(only(module, graph.QuantizeOp).result)
    assert (x_type.scale_values, x_type.zero_point_values) == (
        (np.float32(0.05),),
        (-3,),
    )
    assert graph.shape_of(only(module, graph.QuantizeOp).result) == (1, 5, 5, 3)
    assert conv.weight.owner.attributes["onnx.node"].data == "dq_w"


def test_qdq_matmul_weight_axis_follows_the_transposition() -> None:
    w = int8((6, 5))
    w_scale = np.linspace(0.01, 0.05, 5).astype(np.float32)
    nodes = [
        helper.make_node("DequantizeLinear", ["w", "ws"], ["wd"], axis=-1),
        helper.make_node("MatMul", ["x", "wd"], ["y"]),
    ]
    model = make_model(nodes, {"x": [2, 6]}, {"y": [2, 5]}, {"w": w, "ws": w_scale})
    fc = only(import_onnx(model).module, graph.FullyConnectedOp)
    weight_q = fc.weight.owner.input
    np.testing.assert_array_equal(constant_of(weight_q), w.T)
    assert element(weight_q).axis.data == 0


def test_int8_graph_input_and_output_are_quantized() -> None:
    """A TensorFlow export: int8 NHWC input, Transpose, DQ ... Q, int8 output."""
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        helper.make_node("DequantizeLinear", ["t", "s", "z"], ["d"]),
        helper.make_node("MaxPool", ["d"], ["m"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("QuantizeLinear", ["m", "s", "z"], ["y"]),
    ]
    model = make_model(
        nodes,
        [tensor("x", [1, 4, 4, 3], TensorProto.INT8)],
        [tensor("y", [1, 3, 2, 2], TensorProto.INT8)],
        {"s": np.float32(0.5), "z": np.int8(10)},
    )
    module = import_onnx(model).module
    function = main_of(module)
    (arg_type,) = function.function_type.inputs.data
    assert arg_type.get_shape() == (1, 4, 4, 3)
    assert element(arg_type).scale_values == (0.5,)
    assert interface(module) == [{"name": "x", "perm": None}]
    assert interface(module, results=True) == [{"name": "y", "perm": [0, 2, 3, 1]}]
    assert op_names(module) == [
        "graph.dequantize",
        "graph.max_pool2d",
        "graph.quantize",
    ]


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16])
def test_qdq_activation_storage_types(dtype) -> None:
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"]),
    ]
    constants = {"s": np.float32(0.1), "z": np.array(3, dtype)}
    model = make_model(nodes, {"x": [4]}, {"y": [4]}, constants, opset=21)
    q_type = element(only(import_onnx(model).module, graph.QuantizeOp).result)
    assert q_type.numpy_dtype == np.dtype(dtype) and q_type.zero_point_values == (3,)


def test_dequantize_with_other_parameters_than_the_producer_is_a_problem() -> None:
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s1"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s2"], ["y"], name="dq"),
    ]
    constants = f32_scalars(s1=0.1, s2=0.2)
    (problem,) = check_onnx(make_model(nodes, {"x": [4]}, {"y": [4]}, constants))
    assert problem.node == "dq" and "produced as" in problem.reason


def test_dynamic_quantization_is_rejected_by_name() -> None:
    """What `onnxruntime.quantization.quantize_dynamic` writes for a MatMul."""
    nodes = [
        helper.make_node(
            "DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], name="dql"
        ),
        helper.make_node("MatMulInteger", ["xq", "w", "xz"], ["mi"], name="mmi"),
        helper.make_node("Cast", ["mi"], ["mf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["mf", "xs"], ["y"]),
    ]
    model = make_model(
        nodes, {"x": [2, 3]}, {"y": [2, 4]}, {"w": int8((3, 4)).astype(np.uint8)}
    )
    with pytest.raises(UnsupportedModelError) as info:
        import_onnx(model)
    problems = info.value.problems
    assert [(p.node, p.op_type) for p in problems] == [
        ("dql", "DynamicQuantizeLinear"), ("mmi", "MatMulInteger"),
    ]  # fmt: skip
    for problem in problems:
        assert problem.reason == (
            "dynamic quantization is not supported: quantize statically, e.g. "
            "onnxruntime.quantization.quantize_static"
        )


# QOperator --------------------------------------------------------------------


def quantized_input_nodes() -> list:
    return [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"])]


def qoperator_model(nodes, output_shape, constants, input_shape=(1, 3, 5, 5)):
    base = {"xs": np.float32(0.02), "xz": np.uint8(128)}
    return make_model(
        quantized_input_nodes() + nodes,
        {"x": list(input_shape)},
        [tensor("y", output_shape, TensorProto.UINT8)],
        {**base, **constants},
        extra_opsets={MICROSOFT: 1},
    )


def test_qlinear_conv_has_an_int32_bias_with_scale_product() -> None:
    w = int8((4, 3, 3, 3))
    w_scale = np.array([0.01, 0.02, 0.03, 0.04], np.float32)
    bias = RNG.integers(-500, 500, 4).astype(np.int32)
    node = helper.make_node(
        "QLinearConv",
        ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"],
        ["y"],
        name="qconv",
        pads=[1] * 4,
    )
    constants = {
        "w": w, "ws": w_scale, "wz": np.zeros(4, np.int8), "b": bias,
        "ys": np.float32(0.1), "yz": np.uint8(120),
    }  # fmt: skip
    module = import_onnx(qoperator_model([node], [1, 4, 5, 5], constants)).module
    assert op_names(module) == ["graph.quantize", "graph.conv2d"]
    conv = only(module, graph.Conv2DOp)
    np.testing.assert_array_equal(constant_of(conv.weight), w.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(
        np.float32(element(conv.weight).scale_values), w_scale
    )
    bias_type = element(conv.bias)
    np.testing.assert_array_equal(constant_of(conv.bias), bias)
    np.testing.assert_allclose(bias_type.scale_values, 0.02 * w_scale, rtol=1e-6)
    assert bias_type.storage_name == "i32" and bias_type.axis.data == 0
    result = element(conv.result)
    assert result.storage_name == "u8" and result.zero_point_values == (120,)
    assert element(conv.input).zero_point_values == (128,)


def test_qlinear_matmul_is_fully_connected_on_quantized_types() -> None:
    node = helper.make_node(
        "QLinearMatMul", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"]
    )
    w = RNG.integers(0, 255, (6, 4)).astype(np.uint8)
    constants = {
        "w": w, "ws": np.float32(0.03), "wz": np.uint8(127),
        "ys": np.float32(0.2), "yz": np.uint8(100),
    }  # fmt: skip
    model = qoperator_model([node], [2, 4], constants, input_shape=(2, 6))
    fc = only(import_onnx(model).module, graph.FullyConnectedOp)
    np.testing.assert_array_equal(constant_of(fc.weight), w.T)
    assert element(fc.weight).zero_point_values == (127,)
    assert element(fc.result).scale_values == (np.float32(0.2),)


def test_microsoft_qlinear_ops() -> None:
    def q(op_type, inputs, output, **attrs):
        return helper.make_node(op_type, inputs, [output], domain=MICROSOFT, **attrs)

    nodes = [
        q("QLinearAdd", ["xq", "xs", "xz", "xq", "xs", "xz", "s1", "z1"], "a"),
        q("QLinearMul", ["a", "s1", "z1", "c", "cs", "cz", "s2", "z2"], "m"),
        q("QLinearLeakyRelu", ["m", "s2", "z2", "s1", "z1"], "l", alpha=0.1),
        q("QLinearSigmoid", ["l", "s1", "z1", "s2", "z2"], "g"),
        q("QLinearConcat", ["s1", "z1", "g", "s2", "z2", "xq", "xs", "xz"], "cat",
          axis=1),
        q("QLinearGlobalAveragePool", ["cat", "s1", "z1", "s2", "z2"], "y"),
    ]  # fmt: skip
    constants = {
        "s1": np.float32(0.05), "z1": np.uint8(100), "s2": np.float32(0.03),
        "z2": np.uint8(90), "c": np.uint8(200), "cs": np.float32(0.01),
        "cz": np.uint8(0),
    }  # fmt: skip
    module = import_onnx(qoperator_model(nodes, [1, 6, 1, 1], constants)).module
    assert op_names(module) == [
        "graph.quantize", "graph.add", "graph.mul", "graph.leaky_relu", "graph.sigmoid",
        "graph.concat", "graph.global_avg_pool",
    ]  # fmt: skip
    assert graph.shape_of(only(module, graph.ConcatOp).result) == (1, 5, 5, 6)
    assert element(only(module, graph.MulOp).rhs).scale_values == (np.float32(0.01),)
    assert element(only(module, graph.GlobalAvgPoolOp).result).zero_point_values == (
        90,
    )


def test_data_movement_keeps_the_quantized_type() -> None:
    nodes = [
        helper.make_node("MaxPool", ["xq"], ["m"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["m"], ["y"]),
    ]
    module = import_onnx(qoperator_model(nodes, [1, 12], {})).module
    assert op_names(module) == [
        "graph.quantize",
        "graph.max_pool2d",
        "graph.transpose",
        "graph.reshape",
    ]
    quantize_type = element(only(module, graph.QuantizeOp).result)
    assert element(only(module, graph.ReshapeOp).result) == quantize_type


def test_integer_arithmetic_outside_qlinear_ops_is_a_problem() -> None:
    nodes = [helper.make_node("Add", ["xq", "xq"], ["y"], name="int_add")]
    (problem,) = check_onnx(qoperator_model(nodes, [1, 3, 5, 5], {}))
    assert problem.node == "int_add" and "integer tensors" in problem.reason


def test_a_scalar_scale_with_a_one_element_zero_point_is_per_tensor() -> None:
    """onnxruntime's quantizer writes a bias scale as a scalar and its zero
    point as [1]; both name one parameter."""
    from tinycc.importer.dtypes import quantized_type

    qtype = quantized_type(
        np.float32(0.5), np.zeros([1], np.int32), np.dtype(np.int32), 0, (4,)
    )
    assert qtype == UniformQuantizedType(qtype.storage, [0.5], [0])
    assert not qtype.is_per_axis
