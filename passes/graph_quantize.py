"""graph-quantize: post-training static int8 quantization of a float graph.

The result is the IR a QDQ import of the same model quantized by
onnxruntime's `quantize_static` (per-channel, symmetric weights, asymmetric
activations: TFLite's int8 scheme) gives after `graph-fold-qdq`: ops on
`!quant.uniform` tensors, `graph.quantize` after the float graph inputs,
`graph.dequantize` before the float outputs. The rules:

- activations: int8, asymmetric, from the calibrated range widened to hold
  0: `scale = (max - min) / 255`, `zero_point = round(-128 - min / scale)`
  (onnxruntime's `compute_scale_zp`; an empty range gets scale 1, zp 0);
- conv2d / fully_connected weights: int8 per output channel (axis 0 of OHWI
  and of `[N, K]`), symmetric, `scale = max|w_c| / 127` (1 for an all-zero
  channel, as onnxruntime: a tiny scale would overflow the channel's int32
  bias);
- their biases: int32, `scale = s_in * s_w[c]` (float32 product), zero point 0;
- other constant operands (an `add`'s constant, a `prelu` slope...): per
  tensor, asymmetric, from their own min and max;
- ops that only move, select or clamp values keep their input's type
  (`KEEPS_INPUT_TYPE`; TFLite requires it of its pooling kernels, and it is
  exact): reshape, transpose, pad, slice, resize, max/average/global pools,
  reduce_max and a relu/clamp that canonicalization could not fuse. `concat`
  is not one of them: its inputs keep their own types and its result gets
  its calibrated range (onnxruntime's choice; the kernel requantizes);
- softmax, log_softmax, sigmoid and tanh have TFLite's fixed result types
  (`FIXED_TYPES`), whatever their range.

Only ops with an integer kernel in the C back end (`tinycc.kernels.
INTEGER_KERNELS`, read when the pass runs; conv2d and fully_connected also
need constant weights) are quantized; the others stay float, a dequantize
before and a quantize after them (a float island). The quantize after an
island has the type the op would have had quantized.

`quantize_module(module, ranges)` does the rewrite from given ranges; the
pass calibrates first (`tinycc.calibration`), or takes the ranges inline:

    graph-quantize{calibration="samples.npy" method=minmax|percentile percentile=99.99}
    graph-quantize{ranges="x=-1:1","c=0:6"}    by SSA name, for tests

Run it where the graph-level pipeline of an imported QDQ model ends, on the
canonicalized graph (batch norms folded, activations fused), before the
rounding mode is chosen:

    graph-canonicalize,graph-fold-qdq,graph-canonicalize,graph-quantize{...},
    graph-int8-rounding{mode=tflite}

Its output is already folded. A later `graph-fold-qdq` would fold a one-op
float island (dequantize, op, quantize) back into a quantized op, which then
has the QDQ meaning but no integer kernel.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import Float32Type, ModuleOp, TensorType
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from tinycc import signature
from tinycc.calibration import METHODS, Range, calibrate, load_samples
from tinycc.dialects import graph
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.errors import TinyccError
from tinycc.interpreter import quantize
from tinycc.passes.graph_rewriting import ConstantNames, constant_of, node_name, rebuild

__all__ = [
    "FIXED_TYPES",
    "KEEPS_INPUT_TYPE",
    "GraphQuantizePass",
    "activation_type",
    "quantize_module",
    "weight_type",
]

INT8 = (-128, 127)

KEEPS_INPUT_TYPE: tuple[type[Operation], ...] = (
    graph.ReshapeOp,
    graph.TransposeOp,
    graph.PadOp,
    graph.SliceOp,
    graph.ResizeOp,
    graph.MaxPool2DOp,
    graph.AvgPool2DOp,
    graph.GlobalAvgPoolOp,
    graph.GlobalMaxPoolOp,
    graph.ReduceMaxOp,
    graph.ReluOp,
    graph.ClampOp,
)

# TFLite's int8 output (scale, zero point) of ops with a known output range.
FIXED_TYPES: dict[type[Operation], tuple[float, int]] = {
    graph.SoftmaxOp: (1 / 256, -128),
    graph.LogSoftmaxOp: (16 / 256, 127),
    graph.SigmoidOp: (1 / 256, -128),
    graph.TanhOp: (1 / 128, 0),
}


# Quantization parameters ----------------------------------------------------------


def activation_type(real: Range) -> UniformQuantizedType:
    """int8 asymmetric over `real` widened to hold 0, as onnxruntime's
    `compute_scale_zp` (scale computed in double, stored as float32)."""
    low, high = min(real.low, 0.0), max(real.high, 0.0)
    qmin, qmax = INT8
    scale = (high - low) / (qmax - qmin)
    if scale < np.finfo(np.float32).tiny:
        return UniformQuantizedType("i8", [1.0], [0])
    zero_point = int(np.clip(np.round(qmin - low / scale), qmin, qmax))
    return UniformQuantizedType("i8", [float(np.float32(scale))], [zero_point])


def weight_type(weights: np.ndarray) -> UniformQuantizedType:
    """int8 symmetric per output channel (axis 0): `max|w_c| / 127`."""
    magnitudes = np.abs(weights.reshape(len(weights), -1)).max(axis=1, initial=0)
    scales = np.where(magnitudes > 0, magnitudes.astype(np.float64) / 127, 1.0)
    scales = scales.astype(np.float32)
    return UniformQuantizedType("i8", [float(s) for s in scales], [0] * len(scales), 0)


def bias_type(input_: UniformQuantizedType, weight: UniformQuantizedType):
    """int32, zero point 0, scale `s_in * s_w[c]` in float32 (onnxruntime)."""
    scales = np.float32(input_.scale_values[0]) * np.asarray(
        weight.scale_values, np.float32
    )
    return UniformQuantizedType(
        "i32", [float(s) for s in scales], [0] * len(scales), weight.axis.data
    )


def quantized_bias(bias: np.ndarray, qtype: UniformQuantizedType) -> np.ndarray:
    """`round(b / scale)` in double, half to even, saturated to int32."""
    scales = np.asarray(qtype.scale_values, np.float64)
    low, high = qtype.storage_range
    rounded = np.round(np.asarray(bias, np.float64) / scales)
    return np.clip(rounded, low, high).astype(np.int32)


# The rewrite ------------------------------------------------------------------------


def _default_integer_ops() -> Collection[type[Operation]]:
    from tinycc.kernels import INTEGER_KERNELS

    return INTEGER_KERNELS.keys()


def _is_float(value: SSAValue) -> bool:
    return isinstance(graph.tensor_type(value).element_type, Float32Type)


def _describe(value: SSAValue) -> str:
    if value.name_hint:
        return f"'%{value.name_hint}'"
    owner = value.owner
    if isinstance(owner, Block):
        return f"argument {value.index} of @main"
    return f"the result of {owner.name} '{node_name(owner)}'"


@dataclass
class _Quantizer:
    """Rewrites the flat body of `@main`, op by op, in order.

    `twins` maps each float value whose op became quantized to the quantized
    result; float users read it through one dequantize. Float values read by
    quantized ops (graph inputs, float islands) get one quantize each.
    """

    ranges: Mapping[SSAValue, Range]
    integer_ops: Collection[type[Operation]]
    names: ConstantNames
    twins: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])
    edges: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])
    constants: dict[tuple[SSAValue, UniformQuantizedType], SSAValue] = field(
        default_factory=dict[tuple[SSAValue, UniformQuantizedType], SSAValue]
    )

    def run(self, block: Block) -> None:
        replaced: list[Operation] = []
        for op in list(block.ops):
            if isinstance(op, graph.ConstantOp):
                continue
            if self.quantizable(op):
                self.quantize_op(op)
                replaced.append(op)
            else:
                for index, operand in enumerate(op.operands):
                    op.operands[index] = self.real(operand, op)
        for op in reversed(replaced):
            block.erase_op(op)
        for op in reversed(list(block.ops)):
            if isinstance(op, graph.ConstantOp) and not op.result.uses:
                block.erase_op(op)

    def quantizable(self, op: Operation) -> bool:
        if type(op) not in self.integer_ops:
            return False
        values = (*op.operands, *op.results)
        if not all(isinstance(v.type, TensorType) and _is_float(v) for v in values):
            return False
        if isinstance(op, graph.Conv2DOp | graph.FullyConnectedOp):
            constants = [op.weight] + ([op.bias] if op.bias is not None else [])
            return all(constant_of(value) is not None for value in constants)
        return True

    def quantize_op(self, op: Operation) -> None:
        if isinstance(op, graph.Conv2DOp | graph.FullyConnectedOp):
            operands = self.product_operands(op)
        else:
            operands = [self.operand(value, op) for value in op.operands]
        result = op.results[0]
        result_type = TensorType(self.planned(result), graph.shape_of(result))
        new = rebuild(op, operands, result_type)
        op.parent_block().insert_op_before(new, op)
        self.twins[result] = new.results[0]

    def product_operands(
        self, op: graph.Conv2DOp | graph.FullyConnectedOp
    ) -> list[SSAValue]:
        """Activation input, per-channel weight, int32 bias."""
        x = self.operand(op.input, op)
        weight = constant_of(op.weight)
        w = self.constant(op.weight, weight_type(weight.array), op)
        if op.bias is None:
            return [x, w]
        qtype = bias_type(_element(x), _element(w))
        return [x, w, self.constant(op.bias, qtype, op)]

    def planned(self, value: SSAValue) -> UniformQuantizedType:
        """The type of `value` quantized, by the rules of the module docstring,
        whether its op becomes quantized or stays a float island (which
        `graph-fold-qdq` would turn into that quantized op)."""
        if value in self.twins:
            return _element(self.twins[value])
        if isinstance(value.owner, graph.DequantizeOp):  # a twin read in float
            return _element(value.owner.input)
        if (source := constant_of(value)) is not None:
            return activation_type(_extent(source.array))
        owner = value.owner
        if (fixed := FIXED_TYPES.get(type(owner))) is not None:
            scale, zero_point = fixed
            return UniformQuantizedType("i8", [scale], [zero_point])
        if isinstance(owner, KEEPS_INPUT_TYPE):
            return self.planned(owner.operands[0])
        found = self.ranges.get(value)
        if found is None:
            raise TinyccError(
                f"graph-quantize: no calibrated range for {_describe(value)}"
            )
        return activation_type(found)

    # Values on either side ----------------------------------------------------------

    def operand(self, value: SSAValue, user: Operation) -> SSAValue:
        """`value` quantized for `user`: its twin, a quantized copy of a
        constant, or a quantize of a float value inserted before `user`."""
        if value in self.twins:
            return self.twins[value]
        if constant_of(value) is not None:
            return self.constant(value, self.planned(value), user)
        if value not in self.edges:
            result_type = TensorType(self.planned(value), graph.shape_of(value))
            edge = graph.QuantizeOp.create(operands=[value], result_types=[result_type])
            user.parent_block().insert_op_before(edge, user)
            self.edges[value] = edge.results[0]
        return self.edges[value]

    def real(self, value: SSAValue, user: Operation) -> SSAValue:
        """`value` in float: itself, or its twin dequantized before `user`."""
        if value not in self.twins:
            return value
        twin = self.twins[value]
        if twin not in self.edges:
            edge = graph.DequantizeOp.create(operands=[twin], result_types=[value.type])
            user.parent_block().insert_op_before(edge, user)
            self.edges[twin] = edge.results[0]
        return self.edges[twin]

    def constant(
        self, value: SSAValue, qtype: UniformQuantizedType, user: Operation
    ) -> SSAValue:
        """The float constant `value` stored as `qtype`, inserted before `user`."""
        key = (value, qtype)
        if key not in self.constants:
            source = constant_of(value)
            array = source.array
            stored = (
                quantized_bias(array, qtype)
                if qtype.storage_name == "i32"
                else quantize(array, qtype)
            )
            result_type = TensorType(qtype, array.shape)
            new = self.names.constant(f"{source.sym_name.data}.q", stored, result_type)
            user.parent_block().insert_op_before(new, user)
            self.constants[key] = new.result
        return self.constants[key]


def _element(value: SSAValue) -> UniformQuantizedType:
    element = graph.tensor_type(value).element_type
    assert isinstance(element, UniformQuantizedType)
    return element


def _float_main(module: ModuleOp) -> func.FuncOp:
    """`@main`, after checking that nothing in it is quantized yet."""
    function = signature.main_function(module)
    if any(
        isinstance(v.type, TensorType) and graph.is_quantized(v)
        for v in _values(function)
    ):
        raise TinyccError("graph-quantize: the model is already quantized")
    return function


def _values(function: func.FuncOp) -> list[SSAValue]:
    """The arguments and op results of a graph-level function."""
    return [*function.args, *(r for op in function.body.ops for r in op.results)]


def _extent(array: np.ndarray) -> Range:
    return Range(float(array.min(initial=0)), float(array.max(initial=0)))


def quantize_module(
    module: ModuleOp,
    ranges: Mapping[SSAValue, Range],
    integer_ops: Collection[type[Operation]] | None = None,
) -> None:
    """Quantize the float `@main` of `module` in place, given the real range
    of every activation it needs (graph inputs, results of quantized ops that
    take their range, inputs of quantized ops computed in float).

    `integer_ops`: the op types to quantize; by default those with an integer
    kernel in the C back end.
    """
    function = _float_main(module)
    if integer_ops is None:
        integer_ops = _default_integer_ops()
    _Quantizer(ranges, integer_ops, ConstantNames.of(module)).run(function.body.block)


# The pass -----------------------------------------------------------------------------


def named_ranges(module: ModuleOp, specs: Sequence[str]) -> dict[SSAValue, Range]:
    """`("x=-1:1", "c=0:6")`: ranges of the values named `%x` and `%c`."""
    values = _values(signature.main_function(module))
    by_name = {v.name_hint: v for v in values if v.name_hint}
    ranges: dict[SSAValue, Range] = {}
    for spec in specs:
        name, _, bounds = spec.partition("=")
        low, _, high = bounds.partition(":")
        try:
            real = Range(float(low), float(high))
        except ValueError:
            raise PassFailedException(
                f"graph-quantize: range '{spec}' is not NAME=LOW:HIGH"
            ) from None
        if real.low > real.high:
            raise PassFailedException(f"graph-quantize: empty range '{spec}'")
        if name not in by_name:
            raise PassFailedException(f"graph-quantize: no value named '%{name}'")
        ranges[by_name[name]] = real
    return ranges


@dataclass(frozen=True)
class GraphQuantizePass(ModulePass):
    """Quantize a float graph to int8 (TFLite's scheme), calibrated on the
    samples in `calibration` (.npy or .npz, see `tinycc.calibration`) or
    given the ranges of its values by name (`ranges`)."""

    name = "graph-quantize"

    calibration: str | None = None
    method: str = "minmax"
    percentile: float | int = 99.99
    ranges: tuple[str, ...] = ()

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        quantize_module(op, self.value_ranges(op))

    def value_ranges(self, module: ModuleOp) -> dict[SSAValue, Range]:
        _float_main(module)
        if (self.calibration is None) == (not self.ranges):
            raise PassFailedException(
                "graph-quantize: give either calibration=FILE or ranges=NAME=LOW:HIGH"
            )
        if self.method not in METHODS:
            raise PassFailedException(
                f"graph-quantize: method must be one of {', '.join(METHODS)}, "
                f"not '{self.method}'"
            )
        if self.calibration is None:
            return named_ranges(module, self.ranges)
        samples = load_samples(self.calibration, signature.inputs(module))
        return calibrate(module, samples, self.method, self.percentile)
