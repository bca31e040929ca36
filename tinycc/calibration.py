"""Calibration: the real ranges a float graph's tensors take on sample inputs.

Post-training static quantization (`graph-quantize`) needs, for every
activation, the interval its values fall in. `calibrate` runs the graph-level
`@main` op by op with the reference interpreter on each sample and records,
per tensor (graph inputs and every non-constant op result):

- `minmax` (the default): the smallest and largest value seen, what
  onnxruntime's MinMax calibrator and the TFLite converter record;
- `percentile`: the same interval clipped to `[-t, t]`, `t` the given
  percentile (e.g. 99.99) of `|x|` over all samples, which ignores rare
  outliers. It keeps every `|x|` of every tensor until the end: 4 bytes per
  activation element per sample (some 0.3 MB per sample for the DS-CNN
  keyword spotter), fine for the few samples calibration needs.

Samples come from a `.npy` file whose first axis enumerates them, each in the
model's ONNX input shape (or stacked along the batch axis when that is 1),
or from a `.npz` holding one such array per input name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue

from tinycc import signature
from tinycc.errors import TinyccError
from tinycc.interpreter import trace_function

__all__ = ["METHODS", "Range", "calibrate", "load_samples"]

METHODS = ("minmax", "percentile")

Sample = dict[str, np.ndarray]


@dataclass(frozen=True)
class Range:
    """The real interval `[low, high]` a tensor's values were seen in."""

    low: float
    high: float


@dataclass
class _Statistics:
    """What calibration remembers about one tensor across samples."""

    keep_magnitudes: bool
    low: float = np.inf
    high: float = -np.inf
    magnitudes: list[np.ndarray] = field(default_factory=list[np.ndarray])

    def update(self, array: np.ndarray) -> None:
        if array.size == 0:
            return
        self.low = min(self.low, float(array.min()))
        self.high = max(self.high, float(array.max()))
        if self.keep_magnitudes:
            self.magnitudes.append(np.abs(array, dtype=np.float32).ravel())

    def range(self, percentile: float) -> Range:
        if not self.keep_magnitudes or not self.magnitudes:
            return Range(self.low, self.high)
        bound = float(np.percentile(np.concatenate(self.magnitudes), percentile))
        return Range(max(self.low, -bound), min(self.high, bound))


def calibrate(
    module: ModuleOp,
    samples: Iterable[Mapping[str, np.ndarray]],
    method: str = "minmax",
    percentile: float = 99.99,
) -> dict[SSAValue, Range]:
    """The range of every float tensor of `@main` over `samples` (ONNX-named
    inputs in ONNX layout, as `load_samples` gives them)."""
    if method not in METHODS:
        raise TinyccError(
            f"calibration method must be one of {', '.join(METHODS)}, not '{method}'"
        )
    if method == "percentile" and not 0 < percentile <= 100:
        raise TinyccError(f"percentile must be in (0, 100], not {percentile}")
    function = signature.main_function(module)
    ports = signature.inputs(module)
    statistics: dict[SSAValue, _Statistics] = {}
    for sample in samples:
        arrays = [
            port.to_ir(np.asarray(sample[port.name], np.float32)) for port in ports
        ]
        for value, array in _tensors(function, arrays):
            if array.dtype == np.float32:
                statistics.setdefault(
                    value, _Statistics(method == "percentile")
                ).update(array)
    if not statistics:
        raise TinyccError("calibration needs at least one sample")
    return {value: stats.range(percentile) for value, stats in statistics.items()}


def _tensors(
    function: func.FuncOp, arguments: Sequence[np.ndarray]
) -> Iterable[tuple[SSAValue, np.ndarray]]:
    """Every argument and non-constant op result of the flat graph-level body
    with its value, computed op by op."""
    yield from zip(function.args, arguments, strict=True)
    for op, results in trace_function(function, arguments):
        yield from zip(op.results, results, strict=True)


def load_samples(path: str | Path, ports: Sequence[signature.Port]) -> list[Sample]:
    """The calibration samples in `path`, one dict of ONNX-layout float32
    arrays per sample."""
    try:
        data = np.load(path, allow_pickle=False)
    except OSError as error:
        raise TinyccError(f"{path}: {error.strerror or error}") from error
    except ValueError as error:
        raise TinyccError(f"{path}: not a .npy or .npz file of arrays") from error
    names = [port.name for port in ports]
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            arrays = {name: data[name] for name in data.files}
    elif len(ports) == 1:
        arrays = {ports[0].name: data}
    else:
        raise TinyccError(
            f"{path}: the model has inputs {', '.join(names)}: give a .npz with "
            "one array of samples per input"
        )
    if missing := [name for name in names if name not in arrays]:
        raise TinyccError(f"{path}: no samples for input '{missing[0]}'")
    if unknown := [name for name in arrays if name not in names]:
        raise TinyccError(
            f"{path}: '{unknown[0]}' is not an input of the model "
            f"(it has {', '.join(names)})"
        )
    stacks = {port.name: _stacked(path, port, arrays[port.name]) for port in ports}
    counts = {len(stack) for stack in stacks.values()}
    if len(counts) != 1:
        raise TinyccError(f"{path}: the inputs have different numbers of samples")
    (count,) = counts
    if count == 0:
        raise TinyccError(f"{path}: no calibration samples")
    return [{name: stack[i] for name, stack in stacks.items()} for i in range(count)]


def _stacked(path: str | Path, port: signature.Port, array: np.ndarray) -> np.ndarray:
    """`array` as `[samples, *onnx_shape]` float32, or a one-line error."""
    shape = port.onnx_shape
    expected = f"float samples of shape [N, {', '.join(map(str, shape))}]"
    if not np.issubdtype(array.dtype, np.floating):
        raise TinyccError(
            f"{path}: input '{port.name}': expected {expected}, got {array.dtype}"
        )
    if shape[:1] == (1,) and array.ndim == len(shape) and array.shape[1:] == shape[1:]:
        array = array[:, np.newaxis]  # samples stacked along the batch axis
    if array.shape[1:] != shape:
        raise TinyccError(
            f"{path}: input '{port.name}': expected {expected}, got shape "
            f"{list(array.shape)}"
        )
    return array.astype(np.float32)
