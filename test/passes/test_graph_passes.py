"""graph-canonicalize and graph-fold-qdq keep what the model computes.

Each test writes a small graph-dialect program, runs it with the reference
interpreter before and after the passes, checks that the rewrite it is about
happened, and compares the outputs with each other and with onnxruntime on
the equivalent ONNX model (NCHW, ONNX's weight layouts). The real tf2onnx QDQ
models of `../shared/models` must come out all-int8 with unchanged outputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import PassPipeline

from tinycc.dialects import graph
from tinycc.importer import import_onnx
from tinycc.interpreter import run_function, run_module
from tinycc.ir import make_context, parse_module
from tinycc.registry import get_all_passes

RNG = np.random.default_rng(7)
PIPELINE = "graph-canonicalize,graph-fold-qdq,graph-canonicalize"
NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)

# Helpers ----------------------------------------------------------------------


def parse(text: str, arrays: dict[str, np.ndarray]) -> ModuleOp:
    return parse_module(text, {k: np.ascontiguousarray(v) for k, v in arrays.items()})


def run(module: ModuleOp, *args: np.ndarray) -> list[np.ndarray]:
    main = next(op for op in module.ops if isinstance(op, func.FuncOp))
    return run_function(main, list(args))


def apply(module: ModuleOp, pipeline: str) -> ModuleOp:
    """The module after `pipeline`, verified; the input module is untouched."""
    module = module.clone()
    PassPipeline.parse_spec(get_all_passes(), pipeline).apply(make_context(), module)
    module.verify()
    return module


def op_names(module: ModuleOp) -> list[str]:
    return [op.name for op in module.walk() if op.name.startswith("graph.")]


def onnxruntime(
    nodes: list[onnx.NodeProto],
    feeds: dict[str, np.ndarray],
    outputs: dict[str, int],
    initializers: dict[str, np.ndarray],
) -> list[np.ndarray]:
    """Run a one-graph ONNX model; `outputs` maps names to element types."""
    model = helper.make_model(
        helper.make_graph(
            nodes,
            "g",
            [
                helper.make_tensor_value_info(
                    name, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape
                )
                for name, a in feeds.items()
            ],
            [helper.make_tensor_value_info(n, t, None) for n, t in outputs.items()],
            [numpy_helper.from_array(a, n) for n, a in initializers.items()],
        ),
        opset_imports=[helper.make_opsetid("", 13)],
        ir_version=8,
    )
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(list(outputs), feeds)


def f32(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def bn_params(channels: int) -> dict[str, np.ndarray]:
    return {
        "scale": f32(channels),
        "beta": f32(channels),
        "mean": f32(channels),
        "var": RNG.uniform(0.2, 2.0, channels).astype(np.float32),
    }


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(
        actual, expected, rtol=1e-5, atol=1e-5 * float(np.abs(expected).max())
    )


def tensor(shape: tuple[int, ...], element: str = "f32") -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{element}>"


# graph-canonicalize -------------------------------------------------------------

CONV_PROPS = (
    "strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, "
    "pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64"
)


def test_batch_norm_folds_into_conv_and_keeps_the_result() -> None:
    """Conv -> BatchNormalization -> Relu: one conv with new weights and bias."""
    x, w, b = f32(1, 3, 6, 6), f32(4, 3, 3, 3), f32(4)
    bn = bn_params(4)
    text = f"""
    func.func @main(%x: {tensor((1, 6, 6, 3))}) -> {tensor((1, 6, 6, 4))} {{
      %w = graph.constant @w : {tensor((4, 3, 3, 3))}
      %b = graph.constant @b : {tensor((4,))}
      %s = graph.constant @scale : {tensor((4,))}
      %t = graph.constant @beta : {tensor((4,))}
      %m = graph.constant @mean : {tensor((4,))}
      %v = graph.constant @var : {tensor((4,))}
      %c = graph.conv2d %x, %w, %b {{{CONV_PROPS}}} : ({tensor((1, 6, 6, 3))},
        {tensor((4, 3, 3, 3))}, {tensor((4,))}) -> {tensor((1, 6, 6, 4))}
      %n = graph.batch_norm %c, %s, %t, %m, %v {{epsilon = 1.0e-03 : f32}} :
        ({tensor((1, 6, 6, 4))}, {tensor((4,))}, {tensor((4,))}, {tensor((4,))},
        {tensor((4,))}) -> {tensor((1, 6, 6, 4))}
      %r = graph.relu %n : ({tensor((1, 6, 6, 4))}) -> {tensor((1, 6, 6, 4))}
      func.return %r : {tensor((1, 6, 6, 4))}
    }}"""
    module = parse(text, {"w": w.transpose(NCHW_TO_NHWC), "b": b, **bn})
    after = apply(module, "graph-canonicalize")
    assert op_names(after).count("graph.conv2d") == 1
    assert not {"graph.batch_norm", "graph.relu", "graph.mul"} & set(op_names(after))

    (expected,) = onnxruntime(
        [
            helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node(
                "BatchNormalization",
                ["c", "scale", "beta", "mean", "var"],
                ["n"],
                epsilon=1e-3,
            ),
            helper.make_node("Relu", ["n"], ["y"]),
        ],
        {"x": x},
        {"y": TensorProto.FLOAT},
        {"w": w, "b": b, **bn},
    )
    nhwc = x.transpose(NCHW_TO_NHWC)
    for result in (run(module, nhwc)[0], run(after, nhwc)[0]):
        assert_close(result.transpose(NHWC_TO_NCHW), expected)


def test_batch_norm_after_fully_connected_and_standalone() -> None:
    """Gemm -> BN folds; a BN on an input (no producer) becomes mul + add."""
    x, w = f32(5, 6), f32(4, 6)
    bn1, bn2 = bn_params(4), bn_params(6)
    text = f"""
    func.func @main(%x: {tensor((5, 6))}) -> ({tensor((5, 4))}, {tensor((5, 6))}) {{
      %w = graph.constant @w : {tensor((4, 6))}
      %s = graph.constant @scale : {tensor((4,))}
      %t = graph.constant @beta : {tensor((4,))}
      %m = graph.constant @mean : {tensor((4,))}
      %v = graph.constant @var : {tensor((4,))}
      %s2 = graph.constant @scale2 : {tensor((6,))}
      %t2 = graph.constant @beta2 : {tensor((6,))}
      %m2 = graph.constant @mean2 : {tensor((6,))}
      %v2 = graph.constant @var2 : {tensor((6,))}
      %f = graph.fully_connected %x, %w : ({tensor((5, 6))}, {tensor((4, 6))})
        -> {tensor((5, 4))}
      %n = graph.batch_norm %f, %s, %t, %m, %v {{epsilon = 1.0e-05 : f32}} :
        ({tensor((5, 4))}, {tensor((4,))}, {tensor((4,))}, {tensor((4,))},
        {tensor((4,))}) -> {tensor((5, 4))}
      %n2 = graph.batch_norm %x, %s2, %t2, %m2, %v2 {{epsilon = 1.0e-05 : f32}} :
        ({tensor((5, 6))}, {tensor((6,))}, {tensor((6,))}, {tensor((6,))},
        {tensor((6,))}) -> {tensor((5, 6))}
      func.return %n, %n2 : {tensor((5, 4))}, {tensor((5, 6))}
    }}"""
    arrays = {"w": w, **bn1, **{f"{k}2": v for k, v in bn2.items()}}
    module = parse(text, arrays)
    after = apply(module, "graph-canonicalize")
    assert "graph.batch_norm" not in op_names(after)
    assert op_names(after).count("graph.mul") == 1

    expected = onnxruntime(
        [
            helper.make_node("Gemm", ["x", "w"], ["f"], transB=1),
            helper.make_node(
                "BatchNormalization", ["f", "scale", "beta", "mean", "var"], ["y1"]
            ),
            helper.make_node(
                "BatchNormalization",
                ["x", "scale2", "beta2", "mean2", "var2"],
                ["y2"],
            ),
        ],
        {"x": x},
        {"y1": TensorProto.FLOAT, "y2": TensorProto.FLOAT},
        arrays,
    )
    for results in (run(module, x), run(after, x)):
        for result, reference in zip(results, expected, strict=True):
            assert_close(result, reference)


def test_constant_folding_gives_the_same_values() -> None:
    """A weight stored OIHW and transposed in the graph, a constant sum: both
    become constants, and the program computes exactly what it did."""
    w_oihw, a, b = f32(4, 3, 3, 3), f32(4), f32(4)
    text = f"""
    func.func @main(%x: {tensor((1, 5, 5, 3))}) -> {tensor((1, 5, 5, 4))} {{
      %w0 = graph.constant @w : {tensor((4, 3, 3, 3))}
      %w = graph.transpose %w0 {{perm = array<i64: 0, 2, 3, 1>}} :
        ({tensor((4, 3, 3, 3))}) -> {tensor((4, 3, 3, 3))}
      %a = graph.constant @a : {tensor((4,))}
      %b = graph.constant @b : {tensor((4,))}
      %bias = graph.add %a, %b : ({tensor((4,))}, {tensor((4,))}) -> {tensor((4,))}
      %c = graph.conv2d %x, %w, %bias {{{CONV_PROPS}}} : ({tensor((1, 5, 5, 3))},
        {tensor((4, 3, 3, 3))}, {tensor((4,))}) -> {tensor((1, 5, 5, 4))}
      func.return %c : {tensor((1, 5, 5, 4))}
    }}"""
    module = parse(text, {"w": w_oihw, "a": a, "b": b})
    after = apply(module, "graph-canonicalize")
    assert op_names(after) == ["graph.constant", "graph.constant", "graph.conv2d"]
    x = f32(1, 5, 5, 3)
    np.testing.assert_array_equal(run(after, x)[0], run(module, x)[0])


def test_nchw_flatten_before_dense_layer() -> None:
    """Conv -> Flatten -> Gemm: the NHWC tensor feeds the dense layer directly."""
    x, w, fc = f32(2, 3, 4, 5), f32(6, 3, 3, 3), f32(7, 6 * 4 * 5)
    text = f"""
    func.func @main(%x: {tensor((2, 4, 5, 3))}) -> {tensor((2, 7))} {{
      %w = graph.constant @w : {tensor((6, 3, 3, 3))}
      %fc = graph.constant @fc : {tensor((7, 120))}
      %c = graph.conv2d %x, %w {{{CONV_PROPS}}} : ({tensor((2, 4, 5, 3))},
        {tensor((6, 3, 3, 3))}) -> {tensor((2, 4, 5, 6))}
      %t = graph.transpose %c {{perm = array<i64: 0, 3, 1, 2>}} :
        ({tensor((2, 4, 5, 6))}) -> {tensor((2, 6, 4, 5))}
      %r = graph.reshape %t : ({tensor((2, 6, 4, 5))}) -> {tensor((2, 120))}
      %y = graph.fully_connected %r, %fc : ({tensor((2, 120))}, {tensor((7, 120))})
        -> {tensor((2, 7))}
      func.return %y : {tensor((2, 7))}
    }}"""
    module = parse(text, {"w": w.transpose(NCHW_TO_NHWC), "fc": fc})
    after = apply(module, "graph-canonicalize")
    assert "graph.transpose" not in op_names(after)

    (expected,) = onnxruntime(
        [
            helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Flatten", ["c"], ["f"]),
            helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1),
        ],
        {"x": x},
        {"y": TensorProto.FLOAT},
        {"w": w, "fc": fc},
    )
    nhwc = x.transpose(NCHW_TO_NHWC)
    for result in (run(module, nhwc)[0], run(after, nhwc)[0]):
        assert_close(result, expected)


# graph-fold-qdq -----------------------------------------------------------------

S_X, ZP_X, S_Y, ZP_Y = 0.05, 3, 0.08, -20


def qdq_conv(bias_quantized: bool) -> tuple[str, dict, list[onnx.NodeProto], dict]:
    """QuantizeLinear -> DQ -> Conv(DQ(int8 per-channel w), bias) -> Relu -> Q -> DQ
    as graph IR with its arrays, and as ONNX nodes with theirs. The bias is
    DQ(int32) or float."""
    w = RNG.integers(-127, 128, (4, 3, 3, 3), dtype=np.int8)
    s_w = RNG.uniform(0.01, 0.03, 4).astype(np.float32)
    bias = RNG.uniform(-0.5, 0.5, 4).astype(np.float32)
    s_b = (np.float32(S_X) * s_w).astype(np.float32)
    b_q = np.rint(bias / s_b).astype(np.int32)
    x_type = f"!quant.uniform<i8:f32, {S_X}:{ZP_X}>"
    y_type = f"!quant.uniform<i8:f32, {S_Y}:{ZP_Y}>"
    w_type = (
        "!quant.uniform<i8:f32:0, {" + ", ".join(f"{float(s)!r}:0" for s in s_w) + "}>"
    )
    b_type = (
        "!quant.uniform<i32:f32:0, {" + ", ".join(f"{float(s)!r}:0" for s in s_b) + "}>"
    )
    if bias_quantized:
        bias_ir = f"""
      %bq = graph.constant @bias : {tensor((4,), b_type)}
      %b = graph.dequantize %bq : ({tensor((4,), b_type)}) -> {tensor((4,))}"""
    else:
        bias_ir = f"""
      %b = graph.constant @bias : {tensor((4,))}"""
    text = f"""
    func.func @main(%x: {tensor((1, 6, 6, 3))}) -> {tensor((1, 6, 6, 4))} {{
      %xq = graph.quantize %x : ({tensor((1, 6, 6, 3))})
        -> {tensor((1, 6, 6, 3), x_type)}
      %xd = graph.dequantize %xq : ({tensor((1, 6, 6, 3), x_type)})
        -> {tensor((1, 6, 6, 3))}
      %wq = graph.constant @w : {tensor((4, 3, 3, 3), w_type)}
      %wd = graph.dequantize %wq : ({tensor((4, 3, 3, 3), w_type)})
        -> {tensor((4, 3, 3, 3))}{bias_ir}
      %c = graph.conv2d %xd, %wd, %b {{{CONV_PROPS}}} : ({tensor((1, 6, 6, 3))},
        {tensor((4, 3, 3, 3))}, {tensor((4,))}) -> {tensor((1, 6, 6, 4))}
      %r = graph.relu %c : ({tensor((1, 6, 6, 4))}) -> {tensor((1, 6, 6, 4))}
      %yq = graph.quantize %r : ({tensor((1, 6, 6, 4))})
        -> {tensor((1, 6, 6, 4), y_type)}
      %y = graph.dequantize %yq : ({tensor((1, 6, 6, 4), y_type)})
        -> {tensor((1, 6, 6, 4))}
      func.return %y : {tensor((1, 6, 6, 4))}
    }}"""
    arrays = {
        "w": w.transpose(NCHW_TO_NHWC),
        "bias": b_q if bias_quantized else bias,
    }
    onnx_arrays = {
        "w": w,
        "s_w": s_w,
        "zp_w": np.zeros(4, np.int8),
        "s_x": np.float32(S_X),
        "zp_x": np.int8(ZP_X),
        "s_y": np.float32(S_Y),
        "zp_y": np.int8(ZP_Y),
        "b": b_q if bias_quantized else bias,
        "s_b": s_b,
        "zp_b": np.zeros(4, np.int32),
    }
    bias_node = (
        [helper.make_node("DequantizeLinear", ["b", "s_b", "zp_b"], ["bd"], axis=0)]
        if bias_quantized
        else [helper.make_node("Identity", ["b"], ["bd"])]
    )
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s_x", "zp_x"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "s_x", "zp_x"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w", "s_w", "zp_w"], ["wd"], axis=0),
        *bias_node,
        helper.make_node("Conv", ["xd", "wd", "bd"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("QuantizeLinear", ["r", "s_y", "zp_y"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "s_y", "zp_y"], ["y"]),
    ]
    return text, arrays, nodes, onnx_arrays


def check_qdq_conv(bias_quantized: bool) -> tuple[np.ndarray, np.ndarray]:
    """Outputs before and after the passes, after checking both against
    onnxruntime within one quantization step."""
    text, arrays, nodes, onnx_arrays = qdq_conv(bias_quantized)
    module = parse(text, arrays)
    after = apply(module, PIPELINE)
    conv = next(op for op in after.walk() if isinstance(op, graph.Conv2DOp))
    assert all(graph.is_quantized(v) for v in (*conv.operands, conv.result))
    assert op_names(after).count("graph.quantize") == 1  # the input's
    assert "graph.relu" not in op_names(after)

    x = RNG.uniform(-6, 6, (1, 3, 6, 6)).astype(np.float32)
    (expected,) = onnxruntime(nodes, {"x": x}, {"y": TensorProto.FLOAT}, onnx_arrays)
    nhwc = x.transpose(NCHW_TO_NHWC)
    before_y, after_y = run(module, nhwc)[0], run(after, nhwc)[0]
    for result in (before_y, after_y):
        steps = np.abs(result.transpose(NHWC_TO_NCHW) - expected) / S_Y
        assert steps.max() <= 1 + 1e-4
    return before_y, after_y


def test_qdq_conv_with_int32_bias_folds_exactly() -> None:
    before, after = check_qdq_conv(bias_quantized=True)
    np.testing.assert_array_equal(after, before)


def test_qdq_conv_with_float_bias_quantizes_it() -> None:
    before, after = check_qdq_conv(bias_quantized=False)
    # The bias now rounds to s_x * s_w: at most one output step apart.
    assert np.abs(after - before).max() <= S_Y * (1 + 1e-4)


# Real QDQ models ------------------------------------------------------------------

INT8_MODELS = [
    "kws/kws_ref_model.onnx",
    "vww/vww_96_int8.onnx",
    "ic/pretrainedResnet_quant.onnx",
    "ic_large/pretrainedResnet_large_int8.onnx",
    "ad/ad01_int8.onnx",
    "sww/str_ww_ref_model.onnx",
]


@pytest.mark.parametrize("model", INT8_MODELS)
def test_tf2onnx_qdq_model_becomes_all_int8(model: str, shared_models: Path) -> None:
    """tf2onnx's QDQ MLPerf Tiny models: after the pipeline every op computes on
    quantized tensors, and the outputs are exactly the QDQ graph's."""
    imported = import_onnx(shared_models / model)
    after = apply(imported.module, PIPELINE)
    for op in after.walk():
        if op.name.startswith("graph.") and not isinstance(op, graph.ConstantOp):
            assert not isinstance(op, graph.QuantizeOp | graph.DequantizeOp), op.name
            assert all(graph.is_quantized(v) for v in (*op.operands, *op.results))
    inputs = {
        imported.inputs[0]: np.load(shared_models / Path(model).parent / "input.npy")
    }
    before, folded = run_module(imported.module, inputs), run_module(after, inputs)
    for name, expected in before.items():
        np.testing.assert_array_equal(folded[name], expected)
