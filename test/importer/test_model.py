"""Loading: sources, bad files, opsets, external data, functions, input shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from importer_testlib import (
    interface,
    main_of,
    make_model,
    only,
    op_names,
    seeded,
    tensor,
)
from onnx import TensorProto, helper

from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.importer import import_onnx


def relu_model(shape=(1, 3, 4, 4), opset: int = 17) -> onnx.ModelProto:
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    return make_model([node], {"x": shape}, {"y": shape}, opset=opset)


def conv_model() -> onnx.ModelProto:
    weight = seeded((4, 3, 3, 3))
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1] * 4)
    return make_model([node], {"x": [1, 3, 8, 8]}, {"y": [1, 4, 8, 8]}, {"w": weight})


# Sources ----------------------------------------------------------------------


def test_path_bytes_and_proto_give_the_same_module(tmp_path: Path) -> None:
    model = conv_model()
    path = tmp_path / "conv.onnx"
    onnx.save(model, path)
    texts = {
        str(import_onnx(source).module)
        for source in (path, str(path), model.SerializeToString(), model)
    }
    assert len(texts) == 1


def test_the_callers_proto_is_not_modified() -> None:
    model = relu_model(("batch", 3, 4, 4))
    before = model.SerializeToString()
    import_onnx(model)
    assert model.SerializeToString() == before


def test_imported_model_describes_its_interface() -> None:
    model = relu_model()
    model.producer_name, model.producer_version = "pytorch", "2.3"
    imported = import_onnx(model)
    assert (imported.opset, imported.inputs, imported.outputs) == (17, ["x"], ["y"])
    assert imported.producer == "pytorch 2.3"


# Bad files --------------------------------------------------------------------


def one_line_error(source, name=None, **kwargs) -> str:
    with pytest.raises(TinyccError) as info:
        import_onnx(source, name=name, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.onnx"
    message = one_line_error(path)
    assert message.startswith(f"{path}: not a valid ONNX model (cannot read file")


def test_garbage_bytes() -> None:
    message = one_line_error(b"\xff\xfenot a model at all", name="junk.onnx")
    assert message.startswith("junk.onnx: not a valid ONNX model (")


def test_truncated_file(tmp_path: Path) -> None:
    data = conv_model().SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    assert one_line_error(path).startswith(f"{path}: not a valid ONNX model (")


def test_empty_bytes_default_name() -> None:
    assert one_line_error(b"").startswith("<model>: not a valid ONNX model (")


def test_checker_failure_is_reported() -> None:
    model = relu_model()
    model.graph.node[0].input[0] = "nowhere"
    message = one_line_error(model, name="broken.onnx")
    assert message.startswith("broken.onnx: not a valid ONNX model (")
    assert "nowhere" in message


def test_old_opset_is_upgraded_on_import() -> None:
    module = import_onnx(relu_model(opset=9)).module
    assert op_names(module) == ["graph.relu"]


@pytest.mark.parametrize("opset", [11, onnx.defs.onnx_opset_version()])
def test_oldest_and_newest_opsets_import(opset: int) -> None:
    module = import_onnx(relu_model(opset=opset)).module
    assert op_names(module) == ["graph.relu"]


# External data and functions --------------------------------------------------


def test_external_data_round_trip(tmp_path: Path) -> None:
    model = conv_model()
    weight = onnx.numpy_helper.to_array(model.graph.initializer[0])
    path = tmp_path / "model.onnx"
    onnx.save(
        model,
        path,
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )
    assert (tmp_path / "weights.bin").stat().st_size == weight.nbytes
    module = import_onnx(path).module
    conv = only(module, graph.Conv2DOp)
    np.testing.assert_array_equal(conv.weight.owner.array, weight.transpose(0, 2, 3, 1))


def test_missing_external_data_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(
        conv_model(), path, save_as_external_data=True, location="w.bin",
        size_threshold=0,
    )  # fmt: skip
    (tmp_path / "w.bin").unlink()
    message = one_line_error(path)
    assert message.startswith(f"{path}: external data file 'w.bin'")
    assert "not found" in message


def test_local_function_is_inlined() -> None:
    # y = relu(x) * 2 as a model-local function `scaled_relu`.
    body = [
        helper.make_node("Relu", ["a"], ["r"]),
        helper.make_node("Constant", [], ["two"], value_float=2.0),
        helper.make_node("Mul", ["r", "two"], ["b"]),
    ]
    function = helper.make_function(
        "local", "ScaledRelu", ["a"], ["b"], body,
        [helper.make_opsetid("", 17)],
    )  # fmt: skip
    call = helper.make_node("ScaledRelu", ["x"], ["y"], domain="local", name="call")
    model = make_model([call], {"x": [1, 8]}, {"y": [1, 8]}, extra_opsets={"local": 1})
    model.functions.append(function)
    module = import_onnx(model).module
    assert op_names(module) == ["graph.relu", "graph.mul"]


# Input shapes -----------------------------------------------------------------


def test_dynamic_batch_becomes_one() -> None:
    module = import_onnx(relu_model(("N", 3, 4, 4))).module
    assert main_of(module).function_type.inputs.data[0].get_shape() == (1, 3, 4, 4)


def test_other_dynamic_dimension_needs_input_shapes() -> None:
    model = relu_model(("N", 3, "height", "width"))
    message = one_line_error(model, name="net.onnx")
    assert message == (
        "net.onnx: input 'x' has dynamic dimension 'height': pass --input-shape "
        "x=1x3x<height>x<width>"
    )


def test_input_shapes_fix_dynamic_dimensions() -> None:
    model = relu_model(("N", 3, "height", "width"))
    module = import_onnx(model, input_shapes={"x": (2, 3, 5, 7)}).module
    relu = only(module, graph.ReluOp)
    assert graph.shape_of(relu.result) == (2, 3, 5, 7)


def test_input_shapes_fix_a_4d_image_in_nhwc() -> None:
    conv = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1] * 4)
    model = make_model(
        [conv],
        {"x": ["N", 3, "H", "W"]},
        {"y": ["N", 4, "H", "W"]},
        {"w": seeded((4, 3, 3, 3))},
    )
    module = import_onnx(model, input_shapes={"x": [1, 3, 10, 12]}).module
    assert main_of(module).function_type.inputs.data[0].get_shape() == (1, 10, 12, 3)
    assert interface(module) == [{"name": "x", "perm": [0, 2, 3, 1]}]


@pytest.mark.parametrize(
    ("shapes", "fragment"),
    [
        ({"z": (1, 3, 4, 4)}, "not a graph input (inputs: x)"),
        ({"x": (1, 3, 4)}, "has rank 4 but --input-shape x=1x3x4 has rank 3"),
        ({"x": (1, 5, 4, 4)}, "contradicts"),
    ],
)
def test_bad_input_shapes(shapes, fragment: str) -> None:
    assert fragment in one_line_error(relu_model(("N", 3, 4, 4)), input_shapes=shapes)


def test_initializer_listed_as_input_is_a_constant() -> None:
    # IR version 3 models list their initializers among the graph inputs.
    model = conv_model()
    model.graph.input.append(tensor("w", [4, 3, 3, 3]))
    module = import_onnx(model).module
    assert [entry["name"] for entry in interface(module)] == ["x"]


def test_int64_graph_input_is_a_problem() -> None:
    node = helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)
    model = make_model(
        [node], [tensor("x", [1, 4], TensorProto.INT64)], [tensor("y", [1, 4])]
    )
    with pytest.raises(TinyccError, match="input 'x': int64 tensors"):
        import_onnx(model)
