"""graph-u8-to-i8 on uint8 QDQ models (onnxruntime's older defaults).

A float network quantized by onnxruntime's quantize_static with QUInt8
activations and asymmetric QUInt8 weights must mean the same after the pass:
exactly the same outputs at the graph level (dequantize, float op, quantize)
and under either integer semantics (the uint8 and the int8 integer kernels
agree value for value). Through the C pipeline with the pass, the program
equals the interpreter bit for bit and, in `onnx` mode, onnxruntime within
1 LSB. A model whose ports are uint8 tensors keeps them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from c_pipeline_testlib import run_onnxruntime
from int8_testlib import ROUNDINGS, output_lsb
from onnx import TensorProto, helper, numpy_helper

from tinycc import host, zoo
from tinycc.cli import DEFAULT_PIPELINE, apply_pipeline
from tinycc.compile import compile_model, write_outputs
from tinycc.dialects import graph
from tinycc.importer import import_onnx
from tinycc.interpreter import run_module

N = helper.make_node
PASS = "graph-u8-to-i8"


def _seeded(shape, seed: int, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def network() -> onnx.ModelProto:
    """Conv, ReLU, reflect pad, conv, nearest upsampling, concatenation with a
    second branch, flatten, fully connected: the op families with integer
    kernels, fed by uint8 tensors. No biases: the importer does not take
    onnxruntime's per-tensor int32 bias (a scalar scale with a zero point of
    shape [1])."""
    constants = {
        "w1": _seeded((6, 3, 3, 3), 1, 0.4),
        "pads": np.asarray([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
        "w2": _seeded((4, 6, 3, 3), 3, 0.2),
        "scales": np.asarray([1, 1, 2, 2], np.float32),
        "w3": _seeded((2, 3, 1, 1), 4, 1.5),
        "shape": np.asarray([1, -1], np.int64),
        "w4": _seeded((6 * 8 * 8, 5), 5, 0.05),
    }
    nodes = [
        N("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        N("Relu", ["c1"], ["r1"]),
        N("Pad", ["r1", "pads"], ["p"], mode="reflect"),
        N("Conv", ["p", "w2"], ["c2"]),
        N("Resize", ["c2", "", "scales"], ["u"], mode="nearest"),
        N("Conv", ["x", "w3"], ["c3"]),
        N("Concat", ["u", "c3"], ["cat"], axis=1),
        N("Reshape", ["cat", "shape"], ["f"]),
        N("MatMul", ["f", "w4"], ["y"]),
    ]
    body = helper.make_graph(
        nodes,
        "uint8",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        [numpy_helper.from_array(v, k) for k, v in constants.items()],
    )
    model = helper.make_model(body, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10  # onnxruntime 1.31 reads <= 10
    return model


def quantized_uint8(model: onnx.ModelProto, seed: int = 0) -> onnx.ModelProto:
    """`model` quantized by onnxruntime's quantize_static with its older
    defaults: QUInt8 activations and QUInt8 weights, per tensor."""
    return zoo.quantize_qdq(model, seed, activations="uint8")


def uint8_ports(model: onnx.ModelProto) -> onnx.ModelProto:
    """The QDQ model without its input quantize and output dequantize: it
    takes and gives the uint8 tensors themselves."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    body = model.graph
    entry = next(
        n for n in body.node if n.op_type == "QuantizeLinear" and n.input[0] == "x"
    )
    exit_ = next(
        n for n in body.node if n.op_type == "DequantizeLinear" and n.output[0] == "y"
    )
    for node in body.node:
        for i, name in enumerate(node.input):
            if name == entry.output[0]:
                node.input[i] = "x"
    exit_input = exit_.input[0]
    for node in body.node:
        for i, name in enumerate(node.output):
            if name == exit_input:
                node.output[i] = "y"
    body.node.remove(entry)
    body.node.remove(exit_)
    for port in (*body.input, *body.output):
        port.type.tensor_type.elem_type = TensorProto.UINT8
    return model


MODEL = quantized_uint8(network())


def _module(model: onnx.ModelProto, pipeline: str):
    module = import_onnx(model).module
    apply_pipeline(module, pipeline)
    module.verify()
    return module


def _storage_types(module) -> set[str]:
    return {
        graph.tensor_type(value).element_type.storage_name
        for op in module.walk()
        for value in op.results
        if op.name.startswith("graph.") and graph.is_quantized(value)
    }


def test_quantizer_writes_uint8() -> None:
    """The model really is uint8, weights included, whose zero points are
    not 128 (asymmetric)."""
    module = _module(MODEL, DEFAULT_PIPELINE)
    assert _storage_types(module) == {"u8"}
    weight_zero_points = [
        int(numpy_helper.to_array(i))
        for i in MODEL.graph.initializer
        if i.name.startswith("w") and i.name.endswith("_zero_point")
    ]
    assert len(weight_zero_points) == 4
    assert all(z != 128 for z in weight_zero_points)


def test_float_ports_need_no_conversion() -> None:
    """Every uint8 type becomes int8, and with float ports the quantize and
    dequantize at the edges take the new types: no op is added."""
    before = _module(MODEL, DEFAULT_PIPELINE)
    after = _module(MODEL, f"{DEFAULT_PIPELINE},{PASS}")
    assert _storage_types(after) == {"i8"}
    assert [op.name for op in after.walk()] == [op.name for op in before.walk()]


@pytest.mark.parametrize("rounding", [None, *ROUNDINGS])
@pytest.mark.parametrize("ports", ["float", "uint8"])
def test_meaning_is_unchanged(rounding: str | None, ports: str) -> None:
    """The same outputs, bit for bit, before and after the pass: at the
    graph level (no rounding) and under each integer semantics."""
    model, feeds = MODEL, zoo.random_input(MODEL, 3)
    if ports == "uint8":
        model = uint8_ports(MODEL)
        stored = np.random.default_rng(3).integers(0, 256, feeds["x"].shape)
        feeds = {"x": stored.astype(np.uint8)}
    semantics = "" if rounding is None else f",graph-int8-rounding{{mode={rounding}}}"
    before = run_module(_module(model, DEFAULT_PIPELINE + semantics), feeds)
    after = run_module(_module(model, f"{DEFAULT_PIPELINE},{PASS}{semantics}"), feeds)
    assert before["y"].dtype == after["y"].dtype
    np.testing.assert_array_equal(after["y"], before["y"])


def _pipeline(rounding: str) -> str:
    """`tinycc compile`'s pipeline with the pass before graph-int8-rounding."""
    return ",".join(
        [
            DEFAULT_PIPELINE,
            PASS,
            f"graph-int8-rounding{{mode={rounding}}}",
            "lower-graph-to-tile",
            "bufferize{model=model io_in_arena=true}",
        ]
    )


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_uint8_model_in_c(rounding: str, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(MODEL, path)
    _, compiled = compile_model(str(path), pipeline=_pipeline(rounding))
    assert compiled is not None
    write_outputs(compiled, tmp_path / "c")
    program = host.build(tmp_path / "c", compiled.name, compiled.module, sanitize=True)
    inputs, outputs = host.ports(compiled.module)
    feeds = zoo.random_input(MODEL, 4)
    results = host.run(
        program, [port.to_ir(feeds[port.name]) for port in inputs], outputs
    )
    ours = {
        port.name: port.to_onnx(r) for port, r in zip(outputs, results, strict=True)
    }
    module = _module(
        MODEL, f"{DEFAULT_PIPELINE},{PASS},graph-int8-rounding{{mode={rounding}}}"
    )
    reference = run_module(module, feeds)
    np.testing.assert_array_equal(ours["y"], reference["y"])
    if rounding == "onnx":
        oracle = run_onnxruntime(MODEL, feeds)["y"]
        lsb = output_lsb(MODEL, "y")
        assert np.abs(ours["y"] - oracle).max() <= lsb * 1.0001
