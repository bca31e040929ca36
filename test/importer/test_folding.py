"""Constant folding: shape arithmetic of exporters vanishes, identities too."""

from __future__ import annotations

import numpy as np
from importer_testlib import constant_of, make_model, only, op_names, seeded
from onnx import TensorProto, helper

from tinycc.dialects import graph
from tinycc.importer import import_onnx


def test_exporter_shape_subgraph_folds_into_one_reshape() -> None:
    """`x.view(x.size(0), -1)` as torch.onnx writes it, after a conv."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["a"], name="conv"),
        helper.make_node("Shape", ["a"], ["shape"]),
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor(
            "zero", TensorProto.INT64, [], [0])),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes"], ["batch_1d"]),
        helper.make_node("Concat", ["batch_1d", "minus_one"], ["target"], axis=0),
        helper.make_node("Reshape", ["a", "target"], ["y"], name="view"),
    ]  # fmt: skip
    constants = {
        "w": seeded((4, 3, 3, 3)),
        "axes": np.array([0]),
        "minus_one": np.array([-1]),
    }
    model = make_model(nodes, {"x": ["N", 3, 6, 6]}, {"y": ["N", 64]}, constants)
    module = import_onnx(model).module
    assert op_names(module) == ["graph.conv2d", "graph.transpose", "graph.reshape"]
    assert graph.shape_of(only(module, graph.ReshapeOp).result) == (1, 64)


def test_constant_nodes_and_arithmetic_on_them_fold() -> None:
    nodes = [
        helper.make_node("Constant", [], ["c"], value_floats=[1.0, 2.0, 3.0]),
        helper.make_node("Mul", ["c", "two"], ["d"]),
        helper.make_node("Add", ["x", "d"], ["y"], name="add"),
    ]
    model = make_model(nodes, {"x": [2, 3]}, {"y": [2, 3]}, {"two": np.float32(2)})
    module = import_onnx(model).module
    add = only(module, graph.AddOp)
    np.testing.assert_array_equal(constant_of(add.rhs), [[2.0, 4.0, 6.0]])
    assert add.rhs.owner.sym_name.data == "d"  # named after the folded value


def test_constant_of_shape_and_range_fold() -> None:
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("ConstantOfShape", ["s"], ["ones"], value=helper.make_tensor(
            "v", TensorProto.FLOAT, [1], [1.0])),
        helper.make_node("Range", ["start", "limit", "delta"], ["r"]),
        helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["ones", "rf"], ["scaled"]),
        helper.make_node("Add", ["x", "scaled"], ["y"]),
    ]  # fmt: skip
    constants = {"start": np.int64(0), "limit": np.int64(4), "delta": np.int64(1)}
    model = make_model(nodes, {"x": [2, 4]}, {"y": [2, 4]}, constants)
    module = import_onnx(model).module
    add = only(module, graph.AddOp)
    np.testing.assert_array_equal(constant_of(add.rhs), np.tile(np.arange(4.0), (2, 1)))


def test_identity_dropout_and_same_type_cast_disappear() -> None:
    nodes = [
        helper.make_node("Identity", ["x"], ["a"]),
        helper.make_node("Dropout", ["a"], ["b"], name="drop"),
        helper.make_node("Cast", ["b"], ["c"], to=TensorProto.FLOAT),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    module = import_onnx(make_model(nodes, {"x": [3]}, {"y": [3]})).module
    assert op_names(module) == ["graph.relu"]


def test_identity_output_returns_the_argument() -> None:
    node = helper.make_node("Identity", ["x"], ["y"])
    module = import_onnx(make_model([node], {"x": [3]}, {"y": [3]})).module
    assert op_names(module) == []


def test_dead_nodes_are_not_imported() -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["y"]),
        helper.make_node("Erf", ["x"], ["unused"]),  # unsupported but dead
    ]
    module = import_onnx(make_model(nodes, {"x": [3]}, {"y": [3]})).module
    assert op_names(module) == ["graph.relu"]


def test_unused_initializers_leave_no_constant() -> None:
    node = helper.make_node("Relu", ["x"], ["y"])
    model = make_model([node], {"x": [3]}, {"y": [3]}, {"spare": seeded((100,))})
    assert op_names(import_onnx(model).module, constants=True) == [
        "graph.relu",
        "func.return",
    ]


def test_unknown_op_on_constants_still_folds() -> None:
    nodes = [
        helper.make_node("Erf", ["c"], ["e"]),
        helper.make_node("Add", ["x", "e"], ["y"]),
    ]
    model = make_model(nodes, {"x": [2]}, {"y": [2]}, {"c": np.float32([0.0, 1.0])})
    add = only(import_onnx(model).module, graph.AddOp)
    np.testing.assert_allclose(constant_of(add.rhs), [0.0, 0.8427007], rtol=1e-6)
