"""Imported models compute what onnxruntime computes (through the interpreter).

Each case is a small model whose import exercises one decision of the
importer (padding, layout tags, attribute forms, folding, quantization); the
reference interpreter runs the IR and onnxruntime runs the ONNX file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from importer_testlib import MICROSOFT, make_model, seeded, tensor
from onnx import TensorProto, helper

from tinycc import zoo
from tinycc.importer import import_onnx
from tinycc.interpreter import run_module

N = helper.make_node


def run_onnxruntime(model: onnx.ModelProto, feeds) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds), strict=True))


def feeds_for(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    feeds = {}
    for i, info in enumerate(model.graph.input):
        tensor_type = info.type.tensor_type
        shape = [d.dim_value for d in tensor_type.shape.dim]
        dtype = helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        if np.issubdtype(dtype, np.integer):
            limits = np.iinfo(dtype)
            rng = np.random.default_rng(seed + i)
            feeds[info.name] = rng.integers(limits.min, limits.max, shape, dtype=dtype)
        else:
            feeds[info.name] = seeded(shape, seed + i, dtype)
    return feeds


def assert_matches_onnxruntime(model: onnx.ModelProto) -> None:
    feeds = feeds_for(model)
    expected = run_onnxruntime(model, feeds)
    actual = run_module(import_onnx(model).module, feeds)
    assert actual.keys() == expected.keys()
    for name, want in expected.items():
        got = actual[name]
        assert got.shape == want.shape and got.dtype == want.dtype, name
        if np.issubdtype(want.dtype, np.integer):  # onnxruntime: float requantization
            diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
            assert diff.max(initial=0) <= 1, name
        else:
            scale = max(1.0, float(np.abs(want).max(initial=0)))
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)


def single(op_type, inputs, output_rank, constants=None, opset=17, **attrs):
    """A one-node model with float inputs `{name: shape}` and a symbolic output."""

    def build() -> onnx.ModelProto:
        names = [*inputs, *(constants or {})]
        node = N(op_type, names, ["y"], **attrs)
        out = tensor("y", [f"d{i}" for i in range(output_rank)])
        return make_model([node], inputs, [out], constants, opset)

    return build


def graph_case(nodes, inputs, output_rank, constants=None, opset=17):
    def build() -> onnx.ModelProto:
        out = tensor("y", [f"d{i}" for i in range(output_rank)])
        return make_model(nodes, inputs, [out], constants, opset)

    return build


IMAGE = {"x": [1, 6, 9, 8]}
W = {"w": seeded((6, 6, 1, 1), 3)}
# A 1x1 convolution first, so that the tested op sees an NHWC-tagged input.
PRE = [N("Conv", ["x", "w"], ["a"])]


def after_conv(nodes, output_rank, constants=None, opset=17):
    return graph_case(
        PRE + nodes, IMAGE, output_rank, {**W, **(constants or {})}, opset
    )


def i64(*values):
    return np.array(values, np.int64)


def conv(**attrs) -> Callable[[], onnx.ModelProto]:
    weight = seeded((6, 6 // attrs.get("group", 1), 3, 3), 1)
    return single("Conv", IMAGE, 4, {"w": weight, "b": seeded((6,), 2)}, **attrs)


CASES: dict[str, Callable[[], onnx.ModelProto]] = {
    # Convolution and pooling windows.
    "conv_pads": conv(pads=[0, 1, 2, 1], strides=[2, 1]),
    "conv_same_upper": conv(auto_pad="SAME_UPPER", strides=[2, 2]),
    "conv_dilated": conv(pads=[2, 1, 2, 0], dilations=[2, 1]),
    "conv_same_lower": conv(auto_pad="SAME_LOWER", strides=[2, 3]),
    "conv_valid_groups": conv(auto_pad="VALID", group=3),
    "conv_depthwise": conv(group=6, pads=[1, 1, 1, 1]),
    "conv_1d": single("Conv", {"x": [1, 2, 11]}, 3, {"w": seeded((4, 2, 3), 4)},
                      strides=[2], pads=[2, 1], dilations=[2]),
    "max_pool_ceil_dilated": single("MaxPool", IMAGE, 4, kernel_shape=[3, 2],
                                    strides=[2, 2], dilations=[1, 2], ceil_mode=1),
    "max_pool_same": single("MaxPool", IMAGE, 4, kernel_shape=[3, 3], strides=[2, 2],
                            auto_pad="SAME_UPPER"),
    "avg_pool_exclude_pad": single("AveragePool", IMAGE, 4, kernel_shape=[3, 3],
                                   pads=[1, 1, 1, 1], strides=[2, 2]),
    "avg_pool_include_pad_ceil": single("AveragePool", IMAGE, 4, kernel_shape=[2, 3],
                                        pads=[1, 0, 1, 1], count_include_pad=1,
                                        ceil_mode=1, strides=[2, 2]),
    "avg_pool_1d": single("AveragePool", {"x": [1, 3, 10]}, 3, kernel_shape=[3],
                          strides=[2]),
    "global_pools": graph_case([N("GlobalMaxPool", ["x"], ["m"]),
                                N("GlobalAveragePool", ["x"], ["a"]),
                                N("Sub", ["m", "a"], ["y"])], IMAGE, 4),
    "batch_norm": single("BatchNormalization", IMAGE, 4,
                         {"s": seeded((6,), 5), "b": seeded((6,), 6),
                          "m": seeded((6,), 7), "v": np.abs(seeded((6,), 8)) + 0.5}),
    # Resize.
    "resize_nearest": single("Resize", IMAGE, 4, {
        "roi": np.zeros(0, np.float32), "scales": np.float32([1, 1, 2, 1.5])},
        mode="nearest", coordinate_transformation_mode="asymmetric",
        nearest_mode="floor"),
    "resize_nearest_half_pixel": single("Resize", IMAGE, 4, {
        "roi": np.zeros(0, np.float32), "scales": np.float32([1, 1, 3, 2])}),
    "resize_linear_sizes": single("Resize", IMAGE, 4, {
        "roi": np.zeros(0, np.float32), "scales": np.zeros(0, np.float32),
        "sizes": i64(1, 6, 13, 5)}, mode="linear"),
    "resize_linear_align_corners": single("Resize", IMAGE, 4, {
        "roi": np.zeros(0, np.float32), "scales": np.float32([1, 1, 2, 2])},
        mode="linear", coordinate_transformation_mode="align_corners"),
    # Elementwise with layouts and broadcasting.
    "sub_constant_lhs": after_conv([N("Sub", ["c", "a"], ["y"])], 4,
                                   {"c": seeded((6, 1, 1), 9)}),
    "div_by_row": after_conv([N("Div", ["a", "c"], ["y"])], 4,
                             {"c": np.abs(seeded((8,), 10)) + 1}),
    "add_two_layouts": graph_case([N("Conv", ["x", "w"], ["a"]),
                                   N("Add", ["a", "x"], ["y"])], IMAGE, 4, W),
    "mul_lower_rank_computed": graph_case(
        [N("Conv", ["x", "w"], ["a"]), N("Mul", ["a", "r"], ["y"])],
        {"x": [1, 6, 9, 8], "r": [9, 1]}, 4, W),
    "prelu_per_channel": after_conv([N("PRelu", ["a", "slope"], ["y"])], 4,
                                    {"slope": seeded((6, 1, 1), 11)}),
    "activations": after_conv([
        N("Clip", ["a", "lo", "hi"], ["c"]), N("HardSwish", ["c"], ["h"]),
        N("LeakyRelu", ["h"], ["l"], alpha=0.3), N("HardSigmoid", ["l"], ["s"]),
        N("Tanh", ["s"], ["t"]), N("Exp", ["t"], ["e"]), N("Sigmoid", ["e"], ["g"]),
        N("Gelu", ["g"], ["y"]),
    ], 4, {"lo": np.float32(-1), "hi": np.float32(2)}, opset=20),
    "sum_three": after_conv([N("Sum", ["a", "a", "c"], ["y"])], 4,
                            {"c": seeded((1,), 12)}),
    # Softmax semantics.
    "softmax_11_flattens": single("Softmax", {"x": [2, 3, 4]}, 3, opset=11, axis=1),
    "log_softmax_13_channels": after_conv([N("LogSoftmax", ["a"], ["y"], axis=1)], 4),
    # Data movement on tagged tensors.
    "channel_shuffle": after_conv([
        N("Reshape", ["a", "s1"], ["r"]),
        N("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
        N("Reshape", ["t", "s2"], ["y"]),
    ], 4, {"s1": i64(1, 2, 3, 9, 8), "s2": i64(1, 6, 9, 8)}),
    "flatten_axis_2": after_conv([N("Flatten", ["a"], ["y"], axis=2)], 2),
    "transpose_nhwc": after_conv([N("Transpose", ["a"], ["y"], perm=[3, 1, 0, 2])], 4),
    "squeeze_unsqueeze": graph_case([
        N("Conv", ["x", "w"], ["a"]), N("ReduceMean", ["a", "axes"], ["m"], keepdims=1),
        N("Squeeze", ["m", "axes"], ["s"]), N("Unsqueeze", ["s", "uaxes"], ["y"]),
    ], IMAGE, 4, {**W, "axes": i64(2), "uaxes": i64(0)}, opset=18),
    "slice_negative_steps": after_conv(
        [N("Slice", ["a", "st", "en", "ax", "sp"], ["y"])], 4,
        {"st": i64(-1, 1, 7), "en": i64(-100, 5, 0), "ax": i64(1, 3, 2),
         "sp": i64(-2, 2, -3)}),
    "pad_negative_and_value": after_conv([N("Pad", ["a", "p", "v"], ["y"])], 4,
                                         {"p": i64(0, 1, -2, 3, 0, 0, 1, -1),
                                          "v": np.float32(0.25)}),
    "split_and_concat": after_conv([
        N("Split", ["a", "sizes"], ["p", "q"], axis=1),
        N("Concat", ["q", "c", "p"], ["y"], axis=1),
    ], 4, {"sizes": i64(2, 4), "c": seeded((1, 1, 9, 8), 13)}),
    "reduce_variants": after_conv([
        N("ReduceSum", ["a", "ax1"], ["s"], keepdims=0),
        N("ReduceMax", ["s"], ["y"], axes=[-1], keepdims=1),
    ], 3, {"ax1": i64(1)}, opset=13),
    # Linear layers.
    "gemm_all_attributes": single("Gemm", {"x": [5, 3]}, 2,
                                  {"b": seeded((4, 5), 14), "c": seeded((1, 4), 15)},
                                  alpha=0.7, beta=-1.5, transA=1, transB=1),
    "gemm_full_c": single("Gemm", {"x": [3, 5]}, 2,
                          {"b": seeded((5, 4), 16), "c": seeded((3, 4), 17)}, beta=2.0),
    "gemm_computed_b": single("Gemm", {"x": [3, 5], "b": [4, 5]}, 2, alpha=2.0,
                              transB=1),
    "matmul_3d_constant": single("MatMul", {"x": [2, 3, 5]}, 3,
                                 {"b": seeded((5, 4), 18)}),
    "matmul_on_nhwc": after_conv([N("MatMul", ["a", "b"], ["y"])], 4,
                                 {"b": seeded((8, 2), 19)}),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_float_case_matches_onnxruntime(name: str) -> None:
    assert_matches_onnxruntime(CASES[name]())


# Quantized ---------------------------------------------------------------------


def qdq_conv_relu_pool() -> onnx.ModelProto:
    rng = np.random.default_rng(20)
    w = rng.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    w_scale = np.float32([0.01, 0.02, 0.015, 0.03])
    nodes = [
        N("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        N("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
        N("DequantizeLinear", ["w", "ws"], ["wd"], axis=0),
        N("DequantizeLinear", ["b", "bs"], ["bd"], axis=0),
        N("Conv", ["xd", "wd", "bd"], ["c"], pads=[1, 1, 1, 1]),
        N("Relu", ["c"], ["r"]),
        N("QuantizeLinear", ["r", "ys", "yz"], ["rq"]),
        N("DequantizeLinear", ["rq", "ys", "yz"], ["rd"]),
        N("MaxPool", ["rd"], ["m"], kernel_shape=[2, 2], strides=[2, 2]),
        N("QuantizeLinear", ["m", "ys", "yz"], ["y"]),
    ]
    constants = {
        "xs": np.float32(0.02), "xz": np.uint8(128), "w": w, "ws": w_scale,
        "b": rng.integers(-300, 300, 4).astype(np.int32),
        "bs": np.float32(0.02) * w_scale,
        "ys": np.float32(0.03), "yz": np.uint8(0),
    }  # fmt: skip
    return make_model(
        nodes, {"x": [1, 3, 6, 6]}, [tensor("y", [1, 4, 3, 3], TensorProto.UINT8)],
        constants,
    )  # fmt: skip


def qoperator_chain() -> onnx.ModelProto:
    rng = np.random.default_rng(21)

    def q(op_type, inputs, output, **attrs):
        return N(op_type, inputs, [output], domain=MICROSOFT, **attrs)

    nodes = [
        N("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        N("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "cs", "cz", "b"], ["c"],
          pads=[1, 1, 1, 1]),
        q("QLinearAdd", ["c", "cs", "cz", "xq", "xs", "xz", "as", "az"], "a"),
        q("QLinearLeakyRelu", ["a", "as", "az", "cs", "cz"], "l", alpha=0.2),
        q("QLinearAveragePool", ["l", "cs", "cz", "ps", "pz"], "p",
          kernel_shape=[2, 2], strides=[2, 2]),
        q("QLinearGlobalAveragePool", ["p", "ps", "pz", "ps", "pz"], "g"),
        N("Flatten", ["g"], ["f"]),
        N("QLinearMatMul", ["f", "ps", "pz", "m", "ms", "mz", "ys", "yz"], ["mm"]),
        q("QLinearSoftmax", ["mm", "ys", "yz", "ss", "sz"], "y", opset=13, axis=-1),
    ]  # fmt: skip
    constants = {
        "xs": np.float32(0.02), "xz": np.uint8(128),
        "w": rng.integers(-127, 128, (3, 3, 3, 3)).astype(np.int8),
        "ws": np.float32([0.01, 0.02, 0.03]), "wz": np.zeros(3, np.int8),
        "b": rng.integers(-100, 100, 3).astype(np.int32),
        "cs": np.float32(0.05), "cz": np.uint8(120),
        "as": np.float32(0.06), "az": np.uint8(110),
        "ps": np.float32(0.04), "pz": np.uint8(100),
        "m": rng.integers(0, 255, (3, 5)).astype(np.uint8),
        "ms": np.float32(0.01), "mz": np.uint8(128),
        "ys": np.float32(0.02), "yz": np.uint8(128),
        "ss": np.float32(1 / 256), "sz": np.uint8(0),
    }  # fmt: skip
    return make_model(
        nodes, {"x": [1, 3, 6, 6]}, [tensor("y", [1, 5], TensorProto.UINT8)],
        constants, extra_opsets={MICROSOFT: 1},
    )  # fmt: skip


def int8_tensorflow_style() -> onnx.ModelProto:
    """int8 NHWC input through Transpose and DequantizeLinear, as tf2onnx writes."""
    nodes = [
        N("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        N("DequantizeLinear", ["t", "s", "z"], ["d"]),
        N("AveragePool", ["d"], ["p"], kernel_shape=[2, 2]),
        N("QuantizeLinear", ["p", "s", "z"], ["q"]),
        N("Transpose", ["q"], ["y"], perm=[0, 2, 3, 1]),
    ]
    return make_model(
        nodes,
        [tensor("x", [1, 5, 5, 3], TensorProto.INT8)],
        [tensor("y", [1, 4, 4, 3], TensorProto.INT8)],
        {"s": np.float32(0.1), "z": np.int8(-5)},
    )


QUANTIZED = {
    "qdq_conv_relu_pool": qdq_conv_relu_pool,
    "qoperator_chain": qoperator_chain,
    "int8_tensorflow_style": int8_tensorflow_style,
}


@pytest.mark.parametrize("name", QUANTIZED)
def test_quantized_case_matches_onnxruntime(name: str) -> None:
    assert_matches_onnxruntime(QUANTIZED[name]())


def quantize_qoperator(model: onnx.ModelProto, tmp_path: Path) -> onnx.ModelProto:
    """onnxruntime's static quantization in QOperator form (uint8 activations)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = iter([zoo.random_input(model, seed) for seed in range(4)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    pre, out = tmp_path / "pre.onnx", tmp_path / "qop.onnx"
    quant_pre_process(model, pre)
    quantize_static(
        pre, out, Reader(), quant_format=QuantFormat.QOperator,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        per_channel=True,
    )  # fmt: skip
    return onnx.load(out)


def test_onnxruntime_qoperator_network(tmp_path: Path) -> None:
    model = quantize_qoperator(zoo.resnet8(), tmp_path)
    ops = {(node.domain, node.op_type) for node in model.graph.node}
    assert {("", "QLinearConv"), (MICROSOFT, "QGemm"), (MICROSOFT, "QLinearAdd")} <= ops
    feeds = zoo.random_input(model, seed=5)
    (want,) = run_onnxruntime(model, feeds).values()
    (got,) = run_module(import_onnx(model).module, feeds).values()
    # The float output is a dequantized uint8: one step of its scale at most.
    last = model.graph.node[-1]
    assert last.op_type == "DequantizeLinear"
    scales = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    np.testing.assert_allclose(got, want, rtol=0, atol=float(scales[last.input[1]]))


def test_microsoft_gelu_before_opset_20() -> None:
    node = N("Gelu", ["x"], ["y"], domain=MICROSOFT)
    model = make_model(
        [node], {"x": [2, 5]}, {"y": [2, 5]}, opset=17, extra_opsets={MICROSOFT: 1}
    )
    assert_matches_onnxruntime(model)
