"""int8 convolution and fully connected layers through the C pipeline.

Float models quantized by onnxruntime (per-channel symmetric weights,
asymmetric activations, int32 bias), then `check_int8`: C == the numpy
integer reference bit for bit in both rounding modes, and within 1 LSB of
onnxruntime with `--int8-rounding onnx`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from int8_testlib import ROUNDINGS, check_int8, float_model, quantized, seeded
from onnx import helper

N = helper.make_node


def conv(shape=(1, 8, 9, 7), cout=6, kernel=(3, 3), act=None, **attrs):
    group = attrs.get("group", 1)
    constants = {
        "w": seeded((cout, shape[1] // group, *kernel), 1),
        "b": seeded((cout,), 2),
    }
    nodes = [N("Conv", ["x", "w", "b"], ["c" if act else "y"], **attrs)]
    if act == "Relu":
        nodes.append(N("Relu", ["c"], ["y"]))
    elif act == "Relu6":
        constants |= {"lo": np.float32(0), "hi": np.float32(6)}
        nodes.append(N("Clip", ["c", "lo", "hi"], ["y"]))
    return float_model(nodes, list(shape), constants)


def gemm(rows=2, depth=24, cols=10, act=None):
    constants = {"w": seeded((depth, cols), 3), "b": seeded((cols,), 4)}
    nodes = [
        N("MatMul", ["x", "w"], ["m"]),
        N("Add", ["m", "b"], ["c" if act else "y"]),
    ]
    if act:
        nodes.append(N(act, ["c"], ["y"]))
    return float_model(nodes, [rows, depth], constants)


CASES = {
    "conv_3x3": conv(pads=[1, 1, 1, 1]),
    "conv_strided_asymmetric_pads": conv(strides=[2, 2], pads=[0, 1, 1, 2]),
    "conv_dilated": conv(dilations=[2, 2], pads=[2, 2, 2, 2]),
    "conv_relu": conv(act="Relu", pads=[1, 1, 1, 1]),
    "conv_relu6": conv(act="Relu6", kernel=(1, 1)),
    "conv_1x1": conv(kernel=(1, 1), cout=16),
    "depthwise": conv(cout=8, group=8, pads=[1, 1, 1, 1]),
    "depthwise_multiplier_2": conv(cout=16, group=8, strides=[2, 1], pads=[1, 1, 1, 1]),
    "grouped": conv(cout=6, shape=(1, 4, 6, 6), group=2),
    "fully_connected": gemm(),
    "fully_connected_relu": gemm(act="Relu"),
}


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", CASES)
def test_int8_layer(name: str, rounding: str, tmp_path: Path) -> None:
    check_int8(quantized(CASES[name]), tmp_path, rounding)


SIXTEEN_BY_EIGHT = {
    "conv_3x3": CASES["conv_3x3"],
    "depthwise": CASES["depthwise"],
    "fully_connected": CASES["fully_connected"],
}


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", SIXTEEN_BY_EIGHT)
def test_16x8_layer(name: str, rounding: str, tmp_path: Path) -> None:
    """int16 activations, int8 weights: i64 accumulators, TFLite's int64
    rescaling (tflite mode) or the exact one (onnx mode)."""
    model = quantized(SIXTEEN_BY_EIGHT[name], activations="int16")
    check_int8(model, tmp_path, rounding)


def test_a_folded_bias_leaves_no_dead_weights(tmp_path: Path) -> None:
    """A 1x1 convolution folds the input zero point into its bias table; the
    original bias is then not a parameter of the layer nor a global."""
    from xdsl.dialects import func, memref

    from tinycc.compile import compile_model

    path = tmp_path / "model.onnx"
    onnx.save(quantized(CASES["conv_1x1"]), path)
    _, compiled = compile_model(str(path))
    assert compiled is not None
    ops = list(compiled.module.ops)
    tables = [op.sym_name.data for op in ops if isinstance(op, memref.GlobalOp)]
    layers = [
        op
        for op in ops
        if isinstance(op, func.FuncOp) and "tinycc.layer" in op.attributes
    ]
    conv = next(f for f in layers if "conv2d" in str(f.attributes["tinycc.layer"]))
    assert [a.name_hint for a in conv.body.block.args] == ["input", "weight", "output"]
    # Besides the layer's own tables (bias, multipliers), only its weight.
    prefix = f"{conv.sym_name.data}_"
    assert f"{prefix}bias" in tables
    assert len([name for name in tables if not name.startswith(prefix)]) == 1
