"""int8 models compile to integer-only code: no float instruction, no libm.

The generated `model.c` and `model_weights.c` are compiled for a Cortex-M0+
without FPU (`arm-none-eabi-gcc -mfloat-abi=soft`), where every float
operation becomes a call to a soft-float helper of the ARM run-time ABI
(`__aeabi_fmul`, `__aeabi_i2f`, ...) or of libgcc (`__addsf3`, ...). So
`arm-none-eabi-nm -u` of the objects lists every float operation the code
performs, and every libm function it calls (any global symbol newlib's
`libm.a` for that CPU defines). A float model is the positive
control: the same check finds its helpers.

Models with int8 inputs and outputs only: a float graph edge (quantize,
dequantize) legitimately computes in float.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import onnx
import pytest
from int8_testlib import quantized
from onnx import helper
from tools_testlib import missing_tool

from tinycc import host, zoo
from tinycc.compile import compile_model, write_outputs

ARM_FLAGS = ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft", "-O2")

# Soft-float helpers: the ARM run-time ABI's single/double arithmetic,
# comparisons and conversions, and libgcc's generic names (__addsf3,
# __floatsisf, __fixdfsi, __extendsfdf2, __powisf2, ...).
FLOAT_HELPER = re.compile(
    r"^__aeabi_(f|d|u?[il]2[fd]|h2f|f2h)|^__\w*[sdtx]f\d?$|^__(float|fix)\w+$"
)

INT8_SHARED = [
    "ad/ad01_int8.onnx",
    "ic/pretrainedResnet_quant.onnx",
    "kws/kws_ref_model.onnx",
    "sww/str_ww_ref_model.onnx",
    "vww/vww_96_int8.onnx",
]


@dataclass(frozen=True)
class Toolchain:
    gcc: str
    nm: str
    libm: frozenset[str]  # every global symbol the toolchain's libm.a defines


def symbol_names(nm: str, *arguments: str) -> list[str]:
    """The symbol names `nm` lists (the last word of each symbol line)."""
    done = subprocess.run([nm, *arguments], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [line.split()[-1] for line in done.stdout.splitlines() if " " in line]


@pytest.fixture(scope="session")
def arm() -> Toolchain:
    """arm-none-eabi-gcc, -nm and newlib's libm; missing is a visible skip,
    but a failure under CI."""
    gcc, nm = shutil.which("arm-none-eabi-gcc"), shutil.which("arm-none-eabi-nm")
    if gcc and nm:
        asked = [gcc, *ARM_FLAGS, "-print-file-name=libm.a"]
        found = subprocess.run(asked, capture_output=True, text=True).stdout.strip()
        if Path(found).is_absolute():
            libm = symbol_names(nm, "--defined-only", "--extern-only", found)
            return Toolchain(gcc, nm, frozenset(libm))
    reason = (
        "arm-none-eabi-gcc, -nm or newlib's libm.a not found "
        "(scripts/setup.sh installs gcc-arm-none-eabi, libnewlib-arm-none-eabi)"
    )
    missing_tool(reason)


def undefined_symbols(model: Path, directory: Path, arm: Toolchain) -> set[str]:
    """`tinycc compile` the model, cross-compile its C, `nm -u` the objects."""
    _, compiled = compile_model(str(model))
    write_outputs(compiled, directory)
    objects = []
    for source in ("model.c", "model_weights.c"):
        target = directory / source.replace(".c", ".o")
        command = [arm.gcc, *ARM_FLAGS, *host.WARNINGS, "-c", str(directory / source)]
        done = subprocess.run(
            [*command, "-o", str(target)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        objects.append(str(target))
    return set(symbol_names(arm.nm, "--undefined-only", *objects))


def float_symbols(symbols: set[str], arm: Toolchain) -> list[str]:
    """The soft-float helpers and libm functions among `symbols`."""
    return sorted(s for s in symbols if FLOAT_HELPER.match(s) or s in arm.libm)


def integer_edges(model: onnx.ModelProto) -> onnx.ModelProto:
    """A QDQ model whose graph input feeds one QuantizeLinear and whose output
    comes from one DequantizeLinear, with those two nodes cut: the graph then
    takes and returns the quantized tensors, as a TFLite-converted model."""
    graph = model.graph
    (source,), (sink,) = graph.input, graph.output
    (quantize,) = [n for n in graph.node if source.name in n.input]
    (dequantize,) = [n for n in graph.node if sink.name in n.output]
    assert quantize.op_type == "QuantizeLinear"
    assert dequantize.op_type == "DequantizeLinear"
    storage = {i.name: i.data_type for i in graph.initializer}
    nodes = [n for n in graph.node if n not in (quantize, dequantize)]
    inputs = [
        helper.make_tensor_value_info(
            quantize.output[0], storage[quantize.input[2]], dims(source)
        )
    ]
    outputs = [
        helper.make_tensor_value_info(
            dequantize.input[0], storage[dequantize.input[2]], dims(sink)
        )
    ]
    initializers = list(graph.initializer)
    cut = helper.make_graph(nodes, graph.name, inputs, outputs, initializers)
    return helper.make_model(cut, opset_imports=model.opset_import)


def dims(value: onnx.ValueInfoProto) -> list[int]:
    return [d.dim_value for d in value.type.tensor_type.shape.dim]


def test_generated_int8_model_is_float_free(tmp_path: Path, arm) -> None:
    model = integer_edges(quantized(zoo.fc_autoencoder()))
    assert model.graph.input[0].type.tensor_type.elem_type != onnx.TensorProto.FLOAT
    path = tmp_path / "ad_int8.onnx"
    onnx.save(model, path)
    found = float_symbols(undefined_symbols(path, tmp_path / "c", arm), arm)
    assert not found, f"float code in an int8 model: {found}"


@pytest.mark.parametrize("model", INT8_SHARED)
def test_shared_int8_model_is_float_free(
    model: str, shared_models: Path, tmp_path: Path, arm
) -> None:
    found = float_symbols(undefined_symbols(shared_models / model, tmp_path, arm), arm)
    assert not found, f"float code in {model}: {found}"


def test_float_model_calls_float_helpers_and_libm(tmp_path: Path, arm) -> None:
    """The positive control: the check sees float code where there is some."""
    path = tmp_path / "kws_float.onnx"
    onnx.save(zoo.kws_dscnn(), path)
    found = float_symbols(undefined_symbols(path, tmp_path / "c", arm), arm)
    assert any(s.startswith("__aeabi_f") for s in found), found
    assert any(s in arm.libm for s in found), found
