"""`run_module`: ONNX names and layouts at the boundary of `@main`."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper
from test_interpreter_ops import assert_close, clip_node, nchw, random, run_onnx
from xdsl.dialects import arith
from xdsl.dialects.builtin import Float32Type, FloatAttr

from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.interpreter import evaluate_op, run_module
from tinycc.interpreter.kernels import KERNELS
from tinycc.ir import parse_module

# A small NCHW network, written as the importer would: NHWC inside, with the
# image input and the feature-map output carrying `onnx.perm`.
NETWORK = """
func.func @main(
    %image: tensor<1x8x8x3xf32>
        {onnx.name = "image", onnx.perm = array<i64: 0, 2, 3, 1>}
) -> (
    tensor<1x4x4x4xf32>
        {onnx.name = "features", onnx.perm = array<i64: 0, 2, 3, 1>},
    tensor<1x2xf32> {onnx.name = "probs"}
) {
  %w = graph.constant @w : tensor<4x3x3x3xf32>
  %b = graph.constant @b : tensor<4xf32>
  %fc = graph.constant @fc : tensor<2x4xf32>
  %features = graph.conv2d %image, %w, %b {strides = array<i64: 2, 2>,
      dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1,
      clamp_min = 0.0 : f32, clamp_max = 6.0 : f32}
      : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %pooled = graph.global_avg_pool %features
      : (tensor<1x4x4x4xf32>) -> tensor<1x1x1x4xf32>
  %flat = graph.reshape %pooled : (tensor<1x1x1x4xf32>) -> tensor<1x4xf32>
  %logits = graph.fully_connected %flat, %fc
      : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
  %probs = graph.softmax %logits {axis = 1} : (tensor<1x2xf32>) -> tensor<1x2xf32>
  func.return %features, %probs : tensor<1x4x4x4xf32>, tensor<1x2xf32>
}
"""

RNG = np.random.default_rng(0)
WEIGHTS = {"w": random(RNG, 4, 3, 3, 3), "b": random(RNG, 4), "fc": random(RNG, 2, 4)}
IMAGE = random(RNG, 1, 3, 8, 8)


def network_in_onnxruntime(output: str) -> np.ndarray:
    nodes = [
        helper.make_node(
            "Conv", ["image", "w", "b"], ["conv"], strides=[2, 2], pads=[1] * 4
        ),
        *clip_node("conv", 0.0, 6.0),  # -> y
        helper.make_node("Identity", ["y"], ["features"]),
        helper.make_node("GlobalAveragePool", ["y"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"]),
    ]
    weights = {"w": nchw(WEIGHTS["w"]), "b": WEIGHTS["b"], "fc": WEIGHTS["fc"]}
    return run_onnx(nodes, {"image": IMAGE}, weights, output=output)


def test_layouts_applied_and_inverted():
    outputs = run_module(parse_module(NETWORK, WEIGHTS), {"image": IMAGE})
    assert list(outputs) == ["features", "probs"]
    assert_close(outputs["features"], network_in_onnxruntime("features"))
    assert_close(outputs["probs"], network_in_onnxruntime("probs"))


@pytest.mark.parametrize(
    "inputs, message",
    [
        ({}, "missing input 'image'"),
        ({"image": IMAGE, "label": IMAGE}, "unknown input 'label'"),
        (
            {"image": IMAGE.transpose(0, 2, 3, 1)},  # NHWC by mistake
            "input 'image': expected float32 of shape [1, 3, 8, 8], got float32 of "
            "shape [1, 8, 8, 3]",
        ),
        ({"image": IMAGE.astype(np.float64)}, "input 'image': expected float32"),
    ],
)
def test_bad_inputs_name_the_input(inputs, message):
    with pytest.raises(TinyccError) as error:
        run_module(parse_module(NETWORK, WEIGHTS), inputs)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


QUANTIZED = """
func.func @main(
    %x: tensor<1x2x3x4x!quant.uniform<i8:f32, 0.5:-2>>
        {onnx.name = "x", onnx.perm = array<i64: 0, 2, 3, 1>}
) -> (tensor<1x2x3x4x!quant.uniform<u8:f32, 0.25:128>>
        {onnx.name = "y", onnx.perm = array<i64: 0, 2, 3, 1>}) {
  %r = graph.relu %x : (tensor<1x2x3x4x!quant.uniform<i8:f32, 0.5:-2>>)
      -> tensor<1x2x3x4x!quant.uniform<u8:f32, 0.25:128>>
  func.return %r : tensor<1x2x3x4x!quant.uniform<u8:f32, 0.25:128>>
}
"""


def test_quantized_boundary_is_storage_integers():
    x = np.arange(-12, 12, dtype=np.int8).reshape(1, 4, 2, 3)  # ONNX NCHW
    outputs = run_module(parse_module(QUANTIZED), {"x": x})
    # relu(0.5 * (x + 2)) requantized to u8 with scale 0.25, zero point 128.
    expected = np.clip(np.maximum(x.astype(int) + 2, 0) * 2 + 128, 0, 255)
    assert outputs["y"].dtype == np.uint8
    np.testing.assert_array_equal(outputs["y"], expected)


def test_quantized_input_must_be_storage_integers():
    with pytest.raises(TinyccError, match="input 'x': expected int8"):
        run_module(parse_module(QUANTIZED), {"x": np.zeros((1, 4, 2, 3), np.float32)})


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "func.func @other(%x: tensor<2xf32>) -> tensor<2xf32> {\n"
            "  func.return %x : tensor<2xf32>\n}",
            "exactly one function, @main",
        ),
        (
            'func.func @main(%x: tensor<2xf32> {onnx.name = "x"}) -> tensor<2xf32> {\n'
            "  func.return %x : tensor<2xf32>\n}",
            "result 0 of @main has no onnx.name",
        ),
        (
            'func.func @main(%x: tensor<2xf32> {onnx.name = "x"})'
            ' -> (tensor<2xf32> {onnx.name = "y"}) {\n'
            '  %y = "test.op"(%x) : (tensor<2xf32>) -> tensor<2xf32>\n'
            "  func.return %y : tensor<2xf32>\n}",
            "the reference interpreter cannot run test.op",
        ),
    ],
)
def test_malformed_modules(text, message):
    with pytest.raises(TinyccError, match=message):
        run_module(parse_module(text), {"x": np.zeros(2, np.float32)})


def test_evaluate_op_rejects_ops_outside_the_graph_dialect():
    op = arith.ConstantOp(FloatAttr(1.0, Float32Type()))
    with pytest.raises(TinyccError, match="no semantics for arith.constant"):
        evaluate_op(op, [])


def test_every_graph_op_has_semantics():
    assert set(graph.Graph.operations) == {graph.ConstantOp, *KERNELS}
