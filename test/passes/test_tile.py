"""The tile level: lowering keeps the numbers, tiling keeps them too.

The oracle is the reference interpreter on the untiled graph (itself checked
against onnxruntime): every tiled program must give the same arrays, for
convolutions and pools at every stride/dilation/padding, boxes that do not
divide the output, and whole networks tiled layer by layer.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from tinycc import zoo
from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.dialects import tile
from tinycc.importer import import_onnx
from tinycc.interpreter import run_function
from tinycc.ir import parse_module
from tinycc.signature import main_function


def run(module, *inputs: np.ndarray) -> list[np.ndarray]:
    return run_function(main_function(module), list(inputs))


def tiled_matches(text: str, inputs: list[np.ndarray], pipeline: str) -> None:
    expected = run(parse_module(text), *inputs)
    module = parse_module(text)
    apply_pipeline(module, pipeline)
    assert any(isinstance(op, tile.AssembleOp) for op in module.walk()), pipeline
    actual = run(module, *inputs)
    for want, got in zip(expected, actual, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def conv_text(
    h: int,
    w: int,
    c: int,
    k: int,
    stride: int,
    dilation: int,
    pads: tuple[int, int, int, int],
    groups: int,
    c_out: int,
) -> str:
    from tinycc.dialects.graph import conv2d_shape

    shape = conv2d_shape(
        (1, h, w, c), (c_out, k, k, c // groups), (stride,) * 2, (dilation,) * 2,
        pads, groups,
    )  # fmt: skip
    out = "x".join(map(str, shape))
    weights = np.random.default_rng(3).standard_normal((c_out, k, k, c // groups))
    values = '"0x' + weights.astype("<f4").tobytes().hex().upper() + '"'
    wtype = f"tensor<{c_out}x{k}x{k}x{c // groups}xf32>"
    return f"""
func.func @main(%x: tensor<1x{h}x{w}x{c}xf32>) -> tensor<{out}xf32> {{
  %w = graph.constant @w : {wtype} = dense<{values}>
  %y = graph.conv2d %x, %w {{onnx.node = "conv", strides = array<i64: {stride}, {stride}>,
    dilations = array<i64: {dilation}, {dilation}>, pads = array<i64: {", ".join(map(str, pads))}>,
    groups = {groups} : i64}} : (tensor<1x{h}x{w}x{c}xf32>, {wtype}) -> tensor<{out}xf32>
  func.return %y : tensor<{out}xf32>
}}"""  # noqa: E501


@pytest.mark.parametrize(
    "stride, dilation, pads, groups, c_out, sizes",
    [
        (1, 1, (1, 1, 1, 1), 1, 4, (1, 3, 3, 0)),
        (2, 1, (1, 1, 1, 1), 1, 4, (1, 2, 5, 0)),
        (2, 1, (0, 1, 2, 0), 1, 4, (1, 1, 1, 2)),
        (1, 2, (2, 2, 2, 2), 1, 3, (1, 4, 4, 0)),
        (3, 2, (0, 0, 0, 0), 1, 2, (1, 1, 2, 0)),
        (1, 1, (1, 1, 1, 1), 3, 3, (1, 3, 2, 1)),  # depthwise, channel boxes too
        (2, 1, (1, 0, 1, 0), 3, 3, (1, 2, 2, 2)),
    ],
)
def test_tiled_conv_matches(stride, dilation, pads, groups, c_out, sizes) -> None:
    x = np.random.default_rng(1).standard_normal((1, 9, 8, 3)).astype(np.float32)
    text = conv_text(9, 8, 3, 3, stride, dilation, pads, groups, c_out)
    spec = ",".join(map(str, sizes))
    tiled_matches(text, [x], f"lower-graph-to-tile,tile{{sizes={spec}}}")


@pytest.mark.parametrize("count_include_pad", ["", ", count_include_pad"])
@pytest.mark.parametrize("kind", ["max_pool2d", "avg_pool2d"])
def test_tiled_pool_matches(kind: str, count_include_pad: str) -> None:
    extra = count_include_pad if kind == "avg_pool2d" else ""
    text = f"""
func.func @main(%x: tensor<1x7x6x2xf32>) -> tensor<1x4x3x2xf32> {{
  %y = graph.{kind} %x {{kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>,
    pads = array<i64: 1, 1, 1, 0>{extra}}}
    : (tensor<1x7x6x2xf32>) -> tensor<1x4x3x2xf32>
  func.return %y : tensor<1x4x3x2xf32>
}}"""
    x = np.random.default_rng(2).standard_normal((1, 7, 6, 2)).astype(np.float32)
    tiled_matches(text, [x], "lower-graph-to-tile,tile{sizes=1,3,2,1}")


def test_tiled_constant_pad_matches() -> None:
    text = """
func.func @main(%x: tensor<1x4x5x2xf32>) -> tensor<1x7x6x2xf32> {
  %y = graph.pad %x {pads = array<i64: 0, 2, 0, 0, 0, 1, 1, 0>, value = -3.0 : f32}
    : (tensor<1x4x5x2xf32>) -> tensor<1x7x6x2xf32>
  func.return %y : tensor<1x7x6x2xf32>
}"""
    x = np.random.default_rng(4).standard_normal((1, 4, 5, 2)).astype(np.float32)
    tiled_matches(text, [x], "lower-graph-to-tile,tile{sizes=1,3,4,0}")


@pytest.mark.parametrize("build", [zoo.kws_dscnn, zoo.resnet8], ids=["kws", "resnet8"])
def test_whole_network_tiled_layer_by_layer(build) -> None:
    module = import_onnx(build()).module
    apply_pipeline(module, DEFAULT_PIPELINE)
    x = (
        np.random.default_rng(5)
        .standard_normal(main_function(module).function_type.inputs.data[0].get_shape())
        .astype(np.float32)
    )
    expected = run(module, x)
    apply_pipeline(module, "lower-graph-to-tile,tile{sizes=1,4,4,0}")
    assert sum(isinstance(op, tile.AssembleOp) for op in module.walk()) >= 5
    np.testing.assert_allclose(run(module, x)[0], expected[0], rtol=1e-5, atol=1e-6)


def test_untileable_op_is_a_clear_error() -> None:
    text = """
func.func @main(%x: tensor<1x4x4x2xf32>) -> tensor<1x8x8x2xf32> {
  %y = graph.resize %x {onnx.node = "up", mode = "nearest", coordinate_mode = "asymmetric",
    nearest_mode = "floor", scales = array<f64: 2.0, 2.0>} : (tensor<1x4x4x2xf32>) -> tensor<1x8x8x2xf32>
  func.return %y : tensor<1x8x8x2xf32>
}"""  # noqa: E501
    module = parse_module(text)
    with pytest.raises(Exception, match=r"graph.resize \(node 'up'\) cannot be tiled"):
        apply_pipeline(module, "lower-graph-to-tile,tile{sizes=1,4,4,0}")


def test_lowering_keeps_onnx_model_numbers() -> None:
    model = zoo.vww_mobilenet_v1()
    module = import_onnx(model).module
    apply_pipeline(module, DEFAULT_PIPELINE)
    x = np.random.default_rng(6).standard_normal((1, 96, 96, 3)).astype(np.float32)
    expected = run(module, x)
    apply_pipeline(module, "lower-graph-to-tile")
    assert all(
        isinstance(op.parent_op(), tile.ComputeOp)
        for op in module.walk()
        if op.name.startswith("graph.") and op.name != "graph.constant"
    )
    np.testing.assert_array_equal(run(module, x)[0], expected[0])
    assert onnx  # the zoo builds ONNX models; imported above
