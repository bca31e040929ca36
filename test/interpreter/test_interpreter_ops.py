"""The reference interpreter's float ops against onnxruntime.

Each test builds one graph op (NHWC) and the equivalent single-node ONNX
model (NCHW where ONNX wants it), runs both on the same random data and
compares within 1e-5 of the output's magnitude. The result type comes from
the onnxruntime output's shape and the op's verifier checks it, so the graph
dialect's shape rules are checked against onnxruntime as a side effect.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from onnx import helper, numpy_helper
from xdsl.dialects.builtin import (
    DenseArrayBase,
    Float32Type,
    Float64Type,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, Block, Operation

from tinycc.dialects import graph
from tinycc.interpreter import evaluate_op

EXAMPLES = settings(max_examples=60, deadline=None)

# Helpers ----------------------------------------------------------------------


def f32(shape: Sequence[int]) -> TensorType:
    return TensorType(Float32Type(), list(shape))


def make_op(
    op_type: type[Operation],
    operand_types: Sequence[Attribute | None],
    result_type: Attribute,
    **properties: Attribute,
) -> Operation:
    """A verified graph op on block arguments; a `None` type omits an optional
    operand."""
    block = Block(arg_types=[t for t in operand_types if t is not None])
    args = iter(block.args)
    operands = [None if t is None else next(args) for t in operand_types]
    if op_type is graph.ConcatOp:
        operands = [operands]
    op = op_type.build(
        operands=operands, result_types=[result_type], properties=properties
    )
    block.add_op(op)
    op.verify()
    return op


def evaluate(
    op_type: type[Operation],
    operands: Sequence[np.ndarray | None],
    result_shape: Sequence[int],
    **properties: Attribute,
) -> np.ndarray:
    """Build a float op over `operands` (`None`: an absent optional) and
    evaluate it."""
    types = [None if a is None else f32(a.shape) for a in operands]
    op = make_op(op_type, types, f32(result_shape), **properties)
    (result,) = evaluate_op(op, [a for a in operands if a is not None])
    assert result.dtype == np.float32
    return result


def run_onnx(
    nodes: Sequence[onnx.NodeProto] | onnx.NodeProto,
    inputs: dict[str, np.ndarray],
    initializers: dict[str, np.ndarray] | None = None,
    opset: int = 17,
    output: str = "y",
    output_dtype: type = np.float32,
) -> np.ndarray:
    """Run an ONNX graph (nodes reading `inputs` and `initializers`) in onnxruntime."""
    nodes = [nodes] if isinstance(nodes, onnx.NodeProto) else list(nodes)
    value_infos = [
        helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape
        )
        for name, a in inputs.items()
    ]
    graph_proto = helper.make_graph(
        nodes,
        "g",
        value_infos,
        [
            helper.make_tensor_value_info(
                output, helper.np_dtype_to_tensor_dtype(np.dtype(output_dtype)), None
            )
        ],
        [numpy_helper.from_array(a, n) for n, a in (initializers or {}).items()],
    )
    model = helper.make_model(
        graph_proto, opset_imports=[helper.make_opsetid("", opset)], ir_version=9
    )
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run([output], inputs)[0]


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """Within 1e-5 of the output's scale; infinities must match exactly."""
    assert actual.shape == expected.shape
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(actual[~finite], expected[~finite])
    scale = max(1.0, float(np.max(np.abs(expected[finite]), initial=0.0)))
    np.testing.assert_allclose(
        actual[finite], expected[finite], rtol=0, atol=1e-5 * scale
    )


def nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def random(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def clip_node(name: str, low: float | None, high: float | None) -> list[onnx.NodeProto]:
    """`y = Clip(name)` with optional bounds, as ONNX spells a fused activation."""
    bounds = {"low": low, "high": high}
    constants = [
        helper.make_node(
            "Constant", [], [key], value=numpy_helper.from_array(np.float32(v))
        )
        for key, v in bounds.items()
        if v is not None
    ]
    names = [key if v is not None else "" for key, v in bounds.items()]
    return [*constants, helper.make_node("Clip", [name, *names], ["y"])]


def clamp_props(low: float | None, high: float | None) -> dict[str, Attribute]:
    props = {}
    if low is not None:
        props["clamp_min"] = graph.f32_attr(low)
    if high is not None:
        props["clamp_max"] = graph.f32_attr(high)
    return props


CLAMPS = st.sampled_from([(None, None), (0.0, None), (0.0, 6.0), (-0.5, 0.5)])
SEEDS = st.integers(0, 2**16)


# Linear algebra ----------------------------------------------------------------


@st.composite
def conv_configs(draw):
    groups_kind = draw(st.sampled_from(["dense", "grouped", "depthwise", "depthwise2"]))
    c_in = {"dense": draw(st.integers(1, 5)), "grouped": 4}.get(groups_kind, 3)
    groups = {"dense": 1, "grouped": 2}.get(groups_kind, c_in)
    c_out = {"depthwise2": 2 * c_in, "depthwise": c_in}.get(groups_kind, 2 * groups)
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilations = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilations, strict=True)]
    hw = [
        draw(st.integers(max(1, s - pads[i] - pads[i + 2]), 9))
        for i, s in enumerate(spans)
    ]
    return c_in, c_out, groups, kernel, dilations, strides, pads, hw


@EXAMPLES
@given(conv_configs(), st.booleans(), CLAMPS, SEEDS)
def test_conv2d(config, with_bias, clamp, seed):
    c_in, c_out, groups, kernel, dilations, strides, pads, (h, w) = config
    rng = np.random.default_rng(seed)
    x, weight = random(rng, 2, h, w, c_in), random(rng, c_out, *kernel, c_in // groups)
    bias = random(rng, c_out)
    conv = helper.make_node(
        "Conv",
        ["x", "w", "b"] if with_bias else ["x", "w"],
        ["conv"],
        strides=strides,
        dilations=dilations,
        pads=[pads[0], pads[1], pads[2], pads[3]],  # ONNX: top, left, bottom, right
        group=groups,
    )
    expected = nhwc(
        run_onnx(
            [conv, *clip_node("conv", *clamp)],
            {"x": nchw(x)},
            {"w": nchw(weight), "b": bias},
        )
    )
    operands = [x, weight, bias if with_bias else None]
    actual = evaluate(
        graph.Conv2DOp,
        operands,
        expected.shape,
        strides=graph.i64_array(strides),
        dilations=graph.i64_array(dilations),
        pads=graph.i64_array(pads),
        groups=IntegerAttr(groups, 64),
        **clamp_props(*clamp),
    )
    assert_close(actual, expected)


@pytest.mark.parametrize("with_bias", [True, False])
def test_fully_connected(with_bias):
    rng = np.random.default_rng(1)
    x, w, b = random(rng, 3, 7), random(rng, 5, 7), random(rng, 5)
    gemm = helper.make_node(
        "Gemm", ["x", "w", "b"] if with_bias else ["x", "w"], ["g"], transB=1
    )
    expected = run_onnx([gemm, *clip_node("g", 0.0, 6.0)], {"x": x}, {"w": w, "b": b})
    operands = [x, w, b if with_bias else None]
    actual = evaluate(graph.FullyConnectedOp, operands, (3, 5), **clamp_props(0.0, 6.0))
    assert_close(actual, expected)


def test_fully_connected_batched_input():
    rng = np.random.default_rng(2)
    x, w = random(rng, 2, 3, 7), random(rng, 5, 7)
    expected = run_onnx(
        helper.make_node("MatMul", ["x", "wt"], ["y"]), {"x": x}, {"wt": w.T.copy()}
    )
    assert_close(evaluate(graph.FullyConnectedOp, [x, w, None], (2, 3, 5)), expected)


@pytest.mark.parametrize(
    "lhs, rhs",
    [((4, 6), (6, 3)), ((2, 1, 4, 6), (3, 6, 5)), ((6,), (2, 6, 3)), ((2, 4, 6), (6,))],
)
def test_matmul(lhs, rhs):
    rng = np.random.default_rng(3)
    a, b = random(rng, *lhs), random(rng, *rhs)
    expected = run_onnx(helper.make_node("MatMul", ["a", "b"], ["y"]), {"a": a, "b": b})
    assert_close(evaluate(graph.MatMulOp, [a, b], expected.shape), expected)


# Elementwise ---------------------------------------------------------------------

BINARY = {
    graph.AddOp: "Add",
    graph.SubOp: "Sub",
    graph.MulOp: "Mul",
    graph.DivOp: "Div",
}


@pytest.mark.parametrize("op_type", BINARY)
@pytest.mark.parametrize(
    "shapes",
    [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,))],
)
@pytest.mark.parametrize("clamp", [(None, None), (-0.5, 1.0)])
def test_binary(op_type, shapes, clamp):
    rng = np.random.default_rng(4)
    a, b = random(rng, *shapes[0]), random(rng, *shapes[1])
    node = helper.make_node(BINARY[op_type], ["a", "b"], ["r"])
    expected = run_onnx([node, *clip_node("r", *clamp)], {"a": a, "b": b})
    assert_close(
        evaluate(op_type, [a, b], expected.shape, **clamp_props(*clamp)), expected
    )


def test_prelu_slope_per_channel():
    rng = np.random.default_rng(5)
    x, slope = random(rng, 2, 3, 3, 4), random(rng, 4)
    expected = run_onnx(
        helper.make_node("PRelu", ["x", "s"], ["y"]), {"x": x, "s": slope}
    )
    assert_close(evaluate(graph.PReluOp, [x, slope], x.shape), expected)


UNARY = [
    (graph.ReluOp, "Relu", {}, {}, 17),
    (graph.SigmoidOp, "Sigmoid", {}, {}, 17),
    (graph.TanhOp, "Tanh", {}, {}, 17),
    (graph.ExpOp, "Exp", {}, {}, 17),
    (graph.HardSwishOp, "HardSwish", {}, {}, 17),
    (
        graph.LeakyReluOp,
        "LeakyRelu",
        {"alpha": 0.1},
        {"alpha": graph.f32_attr(0.1)},
        17,
    ),
    (
        graph.HardSigmoidOp,
        "HardSigmoid",
        {"alpha": 0.3, "beta": 0.4},
        {"alpha": graph.f32_attr(0.3), "beta": graph.f32_attr(0.4)},
        17,
    ),
    (graph.GeluOp, "Gelu", {}, {"approximate": StringAttr("none")}, 20),
    (
        graph.GeluOp,
        "Gelu",
        {"approximate": "tanh"},
        {"approximate": StringAttr("tanh")},
        20,
    ),
    (graph.SoftmaxOp, "Softmax", {"axis": 1}, {"axis": IntegerAttr(1, 64)}, 17),
    (
        graph.LogSoftmaxOp,
        "LogSoftmax",
        {"axis": -1},
        {"axis": IntegerAttr(2, 64)},
        17,
    ),
]


@pytest.mark.parametrize(
    "op_type, onnx_op, onnx_attrs, props, opset", UNARY, ids=[u[1] for u in UNARY]
)
def test_unary(op_type, onnx_op, onnx_attrs, props, opset):
    # Wide range, with the hard ops' kinks (-3, 3, 0) and softmax's large inputs.
    x = np.concatenate(
        [np.linspace(-12, 12, 97, dtype=np.float32), [-3, 3, 0, 80, -80, 1e-3]]
    ).astype(np.float32)
    x = x.reshape(1, 103, 1) * np.array([1, 0.5, -2], np.float32)
    node = helper.make_node(onnx_op, ["x"], ["y"], **onnx_attrs)
    expected = run_onnx(node, {"x": x}, opset=opset)
    actual = evaluate(op_type, [x], x.shape, **props)
    # Pointwise ops over a range spanning 1e-35..1e35 (exp): relative error.
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_clamp():
    x = np.linspace(-8, 8, 33, dtype=np.float32)
    expected = run_onnx(clip_node("x", 0.0, 6.0), {"x": x})
    props = {"min": graph.f32_attr(0.0), "max": graph.f32_attr(6.0)}
    assert_close(evaluate(graph.ClampOp, [x], x.shape, **props), expected)


# Pooling ----------------------------------------------------------------------------


@st.composite
def pool_configs(draw, dilated: bool):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilations = (
        (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    )
    pads = [draw(st.integers(0, kernel[i % 2] - 1)) for i in range(4)]
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilations, strict=True)]
    hw = [
        draw(st.integers(max(1, s - pads[i] - pads[i + 2]), 8))
        for i, s in enumerate(spans)
    ]
    return kernel, strides, dilations, pads, hw, draw(st.booleans())


def pool_props(kernel, strides, pads, ceil_mode) -> dict[str, Attribute]:
    props = {
        "kernel": graph.i64_array(kernel),
        "strides": graph.i64_array(strides),
        "pads": graph.i64_array(pads),
    }
    if ceil_mode:
        props["ceil_mode"] = UnitAttr()
    return props


@EXAMPLES
@given(pool_configs(dilated=True), SEEDS)
# A dilated window that holds only padding.
@example(((1, 2), (1, 1), (1, 2), [0, 1, 0, 1], [1, 1], False), 0)
def test_max_pool2d(config, seed):
    kernel, strides, dilations, pads, (h, w), ceil_mode = config
    # All negative: padding, if it ever won, would show as a 0.
    x = -np.abs(random(np.random.default_rng(seed), 1, h, w, 3)) - 1
    node = helper.make_node(
        "MaxPool",
        ["x"],
        ["y"],
        kernel_shape=kernel,
        strides=strides,
        dilations=dilations,
        pads=pads,
        ceil_mode=int(ceil_mode),
    )
    expected = nhwc(run_onnx(node, {"x": nchw(x)}))
    props = pool_props(kernel, strides, pads, ceil_mode)
    props["dilations"] = graph.i64_array(dilations)
    assert_close(evaluate(graph.MaxPool2DOp, [x], expected.shape, **props), expected)


@EXAMPLES
@given(pool_configs(dilated=False), st.booleans(), SEEDS)
# Ceil-mode windows reaching past the end padding: those cells never count.
@example(((3, 3), (2, 2), (1, 1), [0, 0, 1, 1], [6, 6], True), True, 0)
@example(((3, 3), (2, 2), (1, 1), [1, 1, 0, 0], [5, 5], True), True, 0)
def test_avg_pool2d(config, count_include_pad, seed):
    kernel, strides, _, pads, (h, w), ceil_mode = config
    x = random(np.random.default_rng(seed), 2, h, w, 3) + 2
    node = helper.make_node(
        "AveragePool",
        ["x"],
        ["y"],
        kernel_shape=kernel,
        strides=strides,
        pads=pads,
        ceil_mode=int(ceil_mode),
        count_include_pad=int(count_include_pad),
    )
    expected = nhwc(run_onnx(node, {"x": nchw(x)}))
    props = pool_props(kernel, strides, pads, ceil_mode)
    if count_include_pad:
        props["count_include_pad"] = UnitAttr()
    assert_close(evaluate(graph.AvgPool2DOp, [x], expected.shape, **props), expected)


@pytest.mark.parametrize(
    "op_type, onnx_op",
    [
        (graph.GlobalAvgPoolOp, "GlobalAveragePool"),
        (graph.GlobalMaxPoolOp, "GlobalMaxPool"),
    ],
)
def test_global_pool(op_type, onnx_op):
    x = random(np.random.default_rng(6), 2, 5, 7, 3)
    expected = nhwc(run_onnx(helper.make_node(onnx_op, ["x"], ["y"]), {"x": nchw(x)}))
    assert_close(evaluate(op_type, [x], expected.shape), expected)


# Data movement ----------------------------------------------------------------------


def test_reshape():
    x = random(np.random.default_rng(7), 2, 3, 4)
    shape = np.array([4, 6], np.int64)
    expected = run_onnx(
        helper.make_node("Reshape", ["x", "s"], ["y"]), {"x": x}, {"s": shape}
    )
    assert_close(evaluate(graph.ReshapeOp, [x], (4, 6)), expected)


def test_transpose():
    x = random(np.random.default_rng(8), 2, 3, 4, 5)
    perm = [0, 3, 1, 2]
    expected = run_onnx(
        helper.make_node("Transpose", ["x"], ["y"], perm=perm), {"x": x}
    )
    actual = evaluate(
        graph.TransposeOp, [x], expected.shape, perm=graph.i64_array(perm)
    )
    assert_close(actual, expected)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_concat(axis):
    rng = np.random.default_rng(9)
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, shape in enumerate(shapes):
        shape[axis] = i + 1
    inputs = {f"x{i}": random(rng, *s) for i, s in enumerate(shapes)}
    node = helper.make_node("Concat", list(inputs), ["y"], axis=axis)
    expected = run_onnx(node, inputs)
    actual = evaluate(
        graph.ConcatOp,
        list(inputs.values()),
        expected.shape,
        axis=IntegerAttr(axis, 64),
    )
    assert_close(actual, expected)


@pytest.mark.parametrize("mode", graph.PAD_MODES)
def test_pad(mode: str):
    x = random(np.random.default_rng(10), 1, 3, 4, 2)
    pads = [0, 1, 2, 0, 0, 2, 0, 1]
    node = helper.make_node("Pad", ["x", "p", "v"], ["y"], mode=mode)
    initializers = {"p": np.array(pads, np.int64), "v": np.float32(-1.5)}
    expected = run_onnx(node, {"x": x}, initializers, opset=19)
    props = {
        "pads": graph.i64_array(pads),
        "value": graph.f32_attr(-1.5),
        "mode": StringAttr(mode),
    }
    assert_close(evaluate(graph.PadOp, [x], expected.shape, **props), expected)


@pytest.mark.parametrize(
    "starts, ends, steps",
    [
        ([0, 1, 0], [2, 5, 3], [1, 2, 1]),
        ([1, 4, 2], [2, -1, -1], [1, -1, -2]),  # down to index 0 inclusive
        ([0, 3, 0], [2, 0, 3], [1, -2, 3]),
        ([1, 2, 0], [1, 2, 3], [1, 1, 1]),  # empty
    ],
)
def test_slice(starts, ends, steps):
    x = random(np.random.default_rng(11), 2, 6, 3)
    # ONNX spells "through index 0, going down" as a very negative end.
    onnx_ends = [e if e >= 0 else -(2**62) for e in ends]
    node = helper.make_node("Slice", ["x", "s", "e", "a", "t"], ["y"])
    initializers = {
        "s": np.array(starts, np.int64),
        "e": np.array(onnx_ends, np.int64),
        "a": np.arange(3, dtype=np.int64),
        "t": np.array(steps, np.int64),
    }
    expected = run_onnx(node, {"x": x}, initializers)
    props = {
        "starts": graph.i64_array(starts),
        "ends": graph.i64_array(ends),
        "steps": graph.i64_array(steps),
    }
    assert_close(evaluate(graph.SliceOp, [x], expected.shape, **props), expected)


REDUCE = {
    graph.ReduceMeanOp: "ReduceMean",
    graph.ReduceSumOp: "ReduceSum",
    graph.ReduceMaxOp: "ReduceMax",
}


@pytest.mark.parametrize("op_type", REDUCE)
@pytest.mark.parametrize("axes", [[1], [1, 2], [0, 3]])
@pytest.mark.parametrize("keepdims", [True, False])
def test_reduce(op_type, axes, keepdims):
    x = random(np.random.default_rng(12), 2, 3, 4, 5)
    node = helper.make_node(REDUCE[op_type], ["x", "a"], ["y"], keepdims=int(keepdims))
    expected = run_onnx(node, {"x": x}, {"a": np.array(axes, np.int64)}, opset=18)
    props = {"axes": graph.i64_array(axes)}
    if keepdims:
        props["keepdims"] = UnitAttr()
    assert_close(evaluate(op_type, [x], expected.shape, **props), expected)


def test_batch_norm():
    rng = np.random.default_rng(13)
    x = random(rng, 2, 4, 5, 3)
    scale, bias, mean = random(rng, 3), random(rng, 3), random(rng, 3)
    variance = np.abs(random(rng, 3)) + 0.1
    node = helper.make_node(
        "BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3
    )
    params = {"s": scale, "b": bias, "m": mean, "v": variance}
    expected = nhwc(run_onnx(node, {"x": nchw(x)}, params))
    actual = evaluate(
        graph.BatchNormOp,
        [x, scale, bias, mean, variance],
        x.shape,
        epsilon=graph.f32_attr(1e-3),
    )
    assert_close(actual, expected)


# Resize -------------------------------------------------------------------------------

RESIZE_MODES = [("nearest", m) for m in graph.NEAREST_MODES] + [("linear", "floor")]


@pytest.mark.parametrize("mode, nearest_mode", RESIZE_MODES)
@pytest.mark.parametrize("coordinate_mode", graph.COORDINATE_MODES)
@pytest.mark.parametrize("scales", [(2.0, 3.0), (0.5, 0.6), (1.5, 1.75), (0.2, 1.0)])
def test_resize(mode, nearest_mode, coordinate_mode, scales):
    x = random(np.random.default_rng(14), 1, 5, 4, 2)
    node = helper.make_node(
        "Resize",
        ["x", "", "s"],
        ["y"],
        mode=mode,
        coordinate_transformation_mode=coordinate_mode,
        nearest_mode=nearest_mode,
    )
    onnx_scales = np.array([1, 1, *scales], np.float32)
    expected = nhwc(run_onnx(node, {"x": nchw(x)}, {"s": onnx_scales}, opset=19))
    props = {
        "mode": StringAttr(mode),
        "coordinate_mode": StringAttr(coordinate_mode),
        "nearest_mode": StringAttr(nearest_mode),
        "scales": DenseArrayBase.from_list(Float64Type(), list(scales)),
    }
    assert_close(evaluate(graph.ResizeOp, [x], expected.shape, **props), expected)
