"""Buffers read off graph IR: sizes, lifetimes, views and in-place candidates."""

from __future__ import annotations

import pytest
from xdsl.ir import Operation

from tinycc.dialects import graph
from tinycc.ir import parse_module
from tinycc.memory import Buffer, graph_buffers, liveness

# Step: 0 conv, 1 relu, 2 add (skip), 3 reshape, 4 transpose of a unit axis,
# 5 transpose to NCHW (moves data), 6 quantize, 7 relu of a graph output.
GRAPH = """
builtin.module {
  func.func @main(%x: tensor<1x4x4x2xf32> {onnx.name = "x"})
      -> (tensor<32x1x!quant.uniform<i8:f32, 0.1:0>> {onnx.name = "q"},
          tensor<1x2x4x4xf32> {onnx.name = "nchw"},
          tensor<1x2x4x4xf32> {onnx.name = "relu2"}) {
    %w = graph.constant @w : tensor<2x1x1x2xf32> = dense<[[[[1.0, 0.0]]], [[[0.0, 1.0]]]]>
    %0 = graph.conv2d %x, %w {onnx.node = "conv", strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>) -> tensor<1x4x4x2xf32>
    %1 = graph.relu %0 {onnx.node = "relu"} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
    %2 = graph.add %1, %x {onnx.node = "skip"} : (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
    %3 = graph.reshape %2 {onnx.node = "flatten"} : (tensor<1x4x4x2xf32>) -> tensor<1x32xf32>
    %4 = graph.transpose %3 {onnx.node = "column", perm = array<i64: 1, 0>} : (tensor<1x32xf32>) -> tensor<32x1xf32>
    %5 = graph.transpose %2 {onnx.node = "nchw", perm = array<i64: 0, 3, 1, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x4x4xf32>
    %6 = graph.quantize %4 {onnx.node = "q"} : (tensor<32x1xf32>) -> tensor<32x1x!quant.uniform<i8:f32, 0.1:0>>
    %7 = graph.relu %5 {onnx.node = "relu2"} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    func.return %6, %5, %7 : tensor<32x1x!quant.uniform<i8:f32, 0.1:0>>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  }
}
"""  # noqa: E501


def test_buffers_of_a_small_graph() -> None:
    buffers, ops = graph_buffers(parse_module(GRAPH))
    assert [op.attributes["onnx.node"].data for op in ops] == [
        "conv", "relu", "skip", "flatten", "column", "nchw", "q", "relu2",
    ]  # fmt: skip
    f32 = 4 * 32  # 32 float32 elements
    assert buffers == [
        Buffer("x", f32, 0, 2, "input"),
        Buffer("conv", f32, 0, 1, "activation"),
        # conv dies where relu is born: relu may overwrite it.
        Buffer("relu", f32, 1, 2, "activation", alias_of="conv"),
        # The add may overwrite relu (dying), never the graph input x. The
        # reshape and the unit-axis transpose are views of the same bytes,
        # read until the quantize at step 6.
        Buffer("skip", f32, 2, 6, "activation", alias_of="relu"),
        # A transpose that moves data is a copy; as an output it lives to
        # the end, and relu2 may not overwrite it.
        Buffer("nchw", f32, 5, 7, "output"),
        Buffer("q", 32, 6, 7, "output"),  # int8 storage: 1 byte each
        Buffer("relu2", f32, 7, 7, "output"),
    ]


def test_user_provided_inputs_and_outputs_are_left_out() -> None:
    buffers, _ = graph_buffers(parse_module(GRAPH), io_in_arena=False)
    assert [b.name for b in buffers] == ["conv", "relu", "skip"]


BROADCAST = """
builtin.module {
  func.func @main(%x: tensor<2x3xf32> {onnx.name = "x"}) -> (tensor<2x3xf32> {onnx.name = "s"}) {
    %0 = graph.relu %x {onnx.node = "r"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %1 = graph.reduce_sum %0 {onnx.node = "row", axes = array<i64: 1>, keepdims} : (tensor<2x3xf32>) -> tensor<2x1xf32>
    %2 = graph.add %1, %0 {onnx.node = "a"} : (tensor<2x1xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %3 = graph.softmax %2 {onnx.node = "s", axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    func.return %3 : tensor<2x3xf32>
  }
}
"""  # noqa: E501


def test_in_place_only_on_same_shape_elementwise() -> None:
    buffers, _ = graph_buffers(parse_module(BROADCAST))
    alias = {b.name: b.alias_of for b in buffers}
    # The add may overwrite its full-shape operand, not the broadcast one;
    # the softmax reads a whole row before writing it: not in place.
    assert alias == {"x": None, "r": None, "row": None, "a": "r", "s": None}


def test_scratch_lives_during_its_step(monkeypatch: pytest.MonkeyPatch) -> None:
    def scratch_bytes(op: Operation) -> int:
        return 64 if isinstance(op, graph.Conv2DOp) else 0

    monkeypatch.setattr(liveness, "scratch_bytes", scratch_bytes)
    buffers, _ = graph_buffers(parse_module(GRAPH), io_in_arena=False)
    assert Buffer("conv.scratch", 64, 0, 0, "scratch") in buffers
    assert [b.kind for b in buffers].count("scratch") == 1
