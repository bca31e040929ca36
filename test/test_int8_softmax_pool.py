"""int8 softmax, log-softmax and pooling through the C pipeline.

Float models quantized by onnxruntime, then `check_int8`: C == the numpy
integer reference bit for bit in both rounding modes, and within 1 LSB of
onnxruntime with `--int8-rounding onnx`. Where the quantizer's choice is not
the case to test, `quantize_output` sets the op's output quantization: a
softmax's becomes TFLite's `(1/256, -128)` (onnxruntime writes `(1/255,
-128)`), a log-softmax's (left in float by onnxruntime) TFLite's `(16/256,
127)` or another, a pool's one differing from its input's (onnxruntime
shares them), a global max pool's (left in float) its input's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from c_pipeline_testlib import run_in_c
from int8_testlib import (
    ROUNDINGS,
    check_int8,
    float_model,
    interpreted,
    output_lsb,
    quantized,
    seeded,
)
from onnx import helper, numpy_helper

from tinycc import zoo

N = helper.make_node


def logits(
    rows=32, depth=16, classes=10, spread=1.0, op="Softmax", **softmax
) -> onnx.ModelProto:
    """A fully connected layer, then softmax (or `op`): `spread` scales the
    weights, hence the logits' quantization scale."""
    constants = {"w": seeded((depth, classes), 1, spread), "b": seeded(classes, 2)}
    nodes = [
        N("MatMul", ["x", "w"], ["m"]),
        N("Add", ["m", "b"], ["l"]),
        N(op, ["l"], ["y"], **softmax),
    ]
    return float_model(nodes, [rows, depth], constants)


def conv_then(node: str, shape=(1, 3, 9, 8), **attrs) -> onnx.ModelProto:
    """A 1x1 convolution (so that onnxruntime quantizes what follows), then
    `node` on its output."""
    channels = shape[1]
    constants = {"w": seeded((channels, channels, 1, 1), 3), "b": seeded(channels, 4)}
    nodes = [
        N("Conv", ["x", "w", "b"], ["c"]),
        N(node, ["c"], ["y"], name="tested", **attrs),
    ]
    return float_model(nodes, list(shape), constants)


def quantize_output(
    model: onnx.ModelProto,
    op_type: str,
    scale: float | None = None,
    zero_point: int = 0,
) -> onnx.ModelProto:
    """The output of the (one) `op_type` node quantized with `scale` and
    `zero_point`, or as its input if `scale` is None: the quantizer's pair
    rewired to them, or a new pair if it left the node in float."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    nodes = model.graph.node
    (op,) = [n for n in nodes if n.op_type == op_type]
    (source,) = [n for n in nodes if op.input[0] in n.output]
    params = list(source.input[1:])
    if scale is not None:
        params = [f"{op_type}_out_scale", f"{op_type}_out_zero_point"]
        model.graph.initializer.extend(
            [
                numpy_helper.from_array(np.float32(scale), params[0]),
                numpy_helper.from_array(np.int8(zero_point), params[1]),
            ]
        )
    quantizes = [n for n in nodes if op.output[0] in n.input]
    if quantizes and quantizes[0].op_type == "QuantizeLinear":
        (dequantize,) = [n for n in nodes if quantizes[0].output[0] in n.input]
        for node in (quantizes[0], dequantize):
            node.input[1:] = params
        return model
    output, where = op.output[0], list(nodes).index(op) + 1
    op.output[0] = f"{output}_float"
    pair = [
        N("QuantizeLinear", [op.output[0], *params], [f"{output}_q"]),
        N("DequantizeLinear", [f"{output}_q", *params], [output]),
    ]
    for offset, node in enumerate(pair):
        nodes.insert(where + offset, node)
    return model


def tflite_output(model: onnx.ModelProto) -> onnx.ModelProto:
    """The softmax's output quantized as TFLite's: (1/256, -128)."""
    return quantize_output(model, "Softmax", 1 / 256, -128)


SOFTMAX = {
    "softmax": quantized(logits()),
    "softmax_sharp": quantized(logits(spread=4.0)),
    "softmax_flat": quantized(logits(spread=0.1)),
    "softmax_1_256": tflite_output(quantized(logits(spread=2.0))),
    "softmax_long_rows": tflite_output(quantized(logits(rows=2, classes=300))),
    "softmax_channels": quantized(conv_then("Softmax", axis=1)),
    "softmax_middle_axis": quantized(conv_then("Softmax", axis=2)),
}


def log_softmax(scale: float, zero_point: int, **model) -> onnx.ModelProto:
    """onnxruntime leaves LogSoftmax in float: its output quantized by hand."""
    float_model = logits(op="LogSoftmax", **model)
    return quantize_output(quantized(float_model), "LogSoftmax", scale, zero_point)


SOFTMAX |= {
    "log_softmax": log_softmax(16 / 256, 127),
    "log_softmax_sharp": log_softmax(16 / 256, 127, spread=4.0),
    "log_softmax_other_scale": log_softmax(0.05, 100, spread=0.3),
    "log_softmax_middle_axis": quantize_output(
        quantized(conv_then("LogSoftmax", axis=2)), "LogSoftmax", 16 / 256, 127
    ),
}


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", SOFTMAX)
def test_int8_softmax(name: str, rounding: str, tmp_path: Path) -> None:
    check_int8(SOFTMAX[name], tmp_path, rounding)


def average(**attrs) -> onnx.ModelProto:
    return quantized(conv_then("AveragePool", **attrs))


def maximum(**attrs) -> onnx.ModelProto:
    return quantized(conv_then("MaxPool", **attrs))


POOL = {
    "avg_3x3_pads": average(kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    "avg_include_pad": average(
        kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1
    ),
    "avg_strided_asymmetric": average(
        kernel_shape=[3, 2], strides=[2, 2], pads=[0, 1, 2, 0]
    ),
    "avg_ceil_mode": average(
        kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 1, 1], ceil_mode=1
    ),
    "avg_requantized": quantize_output(
        average(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 1]),
        "AveragePool",
        0.013,
        5,
    ),
    "max_3x3_pads": maximum(kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    "max_strided": maximum(kernel_shape=[2, 2], strides=[2, 2]),
    "max_dilated": maximum(kernel_shape=[2, 2], dilations=[2, 2], pads=[1, 1, 1, 1]),
    "max_dilated_ceil_mode": maximum(
        kernel_shape=[2, 2],
        dilations=[2, 1],
        pads=[1, 0, 1, 1],
        strides=[3, 2],
        ceil_mode=1,
    ),
    "max_requantized": quantize_output(
        maximum(kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2]),
        "MaxPool",
        0.02,
        -3,
    ),
    # Rows -1 and 1 of a one-row input: windows of padding only.
    "max_only_padding": maximum(
        shape=(1, 3, 1, 8), kernel_shape=[2, 2], dilations=[2, 1], pads=[1, 0, 1, 0]
    ),
    "max_only_padding_requantized": quantize_output(
        maximum(
            shape=(1, 3, 1, 8),
            kernel_shape=[2, 2],
            dilations=[2, 1],
            pads=[1, 0, 1, 0],
        ),
        "MaxPool",
        0.02,
        -3,
    ),
    "global_avg": quantized(conv_then("GlobalAveragePool")),
    "global_avg_same_scale": quantize_output(
        quantized(conv_then("GlobalAveragePool")), "GlobalAveragePool"
    ),
    "global_max": quantize_output(
        quantized(conv_then("GlobalMaxPool")), "GlobalMaxPool"
    ),
    "global_max_requantized": quantize_output(
        quantized(conv_then("GlobalMaxPool")), "GlobalMaxPool", 0.01, 7
    ),
}


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", POOL)
def test_int8_pool(name: str, rounding: str, tmp_path: Path) -> None:
    check_int8(POOL[name], tmp_path, rounding)


CEIL_MODE_INCLUDE_PAD = average(
    kernel_shape=[2, 3],
    strides=[3, 2],
    pads=[1, 1, 0, 1],
    ceil_mode=1,
    count_include_pad=1,
)


def test_int8_avg_pool_ceil_mode_include_pad(tmp_path: Path) -> None:
    """Windows reaching past the padding (ceil mode), padding counted.
    onnxruntime's fused QLinearAveragePool divides them by the whole kernel
    (several LSB off); its unfused QDQ path, like ONNX, counts only the cells
    up to the padded end: in `onnx` mode we are within 1 LSB of that."""
    check_int8(CEIL_MODE_INCLUDE_PAD, tmp_path, "tflite")
    feeds = zoo.random_input(CEIL_MODE_INCLUDE_PAD, 1)
    path = tmp_path / "model.onnx"
    onnx.save(CEIL_MODE_INCLUDE_PAD, path)
    ours = run_in_c(path, tmp_path / "onnx", feeds, rounding="onnx")["y"]
    np.testing.assert_array_equal(
        ours, interpreted(CEIL_MODE_INCLUDE_PAD, "onnx", feeds)["y"]
    )
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = (
        onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    session = onnxruntime.InferenceSession(
        CEIL_MODE_INCLUDE_PAD.SerializeToString(),
        options,
        providers=["CPUExecutionProvider"],
    )
    (unfused,) = session.run(None, feeds)
    lsb = output_lsb(CEIL_MODE_INCLUDE_PAD, "y")
    assert np.abs(ours - unfused).max() <= lsb * 1.0001
