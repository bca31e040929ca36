"""Quantized models through the whole C pipeline, in both rounding modes.

`check_int8` is the contract of every integer kernel: the C program's
outputs equal the reference interpreter's on the same graph with the same
`quant.rounding` **bit for bit** (float outputs of a dequantizing edge
included), and with `rounding="onnx"` they are within 1 LSB of onnxruntime
(its fused kernels occasionally round differently from its own QDQ path).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
import onnx.version_converter
from c_pipeline_testlib import Arrays, run_in_c, run_onnxruntime
from onnx import TensorProto, helper, numpy_helper

from tinycc import zoo
from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.compile import integer_passes
from tinycc.importer import import_onnx
from tinycc.interpreter import run_module

ROUNDINGS = ("tflite", "onnx")


def float_model(nodes, input_shape, constants=None) -> onnx.ModelProto:
    """A float ONNX model of `nodes` reading input `x` (of `input_shape`) and
    the named constant arrays, giving `y`: what the tests quantize."""
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [
            numpy_helper.from_array(np.asarray(v), k)
            for k, v in (constants or {}).items()
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10  # onnxruntime 1.31 reads <= 10
    return model


def seeded(shape, seed: int, scale: float = 1.0) -> np.ndarray:
    """Seeded standard-normal float32 values, times `scale`."""
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def quantized(
    model: onnx.ModelProto,
    seed: int = 0,
    activations: str = "int8",
    operators: bool = False,
) -> onnx.ModelProto:
    """`model` (float) quantized by onnxruntime's quantize_static, calibrated
    on seeded random inputs: int8 weights, int8 (or int16) activations, QDQ
    (or QOperator) form."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    model.ir_version = min(model.ir_version, 10)  # onnxruntime 1.31 reads <= 13
    if activations == "int16":  # int16 QuantizeLinear needs opset 21
        model = onnx.version_converter.convert_version(model, 21)
    return zoo.quantize_qdq(model, seed, activations=activations, operators=operators)


def interpreted(
    model: onnx.ModelProto, rounding: str, feeds: Mapping[str, np.ndarray]
) -> Arrays:
    """The reference interpreter on the graph `tinycc compile` lowers."""
    module = import_onnx(model).module
    apply_pipeline(module, f"{DEFAULT_PIPELINE},{integer_passes(rounding)}")
    return run_module(module, feeds)


def output_lsb(model: onnx.ModelProto, name: str) -> float:
    """One quantization step of output `name`: the scale of the dequantize
    producing it, or 1 for an integer output."""
    initializers = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if name in node.output and node.op_type == "DequantizeLinear":
            return float(numpy_helper.to_array(initializers[node.input[1]]))
    return 1.0


def check_int8(
    model: onnx.ModelProto,
    directory: Path,
    rounding: str,
    feeds: Mapping[str, np.ndarray] | None = None,
) -> Arrays:
    """Compile, build (sanitized), run; assert the contract above."""
    feeds = dict(feeds) if feeds is not None else zoo.random_input(model, 1)
    path = directory / "model.onnx"
    onnx.save(model, path)
    ours = run_in_c(path, directory / rounding, feeds, rounding=rounding)
    reference = interpreted(model, rounding, feeds)
    assert ours.keys() == reference.keys()
    for name, expected in reference.items():
        assert ours[name].dtype == expected.dtype, name
        np.testing.assert_array_equal(ours[name], expected, err_msg=f"C vs {name}")
    if rounding == "onnx":
        oracle = run_onnxruntime(model, feeds)
        for name, expected in oracle.items():
            lsb = output_lsb(model, name)
            difference = np.abs(ours[name].astype(np.float64) - expected)
            assert difference.max(initial=0) <= lsb * 1.0001, (
                f"{name}: {difference.max() / lsb:.2f} LSB from onnxruntime"
            )
    return ours
