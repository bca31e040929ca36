"""The layer contract: signature, `tinycc.layer`, `supported`, `macs`."""

from __future__ import annotations

import pytest
from kernels_testlib import graph_op
from xdsl.dialects import scf
from xdsl.dialects.builtin import MemRefType

from tinycc import kernels, zoo
from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.importer import import_onnx
from tinycc.ir import parse_module


def test_layer_signature_and_attribute() -> None:
    op = graph_op(
        "graph.conv2d {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, "
        "pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64}",
        [(1, 4, 4, 3), (2, 3, 3, 3), (2,)],
        (1, 2, 2, 2),
    )
    function = kernels.build_layer(op, "conv_1").function
    assert function.sym_name.data == "conv_1"
    assert function.sym_visibility.data == "private"
    assert function.function_type.outputs.data == ()
    args = function.body.block.args
    assert [a.name_hint for a in args] == ["input", "weight", "bias", "output"]
    assert [a.type for a in args] == [
        MemRefType(v.type.element_type, v.type.get_shape())
        for v in (*op.operands, op.result)
    ]
    info = function.attributes["tinycc.layer"].data
    assert info["op"].data == "graph.conv2d"
    assert info["shape"].data == "1x2x2x2"
    assert info["macs"].value.data == 2 * 2 * 2 * 3 * 3 * 3


def test_variadic_operands_are_numbered() -> None:
    op = graph_op("graph.concat {axis = 0 : i64}", [(1, 2), (2, 2)], (3, 2))
    args = kernels.build_layer(op, "cat").function.body.block.args
    assert [a.name_hint for a in args] == ["inputs0", "inputs1", "output"]


def _op(text: str, name: str):
    return next(op for op in parse_module(text).walk() if op.name == name)


def test_quantized_ops_need_their_integer_semantics_chosen() -> None:
    qtype = "tensor<1x2x3x4x!quant.uniform<i8:f32, 0.5:-2>>"
    text = f"""func.func @main(%x: {qtype}) -> {qtype} {{
  %r = graph.relu %x {{ATTR}} : ({qtype}) -> {qtype}
  func.return %r : {qtype}
}}"""
    op = _op(text.replace("{ATTR}", ""), "graph.relu")
    reason = "quantized op without integer semantics (run graph-int8-rounding)"
    if graph.ReluOp in kernels.INTEGER_KERNELS:
        assert kernels.supported(op) == reason
    with pytest.raises(TinyccError, match=r"graph.relu: "):
        kernels.build_layer(op, "relu")


def test_edges_must_be_per_tensor() -> None:
    qtype = "tensor<2x3x!quant.uniform<i8:f32:0, {0.5:-2, 0.25:0}>>"
    quantize = _op(
        f"""func.func @main(%x: tensor<2x3xf32>) -> {qtype} {{
  %q = graph.quantize %x : (tensor<2x3xf32>) -> {qtype}
  func.return %q : {qtype}
}}""",
        "graph.quantize",
    )
    assert "per-axis" in kernels.supported(quantize)


def test_other_element_types_and_ops_are_not_supported() -> None:
    relu = _op(
        """func.func @main(%x: tensor<4xf16>) -> tensor<4xf16> {
  %r = graph.relu %x : (tensor<4xf16>) -> tensor<4xf16>
  func.return %r : tensor<4xf16>
}""",
        "graph.relu",
    )
    assert "float32 only" in kernels.supported(relu)
    constant = _op(
        """func.func @main() -> tensor<2xf32> {
  %c = graph.constant @c : tensor<2xf32> = dense<[1.0, 2.0]>
  func.return %c : tensor<2xf32>
}""",
        "graph.constant",
    )
    assert kernels.supported(constant) == "no kernel for graph.constant"


def test_every_compute_op_has_a_kernel() -> None:
    compute = [op for op in graph.Graph.operations if op is not graph.ConstantOp]
    assert set(compute) == set(kernels.KERNELS)


@pytest.mark.parametrize(
    "build",
    [zoo.kws_dscnn, zoo.resnet8, zoo.vww_mobilenet_v1],
    ids=lambda b: b.__name__,
)
def test_zoo_layers_build_and_count_the_published_macs(build) -> None:
    """Every layer of a canonical network builds into verified, branch-free
    loops, and the per-layer MACs add up to the model's count from ONNX."""
    model = build()
    module = import_onnx(model).module
    apply_pipeline(module, DEFAULT_PIPELINE)
    total = 0
    for op in module.walk():
        if op.dialect_name() != "graph" or isinstance(op, graph.ConstantOp):
            continue
        assert kernels.supported(op) is None, op.name
        function = kernels.build_layer(op, "layer").function
        function.verify()
        assert not any(isinstance(o, scf.IfOp) for o in function.walk())
        total += function.attributes["tinycc.layer"].data["macs"].value.data
    assert total == zoo.count_macs(model)


def test_integer_limits_are_reported_before_building() -> None:
    """An op whose type has an integer kernel, with parameters it cannot
    compute, is rejected by `supported` (all at once, at check time)."""
    x, y = (f"tensor<1x2x3x{c}x!quant.uniform<i8:f32, 0.5:-2>>" for c in (4, 1))
    attrs = 'axes = array<i64: 3>, keepdims, quant.rounding = "tflite"'
    op = _op(
        f"""func.func @main(%x: {x}) -> {y} {{
  %r = graph.reduce_mean %x {{{attrs}}} : ({x}) -> {y}
  func.return %r : {y}
}}""",
        "graph.reduce_mean",
    )
    assert kernels.supported(op) == (
        "int8 reduce_mean is supported over the H and W axes of NHWC only"
    )
