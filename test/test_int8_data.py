"""int8 data movement (reshape, transpose, pad, slice, concat, resize) through
the C pipeline.

Float models quantized by onnxruntime, and hand-written QDQ models for what
its quantizer never writes (an op whose output is quantized unlike its
input), then `check_int8`: C == the numpy integer reference bit for bit in
both rounding modes, and within 1 LSB of onnxruntime with `--int8-rounding
onnx`. Requantizing transposes and reshapes, which the importer never
produces, are graph-level programs compiled to C the same way. The numpy
reference is also checked against independent oracles: the graph-level
meaning (dequantize, float op, quantize), which pure data movement must
reproduce exactly, the float kernel's unrounded interpolation, and TFLite's
`ResizeBilinearInteger` written out element by element in Python integers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from int8_testlib import (
    ROUNDINGS,
    check_int8,
    float_model,
    interpreted,
    output_lsb,
    quantized,
    seeded,
)
from onnx import helper

from tinycc import host, signature, zoo
from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.compile import Compiled, write_outputs
from tinycc.dialects import graph
from tinycc.errors import TinyccError
from tinycc.importer import import_onnx
from tinycc.interpreter import dequantize, run_function, run_module
from tinycc.interpreter.integer import INTEGER_KERNELS
from tinycc.interpreter.kernels import KERNELS
from tinycc.ir import parse_module

N = helper.make_node


def _model(nodes, input_shape, constants) -> onnx.ModelProto:
    """`float_model` with the output's shape inferred."""
    return onnx.shape_inference.infer_shapes(float_model(nodes, input_shape, constants))


def _i64(*values: int) -> np.ndarray:
    return np.asarray(values, np.int64)


# Float models for onnxruntime's quantizer ---------------------------------------


def between_convs(node: onnx.NodeProto, **constants) -> onnx.ModelProto:
    """`conv -> node ("a" to "b") -> conv`: data movement inside a network."""
    constants |= {"w1": seeded((4, 4, 3, 3), 1, 0.3), "w2": seeded((5, 4, 1, 1), 2)}
    nodes = [
        N("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1]),
        node,
        N("Conv", ["b", "w2"], ["y"]),
    ]
    return _model(nodes, [1, 4, 8, 7], constants)


def flatten() -> onnx.ModelProto:
    """`conv -> reshape -> matmul`."""
    constants = {
        "w1": seeded((4, 2, 3, 3), 3, 0.3),
        "shape": _i64(1, -1),
        "w2": seeded((36, 5), 4, 0.2),
    }
    nodes = [
        N("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1]),
        N("Reshape", ["a", "shape"], ["f"]),
        N("MatMul", ["f", "w2"], ["y"]),
    ]
    return _model(nodes, [1, 2, 3, 3], constants)


def concat_of_scales() -> onnx.ModelProto:
    """Three inputs of different ranges: a conv, the input, a larger conv."""
    constants = {"w1": seeded((4, 3, 3, 3), 5, 0.2), "w2": seeded((2, 3, 1, 1), 6, 3)}
    nodes = [
        N("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1]),
        N("Conv", ["x", "w2"], ["b"]),
        N("Concat", ["a", "x", "b"], ["y"], axis=1),
    ]
    return _model(nodes, [1, 3, 5, 6], constants)


def resized(
    mode: str,
    coordinates: str,
    scales=(2.0, 2.0),
    nearest: str = "floor",
    shape=(1, 3, 5, 6),
) -> onnx.ModelProto:
    """`conv -> resize`."""
    constants = {
        "w1": seeded((4, shape[1], 3, 3), 7, 0.3),
        "scales": np.asarray([1, 1, *scales], np.float32),
    }
    nodes = [
        N("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1]),
        N(
            "Resize",
            ["a", "", "scales"],
            ["y"],
            mode=mode,
            coordinate_transformation_mode=coordinates,
            nearest_mode=nearest,
        ),
    ]
    return _model(nodes, list(shape), constants)


def _pad(mode: str, *pads: int) -> onnx.ModelProto:
    return between_convs(N("Pad", ["a", "pads"], ["b"], mode=mode), pads=_i64(*pads))


CASES = {
    "transpose": between_convs(N("Transpose", ["a"], ["b"], perm=[0, 1, 3, 2])),
    "reshape_flatten": flatten(),
    "pad_constant": _pad("constant", 0, 0, 1, 2, 0, 0, 2, 1),
    "pad_reflect": _pad("reflect", 0, 0, 2, 1, 0, 0, 1, 3),
    "pad_edge": _pad("edge", 0, 0, 0, 2, 0, 0, 3, 1),
    "slice_steps": between_convs(
        N("Slice", ["a", "starts", "ends", "axes", "steps"], ["b"]),
        starts=_i64(1, 6),
        ends=_i64(8, 0),
        axes=_i64(2, 3),
        steps=_i64(2, -2),
    ),
    "concat_scales": concat_of_scales(),
    "resize_nearest": resized("nearest", "asymmetric"),
    "resize_nearest_half_pixel": resized(
        "nearest", "half_pixel", (1.5, 2.5), "round_prefer_floor"
    ),
    "resize_linear_half_pixel": resized("linear", "half_pixel"),
    "resize_linear_align_corners": resized("linear", "align_corners", (3.0, 1.5)),
    "resize_linear_asymmetric": resized("linear", "asymmetric", (2.0, 3.0)),
    "resize_linear_down": resized(
        "linear", "half_pixel", (0.5, 0.5), shape=(1, 3, 8, 6)
    ),
}


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", CASES)
def test_int8_data_movement(name: str, rounding: str, tmp_path: Path) -> None:
    check_int8(quantized(CASES[name]), tmp_path, rounding)


# Hand-written QDQ: outputs quantized unlike inputs -----------------------------


Step = tuple[str, dict, dict, tuple[float, int]]


def qdq_chain(input_shape, *steps: Step) -> onnx.ModelProto:
    """`quantize(x)` with scale 0.02 and zero point 5, then for each step
    `(op, constants, attributes, (scale, zero point))`: dequantize, the op,
    quantize to that scale and zero point; finally dequantize."""
    params = {"s0": np.float32(0.02), "z0": np.int8(5)}
    nodes = [N("QuantizeLinear", ["x", "s0", "z0"], ["q0"])]
    for i, (op_type, constants, attributes, (scale, zero_point)) in enumerate(steps):
        params |= {f"{k}{i}": v for k, v in constants.items()}
        params |= {f"s{i + 1}": np.float32(scale), f"z{i + 1}": np.int8(zero_point)}
        nodes += [
            N("DequantizeLinear", [f"q{i}", f"s{i}", f"z{i}"], [f"d{i}"]),
            N(
                op_type,
                [f"d{i}", *(f"{k}{i}" for k in constants)],
                [f"o{i}"],
                **attributes,
            ),
            N("QuantizeLinear", [f"o{i}", f"s{i + 1}", f"z{i + 1}"], [f"q{i + 1}"]),
        ]
    last = len(steps)
    nodes.append(N("DequantizeLinear", [f"q{last}", f"s{last}", f"z{last}"], ["y"]))
    return _model(nodes, list(input_shape), params)


def requantizing(
    op_type: str, input_shape, constants, attributes, output=(0.031, -20)
) -> onnx.ModelProto:
    """One op whose output is quantized as `output`."""
    return qdq_chain(input_shape, (op_type, constants, attributes, output))


def concat_requantizing() -> onnx.ModelProto:
    """`x` quantized twice, differently, then concatenated."""
    params = {
        "sa": np.float32(0.02),
        "za": np.int8(5),
        "sb": np.float32(0.013),
        "zb": np.int8(-3),
        "sy": np.float32(0.025),
        "zy": np.int8(7),
    }
    nodes = [
        N("QuantizeLinear", ["x", "sa", "za"], ["aq"]),
        N("DequantizeLinear", ["aq", "sa", "za"], ["a"]),
        N("QuantizeLinear", ["x", "sb", "zb"], ["bq"]),
        N("DequantizeLinear", ["bq", "sb", "zb"], ["b"]),
        N("Concat", ["a", "b", "a"], ["c"], axis=1),
        N("QuantizeLinear", ["c", "sy", "zy"], ["cq"]),
        N("DequantizeLinear", ["cq", "sy", "zy"], ["y"]),
    ]
    return _model(nodes, [2, 3, 4], params)


# The ops that stay requantizing through the importer: (op, input shape,
# constant inputs, attributes).
MOVES = {
    "slice": (
        "Slice",
        (3, 5, 4),
        {
            "starts": _i64(2, 0),
            "ends": _i64(-100, 4),
            "axes": _i64(0, 2),
            "steps": _i64(-1, 3),
        },
        {},
    ),
    "pad_constant": (
        "Pad",
        (2, 3, 4),
        {"pads": _i64(0, 1, 2, 1, 0, 1), "value": np.float32(0.5)},
        {},
    ),
    "pad_reflect": (
        "Pad",
        (2, 3, 4),
        {"pads": _i64(1, 2, 0, 0, 1, 3)},
        {"mode": "reflect"},
    ),
    "resize_nearest": (
        "Resize",
        (1, 2, 3, 4),
        {"roi": np.zeros(0, np.float32), "scales": np.float32([1, 1, 2, 1.5])},
        {"mode": "nearest"},
    ),
}
REQUANTIZING = {name: requantizing(*move) for name, move in MOVES.items()}
REQUANTIZING["concat"] = concat_requantizing()


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", REQUANTIZING)
def test_int8_requantizing_data_movement(
    name: str, rounding: str, tmp_path: Path
) -> None:
    check_int8(REQUANTIZING[name], tmp_path, rounding)


# Graph-level programs: requantizing layout changes ----------------------------------
#
# The importer moves a transpose or reshape across quantize/dequantize pairs,
# so an ONNX model never gives one that requantizes; the kernels still must.


def _q(shape, element: str) -> str:
    return f"tensor<{''.join(f'{d}x' for d in shape)}!quant.uniform<{element}>>"


def _f(shape) -> str:
    return f"tensor<{''.join(f'{d}x' for d in shape)}f32>"


def layout_change(
    op: str, shape, result, q_in: str, q_out: str, q_back=None, properties=""
) -> str:
    """`dequantize(op(quantize(x)))` with `op` from `q_in` to `q_out`, then
    (with `q_back`) a reshape back to `shape` in that quantization."""
    lines = [
        f"%q = graph.quantize %x : ({_f(shape)}) -> {_q(shape, q_in)}",
        f"%m = {op} %q {properties} : ({_q(shape, q_in)}) -> {_q(result, q_out)}",
    ]
    last, last_q = ("%m", q_out), result
    if q_back is not None:
        lines.append(
            f"%b = graph.reshape %m : ({_q(result, q_out)}) -> {_q(shape, q_back)}"
        )
        last, last_q = ("%b", q_back), shape
    value, element = last
    lines.append(
        f"%y = graph.dequantize {value} : ({_q(last_q, element)}) -> {_f(last_q)}"
    )
    body = "\n    ".join(lines)
    ports = f'%x: {_f(shape)} {{onnx.name = "x"}}'
    return f"""
func.func @main({ports}) -> ({_f(last_q)} {{onnx.name = "y"}}) {{
    {body}
    func.return %y : {_f(last_q)}
}}"""


I8 = "i8:f32, 0.02:5"
LAYOUT_CHANGES = {
    "transpose": layout_change(
        "graph.transpose",
        (2, 3, 4),
        (4, 2, 3),
        I8,
        "i8:f32, 0.031:-20",
        properties="{perm = array<i64: 2, 0, 1>}",
    ),
    "transpose_zero_point_only": layout_change(
        "graph.transpose",
        (2, 3, 4),
        (3, 4, 2),
        I8,
        "i8:f32, 0.02:-9",
        properties="{perm = array<i64: 1, 2, 0>}",
    ),
    "reshape": layout_change(
        "graph.reshape", (2, 3, 4), (6, 4), I8, "i8:f32, 0.031:-20"
    ),
    "uint8_to_int8_and_back": layout_change(
        "graph.reshape",
        (2, 3, 4),
        (4, 6),
        "u8:f32, 0.02:133",
        "i8:f32, 0.02:5",
        "u8:f32, 0.02:133",
    ),
    "uint8_requantized": layout_change(
        "graph.reshape",
        (2, 3, 4),
        (4, 6),
        "u8:f32, 0.02:120",
        "i8:f32, 0.015:-3",
        "u8:f32, 0.04:100",
    ),
}


def graph_in_c(text: str, rounding: str, directory: Path) -> None:
    """Compile a graph-level `@main` with float ports to C, build it
    (sanitized), run it on seeded input: equal to the interpreter on the
    same graph, bit for bit."""
    module = parse_module(text)
    rounded = f"graph-int8-rounding{{mode={rounding}}}"
    reference = module.clone()
    apply_pipeline(reference, rounded)
    compiled = module.clone()
    apply_pipeline(compiled, f"{rounded},lower-graph-to-tile,bufferize{{model=m}}")
    write_outputs(Compiled("m", compiled), directory)
    program = host.build(directory, "m", compiled, sanitize=True)
    inputs, outputs = host.ports(compiled)
    feeds = [seeded(port.type.get_shape(), 12, 1.5) for port in inputs]
    ours = host.run(program, feeds, outputs)
    expected = run_function(signature.main_function(reference), feeds)
    for actual, wanted in zip(ours, expected, strict=True):
        np.testing.assert_array_equal(actual, wanted)


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", LAYOUT_CHANGES)
def test_requantizing_layout_change(name: str, rounding: str, tmp_path: Path) -> None:
    graph_in_c(LAYOUT_CHANGES[name], rounding, tmp_path)


# The numpy reference against independent oracles ------------------------------


def _graph_level(model: onnx.ModelProto, feeds) -> dict[str, np.ndarray]:
    """The graph-level (QDQ) meaning: no `quant.rounding`."""
    module = import_onnx(model).module
    apply_pipeline(module, DEFAULT_PIPELINE)
    return run_module(module, feeds)


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("output", [(0.02, 5), (0.02, -9)], ids=["same", "shifted"])
@pytest.mark.parametrize("name", MOVES)
def test_data_movement_is_exact(name: str, output, rounding: str) -> None:
    """Moving stored integers, shifting the zero point or not, is the QDQ
    meaning exactly, in both modes."""
    model = requantizing(*MOVES[name], output=output)
    feeds = {"x": seeded(zoo.random_input(model, 0)["x"].shape, 13, 2.0)}
    expected = _graph_level(model, feeds)
    actual = interpreted(model, rounding, feeds)
    np.testing.assert_array_equal(actual["y"], expected["y"])


@pytest.mark.parametrize("name", REQUANTIZING)
def test_requantizing_is_within_one_step(name: str) -> None:
    """Requantizing in fixed point rounds the exact ratio: one step from the
    QDQ meaning at most, and equal nearly everywhere in `onnx` mode."""
    model = REQUANTIZING[name]
    feeds = {"x": seeded(zoo.random_input(model, 0)["x"].shape, 8, 2.0)}
    expected = _graph_level(model, feeds)["y"]
    step = output_lsb(model, "y")
    for rounding in ROUNDINGS:
        actual = interpreted(model, rounding, feeds)["y"]
        assert np.abs(actual - expected).max() <= step * 1.0001
    onnx_mode = interpreted(model, "onnx", feeds)["y"]
    assert np.mean(onnx_mode == expected) > 0.98


def _tflite_resize_bilinear(
    x: np.ndarray, out_h: int, out_w: int, align_corners: bool, half_pixel: bool
) -> np.ndarray:
    """TFLite's `reference_ops::ResizeBilinearInteger`, element by element in
    Python integers (C's truncating division spelled out)."""

    def div(a: int, b: int) -> int:
        return abs(a) // b * (1 if a >= 0 else -1)

    def scale_10(in_len: int, out_len: int) -> int:
        if align_corners and out_len > 1:
            return ((1 << 10) * (in_len - 1) + (out_len - 1) // 2) // (out_len - 1)
        return ((1 << 10) * in_len + out_len // 2) // out_len

    def interpolation(value: int, scale: int, in_len: int) -> tuple[int, int, int]:
        scaled = value * scale + (scale // 2 - (1 << 9) if half_pixel else 0)
        lower = max(div(scaled, 1 << 10), 0)
        upper = min(div(scaled + (1 << 10) - 1, 1 << 10), in_len - 1)
        return scaled, lower, upper

    batches, in_h, in_w, depth = x.shape
    sh, sw = scale_10(in_h, out_h), scale_10(in_w, out_w)
    y = np.zeros((batches, out_h, out_w, depth), np.int8)
    for b in range(batches):
        for oy in range(out_h):
            iy, y0, y1 = interpolation(oy, sh, in_h)
            for ox in range(out_w):
                ix, x0, x1 = interpolation(ox, sw, in_w)
                dy, dx = iy - (1 << 10) * y0, ix - (1 << 10) * x0
                for c in range(depth):
                    total = (
                        int(x[b, y0, x0, c]) * ((1 << 10) - dy) * ((1 << 10) - dx)
                        + int(x[b, y1, x0, c]) * dy * ((1 << 10) - dx)
                        + int(x[b, y0, x1, c]) * ((1 << 10) - dy) * dx
                        + int(x[b, y1, x1, c]) * dy * dx
                    )
                    nudge = (1 << 19) if total > 0 else -(1 << 19)
                    y[b, oy, ox, c] = div(total + nudge, 1 << 20)
    return y


def _linear_resize(
    shape, scales, coordinates: str, output=(0.02, 5)
) -> onnx.ModelProto:
    constants = {"roi": np.zeros(0, np.float32), "scales": np.float32([1, 1, *scales])}
    attributes = {"mode": "linear", "coordinate_transformation_mode": coordinates}
    return qdq_chain(shape, ("Resize", constants, attributes, output))


def _resize_op(model: onnx.ModelProto) -> graph.ResizeOp:
    module = import_onnx(model).module
    apply_pipeline(module, DEFAULT_PIPELINE)
    return next(op for op in module.walk() if isinstance(op, graph.ResizeOp))


TFLITE_COORDINATES = {
    "asymmetric": (False, False),
    "align_corners": (True, False),
    "half_pixel": (False, True),
}


@pytest.mark.parametrize("coordinates", TFLITE_COORDINATES)
@pytest.mark.parametrize(
    "shape, scales",
    [((1, 2, 3, 4), (2, 2)), ((2, 3, 7, 5), (3, 0.4)), ((1, 1, 5, 1), (0.6, 7))],
)
def test_linear_resize_is_tflites(coordinates: str, shape, scales) -> None:
    """`tflite` mode is `ResizeBilinearInteger` on the stored values."""
    op = _resize_op(_linear_resize(shape, scales, coordinates))
    _, out_h, out_w, _ = graph.shape_of(op.result)
    x = np.random.default_rng(9).integers(-128, 128, graph.shape_of(op.input))
    x = x.astype(np.int8)
    expected = _tflite_resize_bilinear(
        x, out_h, out_w, *TFLITE_COORDINATES[coordinates]
    )
    np.testing.assert_array_equal(
        INTEGER_KERNELS[graph.ResizeOp](op, "tflite", x), expected
    )


@pytest.mark.parametrize(
    "coordinates", ["half_pixel", "align_corners", "half_pixel_symmetric"]
)
def test_linear_resize_onnx_mode_rounds_once(coordinates: str) -> None:
    """`onnx` mode rounds the real interpolation once: within half a step of
    the float kernel's unrounded result, plus what weights of 15 bits may
    add (2 axes x 255 x 2^-16)."""
    op = _resize_op(_linear_resize((1, 3, 6, 5), (2.5, 1.5), coordinates))
    qtype = graph.tensor_type(op.input).element_type
    x = np.random.default_rng(11).integers(-128, 128, graph.shape_of(op.input))
    x = x.astype(np.int8)
    real = KERNELS[graph.ResizeOp](op, dequantize(x, qtype))
    steps = real / qtype.scale_values[0] + qtype.zero_point_values[0]
    ours = INTEGER_KERNELS[graph.ResizeOp](op, "onnx", x)
    assert np.abs(ours - steps).max() <= 0.5 + 2 * 255 * 2.0**-16


@pytest.mark.parametrize(
    "model, reason",
    [
        (
            _linear_resize((1, 2, 4, 4), (2, 2), "half_pixel_symmetric"),
            "no coordinate mode 'half_pixel_symmetric'",
        ),
        (
            _linear_resize((1, 2, 5, 4), (1.5, 2), "half_pixel"),
            "scales by the size ratio 7/5",
        ),
        (
            _linear_resize((1, 2, 4, 4), (2, 2), "half_pixel", output=(0.05, 0)),
            "must keep its input's quantization",
        ),
    ],
)
def test_unsupported_linear_resize_is_rejected(model, reason: str) -> None:
    op = _resize_op(model)
    x = np.zeros(graph.shape_of(op.input), np.int8)
    with pytest.raises(TinyccError, match=reason):
        INTEGER_KERNELS[graph.ResizeOp](op, "tflite", x)
