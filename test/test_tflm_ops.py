"""Our `tflite` rounding mode against TFLite Micro, one int8 operator at a time.

Each case is one operator with seeded random int8 inputs, weights and
quantization parameters, built twice: as a one-operator `.tflite` model that
TFLite Micro's reference kernels run (`tflm_testlib`), and as the equivalent
graph-dialect op with `quant.rounding = "tflite"` (NHWC activations, OHWI
weights, TFLite's SAME padding as explicit pads, fused activations as real
clamps). The reference interpreter's integer kernel, and for `IN_C` the C
program compiled from the same graph, must equal TFLM bit for bit.

Unary ops are fed all 256 int8 values, so one case checks the whole lookup
table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from tflm_testlib import Tensor, constant, ints, options, run_tflm, tensor

from tinycc import host, signature
from tinycc.cli import apply_pipeline
from tinycc.compile import Compiled, write_outputs
from tinycc.dialects.quant import float_literal
from tinycc.interpreter import run_function
from tinycc.ir import parse_module

# A case, both sides -------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One operator as TFLM's model and as our graph op.

    Activations are shared: `feeds` go, in order, to the inputs without data
    of `tflm_inputs` and of `operands` alike.
    """

    operator: str  # TFLite builtin
    tflm_inputs: Sequence[Tensor | None]
    builtin_options: tuple[int, object] | None
    op: str  # graph op name
    properties: Sequence[str]  # its properties, as IR text
    operands: Sequence[Tensor]  # its operands (constants carry data)
    output: Tensor
    feeds: Sequence[np.ndarray]


def element_type(t: Tensor) -> str:
    storage = {np.dtype(np.int8): "i8", np.dtype(np.int32): "i32"}[t.dtype]
    pairs = [
        f"{float_literal(s)}:{z}" for s, z in zip(t.scales, t.zero_points, strict=True)
    ]
    if len(pairs) == 1:
        return f"!quant.uniform<{storage}:f32, {pairs[0]}>"
    return f"!quant.uniform<{storage}:f32:{t.axis}, {{{', '.join(pairs)}}}>"


def tensor_type(t: Tensor) -> str:
    return f"tensor<{'x'.join(map(str, t.shape))}x{element_type(t)}>"


def graph_text(case: Case) -> str:
    """`@main`: the activations as arguments, the constants inline, the op."""
    arguments, lines = [], []
    for index, t in enumerate(case.operands):
        if t.data is None:
            arguments.append(f'%x{index}: {tensor_type(t)} {{onnx.name = "x{index}"}}')
        else:
            value = f"{tensor_type(t)} = dense<{t.data.tolist()}>"
            lines.append(f"%x{index} = graph.constant @c{index} : {value}")
    names = ", ".join(f"%x{i}" for i in range(len(case.operands)))
    properties = ", ".join([*case.properties, 'quant.rounding = "tflite"'])
    types = ", ".join(tensor_type(t) for t in case.operands)
    result = tensor_type(case.output)
    lines += [
        f"%y = {case.op} {names} {{{properties}}} : ({types}) -> {result}",
        f"func.return %y : {result}",
    ]
    body = "\n  ".join(lines)
    return (
        f"func.func @main({', '.join(arguments)}) -> "
        f'({result} {{onnx.name = "y"}}) {{\n  {body}\n}}'
    )


def tflm(case: Case) -> np.ndarray:
    return run_tflm(
        case.operator, case.tflm_inputs, case.output, case.feeds, case.builtin_options
    )


def interpreted(case: Case) -> np.ndarray:
    module = parse_module(graph_text(case))
    return run_function(signature.main_function(module), case.feeds)[0]


def in_c(case: Case, directory: Path) -> np.ndarray:
    """The C program of the same graph, built with the sanitizers, run."""
    module = parse_module(graph_text(case))
    apply_pipeline(module, "lower-graph-to-tile,bufferize{model=m}")
    write_outputs(Compiled("m", module), directory)
    program = host.build(directory, "m", module, sanitize=True)
    _, outputs = host.ports(module)
    return host.run(program, case.feeds, outputs)[0]


# Parameters ----------------------------------------------------------------------


def scale(rng: np.random.Generator, low: float = 0.005, high: float = 0.1) -> float:
    """A float32 scale (TFLite stores float32), as a Python float."""
    return float(np.float32(rng.uniform(low, high)))


def zero_point(rng: np.random.Generator) -> int:
    return int(rng.integers(-100, 101))


def int8(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    return rng.integers(-128, 128, tuple(shape), dtype=np.int8)


def every_int8(rng: np.random.Generator) -> np.ndarray:
    """All 256 int8 values in random order, as a `[1, 16, 16]` tensor."""
    return rng.permutation(np.arange(-128, 128, dtype=np.int8)).reshape(1, 16, 16)


def activation(rng: np.random.Generator, shape: Sequence[int]) -> Tensor:
    return tensor(shape, scale(rng), zero_point(rng))


def same_quantization(x: Tensor, shape: Sequence[int]) -> Tensor:
    """A tensor of `shape` quantized like `x`."""
    return Tensor(tuple(shape), x.dtype, x.scales, x.zero_points)


def array(values: Sequence[int]) -> str:
    return f"array<i64: {', '.join(str(int(v)) for v in values)}>"


def f32(value: float) -> str:
    return f"{float_literal(value)} : f32"


# TFLite's fused activations as our real clamps.
CLAMPS = {
    "NONE": [],
    "RELU": [f"clamp_min = {f32(0.0)}"],
    "RELU6": [f"clamp_min = {f32(0.0)}", f"clamp_max = {f32(6.0)}"],
    "RELU_N1_TO_1": [f"clamp_min = {f32(-1.0)}", f"clamp_max = {f32(1.0)}"],
}


def window(
    size: int, kernel: int, stride: int, dilation: int, padding: str
) -> tuple[int, int, int]:
    """TFLite's output size and `(before, after)` padding along one axis
    (`ComputePaddingHeightWidth`): SAME pads the odd cell at the end."""
    span = (kernel - 1) * dilation + 1
    if padding == "VALID":
        return (size - span) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return out, total // 2, total - total // 2


def windows(
    size: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    padding: str,
) -> tuple[tuple[int, int], list[int]]:
    """Output `(H, W)` and our pads `[top, left, bottom, right]`."""
    (oh, top, bottom), (ow, left, right) = (
        window(*axis, padding)
        for axis in zip(size, kernel, strides, dilations, strict=True)
    )
    return (oh, ow), [top, left, bottom, right]


def output_for_sum(
    rng: np.random.Generator, shape: Sequence[int], input_scale: float, terms: int
) -> tuple[Tensor, np.ndarray]:
    """An output, and per-channel weight scales that put a sum of `terms`
    random int8 products around +-40 output steps (little saturation)."""
    output = activation(rng, shape)
    base = output.scales[0] / (input_scale * 75 * 75 * math.sqrt(terms) / 40)
    weight_scales = np.float32(base * rng.uniform(0.5, 2.0, shape[-1]))
    return output, weight_scales


def bias(
    rng: np.random.Generator,
    input_scale: float,
    weight_scales: np.ndarray,
    channels: int | None = None,
) -> Tensor:
    """An int32 bias of `channels` values (one per weight scale by default)
    on the accumulator scale `s_in * s_w` (TFLite's rule)."""
    scales = np.float32(input_scale) * weight_scales
    count = len(weight_scales) if channels is None else channels
    return constant(rng.integers(-20000, 20001, count, dtype=np.int32), scales)


def window_options(
    kind: str,
    padding: str,
    strides: Sequence[int],
    dilations: Sequence[int],
    fused: str,
    **fields: object,
) -> tuple[int, object]:
    """The builtin options of a convolution (`kind`)."""
    return options(
        kind,
        padding=padding,
        strideH=strides[0],
        strideW=strides[1],
        dilationHFactor=dilations[0],
        dilationWFactor=dilations[1],
        fusedActivationFunction=fused,
        **fields,
    )


def conv_properties(
    strides: Sequence[int],
    dilations: Sequence[int],
    pads: Sequence[int],
    groups: int,
    fused: str,
) -> list[str]:
    """The properties of the equivalent `graph.conv2d`."""
    return [
        f"strides = {array(strides)}",
        f"dilations = {array(dilations)}",
        f"pads = {array(pads)}",
        f"groups = {groups} : i64",
        *CLAMPS[fused],
    ]


# Linear ops -------------------------------------------------------------------------


def conv2d(
    seed: int,
    kernel: tuple[int, int] = (3, 3),
    strides: tuple[int, int] = (1, 1),
    dilations: tuple[int, int] = (1, 1),
    padding: str = "VALID",
    fused: str = "NONE",
    with_bias: bool = True,
    size: tuple[int, int] = (7, 6),
    channels: tuple[int, int] = (3, 5),
) -> Case:
    """CONV_2D, per-channel weights (OHWI on both sides)."""
    rng = np.random.default_rng(seed)
    c_in, c_out = channels
    (oh, ow), pads = windows(size, kernel, strides, dilations, padding)
    x = activation(rng, (1, *size, c_in))
    output, weight_scales = output_for_sum(
        rng, (1, oh, ow, c_out), x.scales[0], c_in * kernel[0] * kernel[1]
    )
    weight = constant(int8(rng, (c_out, *kernel, c_in)), weight_scales)
    b = bias(rng, x.scales[0], weight_scales) if with_bias else None
    return Case(
        "CONV_2D",
        [x, weight, b],
        window_options("Conv2DOptions", padding, strides, dilations, fused),
        "graph.conv2d",
        conv_properties(strides, dilations, pads, 1, fused),
        [t for t in (x, weight, b) if t is not None],
        output,
        [int8(rng, x.shape)],
    )


def depthwise_conv2d(
    seed: int,
    multiplier: int = 1,
    kernel: tuple[int, int] = (3, 3),
    strides: tuple[int, int] = (1, 1),
    dilations: tuple[int, int] = (1, 1),
    padding: str = "SAME",
    fused: str = "NONE",
    size: tuple[int, int] = (7, 6),
    channels: int = 4,
) -> Case:
    """DEPTHWISE_CONV_2D: TFLite's `[1, KH, KW, C*M]` weights, quantized along
    axis 3, are our `[C*M, KH, KW, 1]` with `groups = C`."""
    rng = np.random.default_rng(seed)
    c_out = channels * multiplier
    (oh, ow), pads = windows(size, kernel, strides, dilations, padding)
    x = activation(rng, (1, *size, channels))
    output, weight_scales = output_for_sum(
        rng, (1, oh, ow, c_out), x.scales[0], kernel[0] * kernel[1]
    )
    ours = int8(rng, (c_out, *kernel, 1))
    theirs = constant(ours.transpose(3, 1, 2, 0), weight_scales, axis=3)
    b = bias(rng, x.scales[0], weight_scales)
    return Case(
        "DEPTHWISE_CONV_2D",
        [x, theirs, b],
        window_options(
            "DepthwiseConv2DOptions",
            padding,
            strides,
            dilations,
            fused,
            depthMultiplier=multiplier,
        ),
        "graph.conv2d",
        conv_properties(strides, dilations, pads, channels, fused),
        [x, constant(ours, weight_scales), b],
        output,
        [int8(rng, x.shape)],
    )


def fully_connected(
    seed: int, fused: str = "NONE", batch: int = 3, sizes: tuple[int, int] = (20, 7)
) -> Case:
    """FULLY_CONNECTED with per-tensor weights `[N, K]` and a bias."""
    rng = np.random.default_rng(seed)
    k, n = sizes
    x = activation(rng, (batch, k))
    output, weight_scales = output_for_sum(rng, (batch, n), x.scales[0], k)
    weight = constant(int8(rng, (n, k)), weight_scales[:1])
    b = bias(rng, x.scales[0], weight_scales[:1], n)
    return Case(
        "FULLY_CONNECTED",
        [x, weight, b],
        options("FullyConnectedOptions", fusedActivationFunction=fused),
        "graph.fully_connected",
        CLAMPS[fused],
        [x, weight, b],
        output,
        [int8(rng, x.shape)],
    )


# Pooling and reductions --------------------------------------------------------------


def pool2d(
    seed: int,
    kind: str,
    kernel: tuple[int, int] = (3, 3),
    strides: tuple[int, int] = (2, 2),
    padding: str = "SAME",
    size: tuple[int, int] = (7, 6),
    channels: int = 3,
) -> Case:
    """AVERAGE_POOL_2D / MAX_POOL_2D (`kind` "avg" / "max"), input and output
    quantized alike as TFLite requires; SAME padding averages only the cells
    inside the input."""
    rng = np.random.default_rng(seed)
    (oh, ow), pads = windows(size, kernel, strides, (1, 1), padding)
    x = activation(rng, (1, *size, channels))
    output = same_quantization(x, (1, oh, ow, channels))
    return Case(
        {"avg": "AVERAGE_POOL_2D", "max": "MAX_POOL_2D"}[kind],
        [x],
        options(
            "Pool2DOptions",
            padding=padding,
            strideH=strides[0],
            strideW=strides[1],
            filterHeight=kernel[0],
            filterWidth=kernel[1],
        ),
        f"graph.{kind}_pool2d",
        [
            f"kernel = {array(kernel)}",
            f"strides = {array(strides)}",
            f"pads = {array(pads)}",
        ],
        [x],
        output,
        [int8(rng, x.shape)],
    )


def global_pool(seed: int, kind: str, size: tuple[int, int] = (5, 6)) -> Case:
    """A pool whose window is the whole plane: our `graph.global_*_pool`."""
    case = pool2d(seed, kind, size, (1, 1), "VALID", size, channels=16)
    return replace(case, op=f"graph.global_{kind}_pool", properties=[])


def mean(seed: int, requantized: bool, op: str = "graph.global_avg_pool") -> Case:
    """MEAN over H and W, keeping them: our `graph.global_avg_pool` (which
    TFLite can only write as a MEAN when it requantizes: AVERAGE_POOL_2D
    cannot), or `graph.reduce_mean` over axes 1 and 2. Requantized, the
    output scale is a fraction of the input's and the zero points keep the
    mean in range."""
    rng = np.random.default_rng(seed)
    x = tensor((1, 5, 6, 16), scale(rng), int(rng.integers(-20, 21)))
    output = same_quantization(x, (1, 1, 1, 16))
    if requantized:
        ratio = rng.uniform(0.15, 0.5)
        shift = round(x.zero_points[0] / ratio) + int(rng.integers(-10, 11))
        output = tensor(
            output.shape,
            float(np.float32(x.scales[0] * ratio)),
            max(-128, min(127, shift)),
        )
    properties = {
        "graph.global_avg_pool": [],
        "graph.reduce_mean": [f"axes = {array([1, 2])}", "keepdims"],
    }[op]
    return Case(
        "MEAN",
        [x, ints([1, 2])],
        options("ReducerOptions", keepDims=True),
        op,
        properties,
        [x],
        output,
        [int8(rng, x.shape)],
    )


# Elementwise ------------------------------------------------------------------------


def binary(
    seed: int,
    operator: str,
    shapes: tuple[Sequence[int], Sequence[int]] = ((1, 4, 5, 3), (1, 4, 5, 3)),
    fused: str = "NONE",
) -> Case:
    """ADD / SUB / MUL with independently quantized operands, broadcasting."""
    rng = np.random.default_rng(seed)
    a, b = (activation(rng, shape) for shape in shapes)
    out_shape = np.broadcast_shapes(*shapes)
    if operator == "MUL":  # products of +-128 steps
        product = a.scales[0] * b.scales[0] * 128 * 128 / 60
        output = tensor(out_shape, float(np.float32(product)), zero_point(rng))
    else:
        output = activation(rng, out_shape)
    return Case(
        operator,
        [a, b],
        options(f"{operator.capitalize()}Options", fusedActivationFunction=fused),
        f"graph.{operator.lower()}",
        CLAMPS[fused],
        [a, b],
        output,
        [int8(rng, a.shape), int8(rng, b.shape)],
    )


def unary(
    seed: int,
    operator: str,
    op: str,
    properties: Sequence[str] = (),
    builtin_options: tuple[int, object] | None = None,
    output: tuple[float, int] | None = None,
    requantizes: bool = True,
) -> Case:
    """A unary op on all 256 int8 values; `output` fixes the output
    quantization TFLM requires, otherwise it is random, or the input's when
    TFLM's kernel does not requantize (`requantizes`)."""
    rng = np.random.default_rng(seed)
    x = activation(rng, (1, 16, 16))
    if output is not None:
        y = tensor(x.shape, *output)
    else:
        y = activation(rng, x.shape) if requantizes else same_quantization(x, x.shape)
    return Case(
        operator, [x], builtin_options, op, properties, [x], y, [every_int8(rng)]
    )


def softmax(seed: int, shape: Sequence[int] = (2, 10), input_scale: float = 0.1):
    """SOFTMAX, beta 1, TFLM's output quantization `(1/256, -128)`."""
    rng = np.random.default_rng(seed)
    x = tensor(shape, input_scale, zero_point(rng))
    return Case(
        "SOFTMAX",
        [x],
        options("SoftmaxOptions", beta=1.0),
        "graph.softmax",
        [f"axis = {len(shape) - 1} : i64"],
        [x],
        tensor(shape, 1.0 / 256, -128),
        [int8(rng, shape)],
    )


def log_softmax(seed: int, shape: Sequence[int] = (2, 10), input_scale: float = 0.1):
    """LOG_SOFTMAX, TFLM's output quantization `(16/256, 127)`."""
    case = softmax(seed, shape, input_scale)
    return replace(
        case,
        operator="LOG_SOFTMAX",
        builtin_options=None,
        op="graph.log_softmax",
        output=tensor(shape, 16.0 / 256, 127),
    )


def prelu(seed: int) -> Case:
    """PRELU with a per-tensor quantized slope per channel."""
    rng = np.random.default_rng(seed)
    x = activation(rng, (1, 4, 5, 3))
    slope = Tensor(
        (1, 1, 3),
        np.dtype(np.int8),
        (scale(rng, 0.001, 0.01),),
        (zero_point(rng),),
        data=int8(rng, (1, 1, 3)),
    )
    return Case(
        "PRELU",
        [x, slope],
        None,
        "graph.prelu",
        [],
        [x, slope],
        activation(rng, x.shape),
        [int8(rng, x.shape)],
    )


# Data movement ------------------------------------------------------------------------


def reshape(seed: int) -> Case:
    rng = np.random.default_rng(seed)
    x = activation(rng, (1, 4, 5, 3))
    y = same_quantization(x, (1, 60))
    feeds = [int8(rng, x.shape)]
    return Case("RESHAPE", [x, ints([1, 60])], None, "graph.reshape", [], [x], y, feeds)


def requantize(seed: int) -> Case:
    """QUANTIZE from int8 to int8 (what the TFLite converter inserts where
    scales change) is our same-shape reshape to another quantization."""
    rng = np.random.default_rng(seed)
    x = activation(rng, (1, 4, 5, 3))
    y = activation(rng, x.shape)
    feeds = [int8(rng, x.shape)]
    return Case("QUANTIZE", [x], None, "graph.reshape", [], [x], y, feeds)


def concatenation(seed: int, axis: int, count: int = 3) -> Case:
    """CONCATENATION, every operand quantized like the result (TFLM's rule)."""
    rng = np.random.default_rng(seed)
    x = activation(rng, (1, 3, 4, 2))
    sizes = rng.integers(1, 4, count)
    inputs = []
    for size in sizes:
        shape = list(x.shape)
        shape[axis] = int(size)
        inputs.append(same_quantization(x, shape))
    out_shape = list(x.shape)
    out_shape[axis] = int(sizes.sum())
    return Case(
        "CONCATENATION",
        inputs,
        options("ConcatenationOptions", axis=axis),
        "graph.concat",
        [f"axis = {axis} : i64"],
        inputs,
        same_quantization(x, out_shape),
        [int8(rng, t.shape) for t in inputs],
    )


def pad(seed: int) -> Case:
    """PAD with zeros: the output's zero point."""
    rng = np.random.default_rng(seed)
    x = activation(rng, (1, 3, 4, 2))
    paddings = rng.integers(0, 3, (4, 2))
    paddings[0] = 0
    out_shape = [d + int(p.sum()) for d, p in zip(x.shape, paddings, strict=True)]
    return Case(
        "PAD",
        [x, ints(paddings)],
        None,
        "graph.pad",
        [f"pads = {array([*paddings[:, 0], *paddings[:, 1]])}", f"value = {f32(0.0)}"],
        [x],
        same_quantization(x, out_shape),
        [int8(rng, x.shape)],
    )


def transpose(seed: int, perm: Sequence[int] = (0, 2, 3, 1)) -> Case:
    rng = np.random.default_rng(seed)
    x = activation(rng, (1, 3, 4, 2))
    y = same_quantization(x, [x.shape[p] for p in perm])
    return Case(
        "TRANSPOSE",
        [x, ints(perm)],
        None,
        "graph.transpose",
        [f"perm = {array(perm)}"],
        [x],
        y,
        [int8(rng, x.shape)],
    )


def strided_slice(seed: int) -> Case:
    rng = np.random.default_rng(seed)
    x = activation(rng, (1, 7, 6, 3))
    begin, end, steps = [0, 1, 0, 1], [1, 7, 5, 3], [1, 2, 2, 1]
    shape = [len(range(*a)) for a in zip(begin, end, steps, strict=True)]
    return Case(
        "STRIDED_SLICE",
        [x, ints(begin), ints(end), ints(steps)],
        options("StridedSliceOptions"),
        "graph.slice",
        [f"starts = {array(begin)}", f"ends = {array(end)}", f"steps = {array(steps)}"],
        [x],
        same_quantization(x, shape),
        [int8(rng, x.shape)],
    )


# ONNX coordinate modes of TFLite's (align_corners, half_pixel_centers).
RESIZE_COORDINATES = {
    "asymmetric": (False, False),
    "align_corners": (True, False),
    "half_pixel": (False, True),
}


def resize(
    seed: int,
    mode: str,
    coordinates: str,
    size: tuple[int, int] = (3, 4),
    out: tuple[int, int] = (7, 6),
) -> Case:
    """RESIZE_BILINEAR ("linear") and RESIZE_NEAREST_NEIGHBOR ("nearest").

    TFLite's nearest neighbour takes `floor((o + 0.5) * in / out)` with
    half-pixel centers, `round(o * (in - 1) / (out - 1))` with aligned
    corners (both ONNX's `round_prefer_ceil` of its coordinate), and
    `floor(o * in / out)` otherwise (ONNX's `floor`)."""
    rng = np.random.default_rng(seed)
    x = activation(rng, (1, *size, 2))
    align, half_pixel = RESIZE_COORDINATES[coordinates]
    nearest = "round_prefer_ceil" if align or half_pixel else "floor"
    factors = ", ".join(repr(o / s) for o, s in zip(out, size, strict=True))
    kind = "ResizeBilinear" if mode == "linear" else "ResizeNearestNeighbor"
    operator = "RESIZE_BILINEAR" if mode == "linear" else "RESIZE_NEAREST_NEIGHBOR"
    return Case(
        operator,
        [x, ints(out)],
        options(f"{kind}Options", alignCorners=align, halfPixelCenters=half_pixel),
        "graph.resize",
        [
            f'mode = "{mode}"',
            f'coordinate_mode = "{coordinates}"',
            f'nearest_mode = "{nearest}"',
            f"scales = array<f64: {factors}>",
        ],
        [x],
        same_quantization(x, (1, *out, 2)),
        [int8(rng, x.shape)],
    )


# The cases --------------------------------------------------------------------------


def random_window(seed: int, depthwise: bool) -> Case:
    """A convolution whose every parameter comes from `seed`."""
    rng = np.random.default_rng(1000 + seed)
    kernel, strides, dilations = (
        tuple(int(v) for v in rng.integers(1, high, 2)) for high in (4, 3, 3)
    )
    padding = str(rng.choice(["SAME", "VALID"]))
    fused = str(rng.choice(list(CLAMPS)))
    size = tuple(int(v) for v in rng.integers(5, 9, 2))
    if depthwise:
        multiplier, channels = (int(v) for v in rng.integers(1, (3, 5)))
        return depthwise_conv2d(
            seed, multiplier, kernel, strides, dilations, padding, fused, size, channels
        )
    channels = tuple(int(v) for v in rng.integers(1, 6, 2))
    with_bias = bool(rng.integers(2))
    return conv2d(
        seed, kernel, strides, dilations, padding, fused, with_bias, size, channels
    )


# Unary ops: TFLite builtin, our op, and `unary`'s other arguments. TFLM's
# RELU6 clamps the stored input, ignoring the output's quantization (the
# TFLite converter gives it the input's).
UNARY: dict[str, dict[str, object]] = {
    "logistic": {
        "operator": "LOGISTIC",
        "op": "graph.sigmoid",
        "output": (1 / 256, -128),
    },
    "tanh": {"operator": "TANH", "op": "graph.tanh", "output": (1 / 128, 0)},
    "hard_swish": {"operator": "HARD_SWISH", "op": "graph.hard_swish"},
    "relu": {"operator": "RELU", "op": "graph.relu"},
    "relu6": {
        "operator": "RELU6",
        "op": "graph.clamp",
        "properties": [f"min = {f32(0.0)}", f"max = {f32(6.0)}"],
        "requantizes": False,
    },
    **{
        f"leaky_relu_{alpha}": {
            "operator": "LEAKY_RELU",
            "op": "graph.leaky_relu",
            "properties": [f"alpha = {f32(alpha)}"],
            "builtin_options": options("LeakyReluOptions", alpha=alpha),
        }
        for alpha in (0.2, 0.01)
    },
}


CASES: dict[str, Callable[[], Case]] = {
    # CONV_2D
    "conv_valid": lambda: conv2d(0),
    "conv_same": lambda: conv2d(1, padding="SAME"),
    "conv_same_stride2_relu": lambda: conv2d(
        2, strides=(2, 2), padding="SAME", fused="RELU"
    ),
    "conv_same_stride2_even": lambda: conv2d(
        3, strides=(2, 2), padding="SAME", size=(8, 8)
    ),
    "conv_dilation2_relu6": lambda: conv2d(
        4, dilations=(2, 2), padding="SAME", fused="RELU6"
    ),
    "conv_1x1_no_bias": lambda: conv2d(5, kernel=(1, 1), with_bias=False),
    "conv_5x3_strides_2x1": lambda: conv2d(
        6, kernel=(5, 3), strides=(2, 1), padding="SAME"
    ),
    "conv_relu_n1_to_1": lambda: conv2d(7, fused="RELU_N1_TO_1"),
    # DEPTHWISE_CONV_2D
    "depthwise_same": lambda: depthwise_conv2d(0),
    "depthwise_valid_relu6": lambda: depthwise_conv2d(
        1, padding="VALID", fused="RELU6"
    ),
    "depthwise_multiplier2": lambda: depthwise_conv2d(2, multiplier=2),
    "depthwise_multiplier2_stride2": lambda: depthwise_conv2d(3, 2, strides=(2, 2)),
    "depthwise_dilation2_relu": lambda: depthwise_conv2d(
        4, dilations=(2, 2), fused="RELU"
    ),
    **{
        f"{kind}_random_{seed}": lambda s=seed, d=depthwise: random_window(s, d)
        for kind, depthwise in (("conv", False), ("depthwise", True))
        for seed in range(6)
    },
    # FULLY_CONNECTED
    "fc": lambda: fully_connected(0),
    "fc_relu": lambda: fully_connected(1, fused="RELU"),
    "fc_relu6_batch1": lambda: fully_connected(2, fused="RELU6", batch=1),
    # Pooling and MEAN
    "avg_pool_same": lambda: pool2d(0, "avg"),
    "avg_pool_same_stride1": lambda: pool2d(1, "avg", strides=(1, 1)),
    "avg_pool_valid_2x2": lambda: pool2d(2, "avg", (2, 2), padding="VALID"),
    "max_pool_same": lambda: pool2d(0, "max"),
    "max_pool_valid_2x2": lambda: pool2d(1, "max", (2, 2), padding="VALID"),
    "global_avg_pool": lambda: global_pool(0, "avg"),
    "global_max_pool": lambda: global_pool(1, "max"),
    "mean_requantized": lambda: mean(1, requantized=True),
    "mean_as_reduce_mean": lambda: mean(2, False, "graph.reduce_mean"),
    # ADD, SUB, MUL
    **{
        f"{operator.lower()}_{name}": (
            lambda o=operator, s=seed, sh=shapes, f=fused: binary(s, o, sh, f)
        )
        for operator in ("ADD", "SUB", "MUL")
        for seed, (name, shapes, fused) in enumerate(
            [
                ("same_shape", ((1, 4, 5, 3), (1, 4, 5, 3)), "NONE"),
                ("channel_broadcast_relu", ((1, 4, 5, 3), (1, 1, 1, 3)), "RELU"),
                ("both_broadcast_relu6", ((1, 4, 1, 3), (1, 1, 5, 1)), "RELU6"),
            ]
        )
    },
    # SOFTMAX, LOG_SOFTMAX
    **{
        f"softmax_scale_{s}": lambda s=s: softmax(int(s * 1000), input_scale=s)
        for s in (0.02, 0.1, 0.25)
    },
    "softmax_4d": lambda: softmax(3, (1, 2, 3, 9)),
    **{
        f"log_softmax_scale_{s}": lambda s=s: log_softmax(int(s * 1000), input_scale=s)
        for s in (0.02, 0.1)
    },
    # Activations
    **{
        f"{name}_{seed}": lambda n=name, s=seed: unary(s, **UNARY[n])
        for name in UNARY
        for seed in range(3)
    },
    "prelu_0": lambda: prelu(0),
    "prelu_1": lambda: prelu(1),
    # Data movement
    "reshape": lambda: reshape(0),
    "requantize_0": lambda: requantize(0),
    "requantize_1": lambda: requantize(1),
    "concat_channels": lambda: concatenation(0, axis=3),
    "concat_rows": lambda: concatenation(1, axis=1),
    "pad_0": lambda: pad(0),
    "pad_1": lambda: pad(1),
    "transpose": lambda: transpose(0),
    "strided_slice": lambda: strided_slice(0),
    **{
        f"resize_{mode}_{coordinates}": (lambda m=mode, c=coordinates: resize(0, m, c))
        for mode in ("nearest", "linear")
        for coordinates in RESIZE_COORDINATES
    },
}

# One case per kernel through the C back end too.
IN_C = [
    "conv_same_stride2_relu",
    "conv_dilation2_relu6",
    "depthwise_multiplier2",
    "depthwise_valid_relu6",
    "fc_relu",
    "avg_pool_same",
    "max_pool_same",
    "global_avg_pool",
    "global_max_pool",
    "add_channel_broadcast_relu",
    "sub_both_broadcast_relu6",
    "mul_channel_broadcast_relu",
    "softmax_4d",
    "log_softmax_scale_0.1",
    "logistic_0",
    "hard_swish_0",
    "prelu_0",
    "requantize_0",
    "concat_channels",
    "pad_0",
    "transpose",
    "strided_slice",
    "mean_requantized",
    "mean_as_reduce_mean",
    "resize_linear_half_pixel",
    "resize_nearest_asymmetric",
]


@pytest.mark.parametrize("name", CASES)
def test_interpreter_is_tflm(name: str) -> None:
    case = CASES[name]()
    expected = tflm(case)
    actual = interpreted(case)
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected, err_msg=name)


@pytest.mark.parametrize("name", IN_C)
def test_c_is_tflm(name: str, tmp_path: Path) -> None:
    case = CASES[name]()
    expected = tflm(case)
    actual = in_c(case, tmp_path)
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected, err_msg=name)
