"""Reference networks (the "model zoo") that tinycc's tests and benchmarks compile.

Every builder returns a float32 ``onnx.ModelProto`` shaped the way a PyTorch
export of the network would look: NCHW, batch 1, opset 17, Conv with explicit
``pads``, BatchNormalization kept as its own node, ReLU6 spelled ``Clip`` with
min/max as inputs, residual ``Add``, pooling, ``Flatten`` and ``Gemm``, and a
final ``Softmax``.  Weights are random but seeded and He-scaled, so that
activations stay O(1) through the whole network: a compiler bug then shows up
as a numeric difference instead of hiding in saturated or vanishing values.

The architectures follow the MLPerf Tiny reference Keras code (DS-CNN,
ResNet-8, FC autoencoder), ``keras.applications.MobileNet`` (the visual wake
words reference) and MobileNetV2.  ``count_macs``/``count_params`` recount
the published complexity figures from the ONNX graph alone, which gives the
tests an independent oracle for the architecture details.  Parameters are
counted the way Keras' ``model.summary()`` counts them ("Total params"):
weights, biases and all four BatchNorm vectors.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # the IR version that introduced opset 17; onnxruntime 1.31 accepts it

__all__ = [
    "REFERENCE_MODELS",
    "count_macs",
    "count_params",
    "fc_autoencoder",
    "kws_dscnn",
    "mobilenet_v2",
    "quantize_qdq",
    "random_input",
    "resnet8",
    "vww_mobilenet_v1",
]


class _GraphBuilder:
    """Accumulates nodes and seeded initializers for one network.

    It tracks the channel count of every activation tensor, so the layer
    helpers only need the output width, like the Keras/PyTorch layer
    constructors they mirror.
    """

    def __init__(self, name: str, input_shape: list[int], seed: int) -> None:
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.input = helper.make_tensor_value_info(
            "input", TensorProto.FLOAT, input_shape
        )
        self.channels: dict[str, int] = {"input": input_shape[1]}
        self._relu6_bounds: tuple[str, str] | None = None

    # -- primitives --------------------------------------------------------
    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def node(
        self, op: str, inputs: list[str], name: str, channels: int, **attrs: object
    ) -> str:
        """Append one node whose single output is named after the node."""
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        self.channels[name] = channels
        return name

    def _he(self, shape: tuple[int, ...], fan_in: int, gain: float) -> np.ndarray:
        std = math.sqrt(gain / fan_in)
        return (self.rng.standard_normal(shape) * std).astype(np.float32)

    def _small(self, n: int, scale: float = 0.1) -> np.ndarray:
        return (self.rng.standard_normal(n) * scale).astype(np.float32)

    # -- layers ------------------------------------------------------------
    def conv(
        self,
        x: str,
        name: str,
        cout: int | None,
        kernel: int | tuple[int, int],
        stride: int = 1,
        pads: list[int] | None = None,
        bias: bool = False,
        gain: float = 2.0,
    ) -> str:
        """Conv2d; ``cout=None`` makes it depthwise (group = channels).

        ``pads`` defaults to PyTorch's symmetric ``kernel // 2``.  ``gain`` is
        2 when a ReLU follows (He init), 1 for linear outputs, so the second
        moment of the activations is preserved from layer to layer.
        """
        cin = self.channels[x]
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        group = cin if cout is None else 1
        cout = cin if cout is None else cout
        fan_in = cin // group * kh * kw
        w = self.const(
            f"{name}.weight", self._he((cout, cin // group, kh, kw), fan_in, gain)
        )
        inputs = [x, w]
        if bias:
            inputs.append(self.const(f"{name}.bias", self._small(cout)))
        return self.node(
            "Conv",
            inputs,
            name,
            cout,
            kernel_shape=[kh, kw],
            strides=[stride, stride],
            pads=pads if pads is not None else [kh // 2, kw // 2, kh // 2, kw // 2],
            group=group,
        )

    def batchnorm(self, x: str, name: str) -> str:
        """Inference-mode BatchNorm with sane statistics (var in [0.5, 1.5])."""
        c = self.channels[x]
        params = [
            self.rng.uniform(0.8, 1.2, c).astype(np.float32),  # gamma
            self._small(c),  # beta
            self._small(c),  # running mean
            self.rng.uniform(0.5, 1.5, c).astype(np.float32),  # running var
        ]
        names = ["weight", "bias", "running_mean", "running_var"]
        inputs = [
            self.const(f"{name}.{n}", p) for n, p in zip(names, params, strict=True)
        ]
        return self.node(
            "BatchNormalization", [x, *inputs], name, c, epsilon=1e-5, momentum=0.9
        )

    def act(self, x: str, name: str, kind: str | None) -> str:
        """``relu`` -> Relu, ``relu6`` -> Clip(0, 6) as PyTorch exports it."""
        if kind is None:
            return x
        if kind == "relu":
            return self.node("Relu", [x], name, self.channels[x])
        if kind == "relu6":
            if self._relu6_bounds is None:  # one pair of scalars for all Clips
                lo = self.const("relu6.min", np.array(0.0, np.float32))
                hi = self.const("relu6.max", np.array(6.0, np.float32))
                self._relu6_bounds = (lo, hi)
            return self.node("Clip", [x, *self._relu6_bounds], name, self.channels[x])
        raise ValueError(f"unknown activation {kind!r}")

    def conv_bn_act(
        self,
        x: str,
        name: str,
        cout: int | None,
        kernel: int | tuple[int, int],
        stride: int = 1,
        pads: list[int] | None = None,
        bias: bool = False,
        act: str | None = "relu",
    ) -> str:
        """Conv -> BatchNormalization -> activation, the unit of every CNN here."""
        gain = 2.0 if act else 1.0
        y = self.conv(x, name, cout, kernel, stride, pads, bias, gain)
        y = self.batchnorm(y, f"{name}_bn")
        return self.act(y, f"{name}_{act}", act)

    def gemm(self, x: str, name: str, cout: int, gain: float = 1.0) -> str:
        """Fully connected layer as ``torch.nn.Linear`` exports it (transB=1)."""
        cin = self.channels[x]
        w = self.const(f"{name}.weight", self._he((cout, cin), cin, gain))
        b = self.const(f"{name}.bias", self._small(cout))
        return self.node("Gemm", [x, w, b], name, cout, transB=1)

    def classifier_head(self, x: str, classes: int, pool: list[int] | None) -> str:
        """Pool to 1x1 -> Flatten -> Gemm -> Softmax.

        ``pool=None`` uses GlobalAveragePool; otherwise AveragePool with that
        kernel and stride, as Keras ``AveragePooling2D(pool_size)`` does.
        """
        c = self.channels[x]
        if pool is None:
            x = self.node("GlobalAveragePool", [x], "avgpool", c)
        else:
            x = self.node(
                "AveragePool", [x], "avgpool", c, kernel_shape=pool, strides=pool
            )
        x = self.node("Flatten", [x], "flatten", c, axis=1)
        x = self.gemm(x, "fc", classes)
        return self.node("Softmax", [x], "softmax", classes, axis=-1)

    # -- model -------------------------------------------------------------
    def build(self, output: str, output_shape: list[int]) -> onnx.ModelProto:
        """Wrap up into a checked, shape-inferred model."""
        out = helper.make_tensor_value_info(output, TensorProto.FLOAT, output_shape)
        graph = helper.make_graph(
            self.nodes, self.name, [self.input], [out], initializer=self.inits
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="tinycc.zoo",
        )
        model.ir_version = IR_VERSION
        model = onnx.shape_inference.infer_shapes(
            model, check_type=True, strict_mode=True, data_prop=True
        )
        onnx.checker.check_model(model, full_check=True)
        return model


def _make_divisible(v: float, divisor: int = 8) -> int:
    """Channel rounding of the MobileNet reference code (never drop >10 %)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------


def kws_dscnn(seed: int = 0) -> onnx.ModelProto:
    """MLPerf Tiny keyword spotting DS-CNN: [1,1,49,10] MFCCs -> 12 classes.

    Follows ``benchmark/training/keyword_spotting/keras_model.py``: Conv
    10x4/2 with TF "same" padding (top 4, bottom 5, left/right 1 -> 25x5),
    four depthwise-separable blocks of 64 channels, all convs with bias and
    BN+ReLU.  The reference pools with ``AveragePooling2D((49//2, 10//2))``,
    i.e. a 24x5 window with stride 24x5 over the 25x5 map: the last time row
    is dropped.  That quirk is kept on purpose; the MACs do not depend on it.
    """
    b = _GraphBuilder("kws_dscnn", [1, 1, 49, 10], seed)
    x = b.conv_bn_act(
        "input", "conv1", 64, (10, 4), stride=2, pads=[4, 1, 5, 1], bias=True
    )
    for i in range(1, 5):
        x = b.conv_bn_act(x, f"block{i}_dw", None, 3, bias=True)
        x = b.conv_bn_act(x, f"block{i}_pw", 64, 1, bias=True)
    return b.build(b.classifier_head(x, 12, pool=[24, 5]), [1, 12])


def vww_mobilenet_v1(
    alpha: float = 0.25, resolution: int = 96, classes: int = 2, seed: int = 0
) -> onnx.ModelProto:
    """MobileNetV1 as the visual wake words reference uses it.

    The reference is ``keras.applications.MobileNet(alpha=0.25, classes=2)``
    on 96x96x3: convs without bias, BN + ReLU6 after every conv, global
    average pool and a 1x1 classifier (here a Gemm, which is the same thing).
    Symmetric PyTorch padding gives the same output sizes as Keras' padding.
    """
    b = _GraphBuilder("vww_mobilenet_v1", [1, 3, resolution, resolution], seed)
    x = b.conv_bn_act("input", "conv1", int(32 * alpha), 3, stride=2, act="relu6")
    strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    widths = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024]
    for i, (s, c) in enumerate(zip(strides, widths, strict=True), start=1):
        x = b.conv_bn_act(x, f"block{i}_dw", None, 3, stride=s, act="relu6")
        x = b.conv_bn_act(x, f"block{i}_pw", int(c * alpha), 1, act="relu6")
    return b.build(b.classifier_head(x, classes, pool=None), [1, classes])


def resnet8(seed: int = 0) -> onnx.ModelProto:
    """MLPerf Tiny image classification ResNet-8 (CIFAR-10, 16/32/64 filters).

    Follows ``benchmark/training/image_classification/keras_model.py``
    (``resnet_v1_eembc`` with the v0.5 width of 16): convs with bias, the
    downsampling stacks use a bare 1x1/2 conv (no BN) as shortcut, and the
    head is an 8x8 average pool.
    """
    b = _GraphBuilder("resnet8", [1, 3, 32, 32], seed)
    x = b.conv_bn_act("input", "conv1", 16, 3, bias=True)
    for i, (c, s) in enumerate([(16, 1), (32, 2), (64, 2)], start=1):
        y = b.conv_bn_act(x, f"stack{i}_conv1", c, 3, stride=s, bias=True)
        y = b.conv_bn_act(y, f"stack{i}_conv2", c, 3, bias=True, act=None)
        if s != 1:
            x = b.conv(x, f"stack{i}_shortcut", c, 1, s, bias=True, gain=1.0)
        x = b.node("Add", [x, y], f"stack{i}_add", c)
        x = b.act(x, f"stack{i}_relu", "relu")
    return b.build(b.classifier_head(x, 10, pool=[8, 8]), [1, 10])


def fc_autoencoder(seed: int = 0) -> onnx.ModelProto:
    """MLPerf Tiny anomaly detection autoencoder: 640 -> 128x4 -> 8 -> 128x4 -> 640.

    The reference Keras model puts BatchNormalization between each Dense
    and its ReLU; it is left out here (Gemm + Relu) because BN on a 2-D
    tensor is an awkward case and does not change the MAC count.
    """
    b = _GraphBuilder("fc_autoencoder", [1, 640], seed)
    x = "input"
    for i, width in enumerate([128, 128, 128, 128, 8, 128, 128, 128, 128], start=1):
        x = b.act(b.gemm(x, f"fc{i}", width, gain=2.0), f"fc{i}_relu", "relu")
    return b.build(b.gemm(x, "fc10", 640), [1, 640])


def mobilenet_v2(
    alpha: float = 0.35, resolution: int = 144, classes: int = 1000, seed: int = 0
) -> onnx.ModelProto:
    """MobileNetV2 (torchvision / keras.applications layout).

    Inverted residual blocks (1x1 expand, 3x3 depthwise, linear 1x1
    project), ReLU6 as Clip, residual Add when stride is 1 and the width is
    unchanged, last conv 1280 wide unless ``alpha > 1``.
    """
    b = _GraphBuilder(
        f"mobilenet_v2_{alpha}_{resolution}", [1, 3, resolution, resolution], seed
    )
    x = b.conv_bn_act(
        "input", "conv1", _make_divisible(32 * alpha), 3, stride=2, act="relu6"
    )
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]  # fmt: skip
    block = 0
    for t, c, n, s in settings:
        cout = _make_divisible(c * alpha)
        for j in range(n):
            block += 1
            stride, cin, name = (s if j == 0 else 1), b.channels[x], f"block{block}"
            y = x
            if t != 1:
                y = b.conv_bn_act(y, f"{name}_expand", cin * t, 1, act="relu6")
            y = b.conv_bn_act(y, f"{name}_dw", None, 3, stride=stride, act="relu6")
            y = b.conv_bn_act(y, f"{name}_project", cout, 1, act=None)
            if stride == 1 and cin == cout:
                y = b.node("Add", [x, y], f"{name}_add", cout)
            x = y
    last = _make_divisible(1280 * alpha) if alpha > 1.0 else 1280
    x = b.conv_bn_act(x, "conv_last", last, 1, act="relu6")
    return b.build(b.classifier_head(x, classes, pool=None), [1, classes])


# The reference set our tests and benchmarks run, by display name.
REFERENCE_MODELS: dict[str, Callable[[], onnx.ModelProto]] = {
    "KWS DS-CNN": kws_dscnn,
    "VWW MobileNetV1-0.25": vww_mobilenet_v1,
    "ResNet-8": resnet8,
    "FC autoencoder": fc_autoencoder,
    "MobileNetV2-0.35 @144": lambda: mobilenet_v2(0.35, 144),
    "MobileNetV2-1.0 @224": lambda: mobilenet_v2(1.0, 224),
}

# ---------------------------------------------------------------------------
# Complexity counting
# ---------------------------------------------------------------------------


def _shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    """Static shapes of every tensor, from shape inference and initializers."""
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True).graph
    shapes: dict[str, list[int]] = {}
    for vi in [*inferred.input, *inferred.value_info, *inferred.output]:
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else 1 for d in dims]
    for init in inferred.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def count_macs(model: onnx.ModelProto) -> int:
    """Multiply-accumulates of Conv/Gemm/MatMul; BN, activations and pools are free.

    Conv: output elements * (Cin / group) * kh * kw (padded taps included,
    as in the usual published figures).  Gemm/MatMul: M * N * K.
    """
    shapes = _shapes(model)
    macs = 0
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose"):
            weight = shapes[node.input[1]]
            taps = math.prod(weight[1:]) if node.op_type == "Conv" else weight[0]
            macs += math.prod(shapes[node.output[0]]) * taps
        elif node.op_type == "Gemm":
            a = shapes[node.input[0]]
            trans_a = next((at.i for at in node.attribute if at.name == "transA"), 0)
            k = a[0] if trans_a else a[1]
            macs += math.prod(shapes[node.output[0]]) * k
        elif node.op_type == "MatMul":
            macs += math.prod(shapes[node.output[0]]) * shapes[node.input[0]][-1]
    return macs


_PARAM_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization"}


def count_params(model: onnx.ModelProto) -> int:
    """Elements of the constant inputs of Conv/Gemm/MatMul/BatchNormalization.

    Matches Keras' "Total params" (BN mean/var included).  Weights reached
    through a DequantizeLinear are counted too, so QDQ models work.
    """
    inits = {t.name: t for t in model.graph.initializer}
    dequant = {
        n.output[0]: n.input[0]
        for n in model.graph.node
        if n.op_type == "DequantizeLinear"
    }
    seen: set[str] = set()
    total = 0
    for node in model.graph.node:
        if node.op_type not in _PARAM_OPS:
            continue
        for name in node.input[1:]:
            name = dequant.get(name, name)
            if name in inits and name not in seen:
                seen.add(name)
                total += math.prod(inits[name].dims)
    return total


# ---------------------------------------------------------------------------
# Inputs and quantization
# ---------------------------------------------------------------------------


def random_input(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded feeds for every graph input: `tinycc verify`'s own inputs."""
    from tinycc.verify import random_inputs

    return random_inputs(model, {}, seed)


def quantize_qdq(
    model: onnx.ModelProto,
    seed: int = 0,
    samples: int = 8,
    activations: str = "int8",
    operators: bool = False,
) -> onnx.ModelProto:
    """Static int8 post-training quantization into QDQ form with onnxruntime.

    The model first goes through ``quant_pre_process`` (shape inference plus
    onnxruntime's basic graph optimizations), which folds BatchNormalization
    into the preceding Conv, as TFLite conversion does; otherwise BN would
    remain a float island between QDQ pairs.  Activations and weights are
    QInt8, weights per output channel, calibrated with MinMax on ``samples``
    seeded random inputs.  The quantizer drops a Relu/Clip that directly
    follows a Conv/Gemm: the asymmetric output range (zero point at -128 for
    a [0, max] range) already clamps, so the QDQ graph has no activation nodes.
    ``activations="int16"`` gives symmetric QInt16 activations instead (the
    16x8 mode; the model needs opset 21 for int16 QuantizeLinear);
    ``activations="uint8"`` onnxruntime's older defaults: QUInt8 activations
    and QUInt8 asymmetric weights, per tensor.
    ``operators=True`` writes QOperator form (QLinearConv, QGemm, ...) instead.
    """
    assert activations in ("int8", "int16", "uint8"), activations
    wide, unsigned = activations == "int16", activations == "uint8"
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it: Iterator[dict[str, np.ndarray]] = (
                random_input(model, seed + i) for i in range(samples)
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

    with tempfile.TemporaryDirectory() as tmp:
        pre, out = Path(tmp, "pre.onnx"), Path(tmp, "qdq.onnx")
        quant_pre_process(model, pre)
        quantize_static(
            pre,
            out,
            _Reader(),
            quant_format=QuantFormat.QOperator if operators else QuantFormat.QDQ,
            activation_type={
                "int8": QuantType.QInt8,
                "int16": QuantType.QInt16,
                "uint8": QuantType.QUInt8,
            }[activations],
            weight_type=QuantType.QUInt8 if unsigned else QuantType.QInt8,
            per_channel=not unsigned,
            # The TFLite schemes, spelled out: symmetric weights (zero point
            # 0); int8 activations asymmetric, int16 ones symmetric ("16x8").
            extra_options={
                "ActivationSymmetric": wide,
                "WeightSymmetric": not unsigned,
            },
        )
        qmodel = onnx.load(out)
    # quant_pre_process declares every onnxruntime domain; keep the used ones.
    used = {node.domain for node in qmodel.graph.node} | {""}
    kept = [o for o in qmodel.opset_import if o.domain in used]
    del qmodel.opset_import[:]
    qmodel.opset_import.extend(kept)
    return qmodel
