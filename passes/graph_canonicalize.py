"""graph-canonicalize: simplify a graph-level model before lowering.

Constant folding, BatchNorm folding, activation fusion and no-op removal,
as small patterns applied greedily until nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import (
    Float32Type,
    ModuleOp,
    TensorType,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from tinycc.dialects.graph import (
    AddOp,
    BatchNormOp,
    ClampOp,
    Conv2DOp,
    DequantizeOp,
    FullyConnectedOp,
    FusedClampMixin,
    GraphOp,
    MulOp,
    PadOp,
    ReluOp,
    ReshapeOp,
    SliceOp,
    SubOp,
    TransposeOp,
    f32_attr,
    i64_array,
    shape_of,
    storage_dtype,
    tensor_type,
)
from tinycc.dialects.quant import UniformQuantizedType
from tinycc.passes.graph_rewriting import (
    ConstantNames,
    constant_of,
    node_name,
    rebuild,
)

# Folding may grow a constant to twice its inputs' size, or to this many bytes.
FOLD_GROWTH_LIMIT = 2
FOLD_BYTES_LIMIT = 64 * 1024

LinearOp = Conv2DOp | FullyConnectedOp


def nbytes(value_type: Attribute) -> int:
    return int(np.prod(shape_of(value_type))) * storage_dtype(value_type).itemsize


def element_type(value: SSAValue) -> Attribute:
    return tensor_type(value).element_type


def is_f32(value: SSAValue) -> bool:
    return isinstance(element_type(value), Float32Type)


def clamp_of(op: Operation) -> dict[str, Attribute]:
    """The fused-activation properties of `op` (empty if it has none)."""
    return {
        key: op.properties[key]
        for key in ("clamp_min", "clamp_max")
        if key in op.properties
    }


# Constant folding -------------------------------------------------------------


@dataclass
class FoldConstantOp(RewritePattern):
    """Evaluate an op whose operands are all constants at compile time.

    `graph.dequantize` stays: it keeps weights in their compact storage type
    and is what `graph-fold-qdq` matches. A result much larger than its
    inputs (a broadcast of a scalar, say) stays an op too.
    """

    names: ConstantNames

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: GraphOp, rewriter: PatternRewriter, /):
        if isinstance(op, DequantizeOp) or not op.operands:
            return
        constants = [constant_of(v) for v in op.operands]
        if any(c is None for c in constants):
            return
        in_bytes = sum(nbytes(v.type) for v in op.operands)
        out_bytes = sum(nbytes(r.type) for r in op.results)
        if out_bytes > FOLD_GROWTH_LIMIT * in_bytes and out_bytes > FOLD_BYTES_LIMIT:
            return
        from tinycc.interpreter import evaluate_op

        arrays = evaluate_op(op, [c.array for c in constants])
        base = node_name(op)
        folded = [
            self.names.constant(base, array, tensor_type(result))
            for array, result in zip(arrays, op.results, strict=True)
        ]
        rewriter.replace(op, folded)


# BatchNorm folding --------------------------------------------------------------


@dataclass
class DecomposeBatchNorm(RewritePattern):
    """Float BatchNorm with constant parameters -> `mul` then `add`.

    `x * f + (bias - mean * f)` with `f = scale / sqrt(variance + eps)`; the
    two patterns below then fold these into a preceding conv2d or
    fully_connected. A BatchNorm with no such producer stays as mul + add,
    which every later stage handles and which can take a fused activation.
    """

    names: ConstantNames

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: BatchNormOp, rewriter: PatternRewriter, /):
        if not is_f32(op.input):
            return
        params = [constant_of(v) for v in (op.scale, op.bias, op.mean, op.variance)]
        if any(p is None for p in params):
            return
        scale, bias, mean, variance = (p.array.astype(np.float64) for p in params)
        factor = scale / np.sqrt(variance + op.epsilon.value.data)
        shift = bias - mean * factor
        base = node_name(op)
        factor_op = self.names.constant(f"{base}.scale", factor.astype(np.float32))
        shift_op = self.names.constant(f"{base}.shift", shift.astype(np.float32))
        mul = MulOp.create(
            operands=[op.input, factor_op.result], result_types=[op.input.type]
        )
        add = AddOp.create(
            operands=[mul.results[0], shift_op.result],
            result_types=[op.result.type],
            attributes=dict(op.attributes),
        )
        rewriter.replace(op, [factor_op, shift_op, mul, add])


def along_channels(value: SSAValue, result: SSAValue) -> bool:
    """Whether `value` broadcasts onto `result` along its last (channel) axis
    only: shape `[1, ..., 1, C or 1]`, no higher rank."""
    shape, result_shape = shape_of(value), shape_of(result)
    if len(shape) > len(result_shape) or any(d != 1 for d in shape[:-1]):
        return False
    return not shape or shape[-1] in (1, result_shape[-1])


def channel_vector(value: SSAValue, result: SSAValue) -> np.ndarray | None:
    """A float constant along `result`'s channels, as a vector over them."""
    constant = constant_of(value)
    if constant is None or not is_f32(value) or not along_channels(value, result):
        return None
    return np.broadcast_to(constant.array.reshape(-1), (shape_of(result)[-1],))


def linear_operands(
    op: AddOp | SubOp | MulOp,
) -> Iterator[tuple[LinearOp, SSAValue]]:
    """(producer, other operand) where `op` combines a float conv2d or
    fully_connected that only it reads and that has no fused activation, and
    does not broadcast its result. `sub` only with the producer on the left.
    """
    pairs = [(op.lhs, op.rhs)]
    if not isinstance(op, SubOp):
        pairs.append((op.rhs, op.lhs))
    for produced, other in pairs:
        producer = produced.owner
        if not isinstance(producer, LinearOp) or not produced.has_one_use():
            continue
        if clamp_of(producer) or not is_f32(produced):
            continue
        if op.result.type == produced.type:
            yield producer, other


def constant_parameters(op: LinearOp) -> bool:
    """Whether the weight and the bias (if any) are float constants."""
    parameters = [op.weight] if op.bias is None else [op.weight, op.bias]
    return all(constant_of(v) is not None and is_f32(v) for v in parameters)


@dataclass
class FoldScaleIntoLinear(RewritePattern):
    """`conv(x, w, b) * f` -> `conv(x, w * f, b * f)`: constant w, b and f,
    f per output channel."""

    names: ConstantNames

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: MulOp, rewriter: PatternRewriter, /):
        for producer, other in linear_operands(op):
            factor = channel_vector(other, op.result)
            if factor is None or not constant_parameters(producer):
                continue
            weight = constant_of(producer.weight)
            # The output channel is the weight's first axis (OHWI and [N, K]).
            per_row = factor.reshape(-1, *[1] * (weight.array.ndim - 1))
            new_ops: list[Operation] = [
                self.names.constant(
                    f"{weight.sym_name.data}.scaled",
                    (weight.array * per_row).astype(np.float32),
                )
            ]
            if producer.bias is not None:
                bias = constant_of(producer.bias)
                new_ops.append(
                    self.names.constant(
                        f"{bias.sym_name.data}.scaled",
                        (bias.array * factor).astype(np.float32),
                    )
                )
            operands = [producer.input, *(c.results[0] for c in new_ops)]
            new_ops.append(rebuild(producer, operands, op.result.type, clamp_of(op)))
            rewriter.replace(op, new_ops)
            rewriter.erase(producer)
            return


@dataclass
class FoldShiftIntoBias(RewritePattern):
    """`conv(x, w, b) + t` -> `conv(x, w, b + t)`, t per output channel.

    With a constant t and a constant bias (or none), the new bias is computed
    here. Without a bias, any float t of shape `[1, ..., 1, C]` becomes the
    bias (a QDQ model's `MatMul` + `Add` of a dequantized bias, say).
    """

    names: ConstantNames

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: AddOp | SubOp, rewriter: PatternRewriter, /):
        for producer, other in linear_operands(op):
            bias = self.constant_bias(op, producer, other) or self.value_bias(
                op, producer, other
            )
            if bias is None:
                continue
            new_ops, value = bias
            operands = [producer.input, producer.weight, value]
            new = rebuild(producer, operands, op.result.type, clamp_of(op))
            rewriter.replace(op, [*new_ops, new])
            rewriter.erase(producer)
            return

    def constant_bias(
        self, op: AddOp | SubOp, producer: LinearOp, other: SSAValue
    ) -> tuple[list[Operation], SSAValue] | None:
        shift = channel_vector(other, op.result)
        old = None if producer.bias is None else constant_of(producer.bias)
        if shift is None or (producer.bias is not None and old is None):
            return None
        if isinstance(op, SubOp):
            shift = -shift
        if old is None:
            name, bias = f"{node_name(producer)}.bias", shift
        else:
            name, bias = f"{old.sym_name.data}.shifted", old.array + shift
        constant = self.names.constant(name, bias.astype(np.float32))
        return [constant], constant.result

    @staticmethod
    def value_bias(
        op: AddOp | SubOp, producer: LinearOp, other: SSAValue
    ) -> tuple[list[Operation], SSAValue] | None:
        channels = shape_of(op.result)[-1]
        if producer.bias is not None or isinstance(op, SubOp) or not is_f32(other):
            return None
        if not along_channels(other, op.result) or shape_of(other)[-1:] != (channels,):
            return None
        if shape_of(other) == (channels,):
            return [], other
        vector = ReshapeOp.create(
            operands=[other], result_types=[TensorType(element_type(other), [channels])]
        )
        vector.results[0].name_hint = f"{node_name(producer)}.bias"
        return [vector], vector.results[0]


# Activation fusion --------------------------------------------------------------


def intersect(
    low: float | None, high: float | None, clamp: dict[str, Attribute]
) -> tuple[float | None, float | None]:
    """The bounds of clamping to [low, high] after an existing fused clamp."""
    if "clamp_min" in clamp:
        old = clamp["clamp_min"].value.data
        low = old if low is None else max(low, old)
    if "clamp_max" in clamp:
        old = clamp["clamp_max"].value.data
        high = old if high is None else min(high, old)
    return low, high


class FuseActivation(RewritePattern):
    """`relu`/`clamp` of a single-use conv2d, fully_connected, add, sub, mul or
    div -> its fused clamp.

    Only when the activation does not change the type: on quantized tensors
    the fused form is then exact (quantization is monotonic and maps grid
    points to themselves), while a requantizing activation would lose its
    intermediate rounding and saturation.
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ReluOp | ClampOp, rewriter: PatternRewriter, /):
        producer = op.input.owner
        if not isinstance(producer, FusedClampMixin) or not op.input.has_one_use():
            return
        if op.input.type != op.result.type:
            return
        if isinstance(op, ReluOp):
            low, high = intersect(0.0, None, clamp_of(producer))
        else:
            low, high = intersect(
                op.min.value.data, op.max.value.data, clamp_of(producer)
            )
        # Two disjoint clamps make a constant; leave that rare case alone.
        if low is not None and high is not None and low > high:
            return
        for key, bound in (("clamp_min", low), ("clamp_max", high)):
            producer.properties.pop(key, None)
            if bound is not None:
                producer.properties[key] = f32_attr(bound)
        rewriter.notify_op_modified(producer)
        rewriter.replace(op, [], [op.input])


# No-ops and data movement ------------------------------------------------------


def is_identity(op: ReshapeOp | TransposeOp | PadOp | SliceOp) -> bool:
    if op.input.type != op.result.type:
        return False
    if isinstance(op, TransposeOp):
        return list(op.perm.get_values()) == sorted(op.perm.get_values())
    if isinstance(op, SliceOp):
        return all(s == 0 for s in op.starts.get_values()) and all(
            s == 1 for s in op.steps.get_values()
        )
    # Same type: a reshape keeps the shape, a pad's (non-negative) pads are 0.
    return True


class DropIdentity(RewritePattern):
    """Reshape to the same shape, identity transpose, zero pad, full slice."""

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self,
        op: ReshapeOp | TransposeOp | PadOp | SliceOp,
        rewriter: PatternRewriter,
        /,
    ):
        if is_identity(op):
            rewriter.replace(op, [], [op.input])


def composable(inner: Operation, outer: Operation) -> bool:
    """Whether `outer(inner(x))` may skip the intermediate type.

    On quantized tensors each data-movement op may requantize; dropping the
    middle step is exact only if it repeats the input's or the output's
    quantization.
    """
    middle = element_type(inner.results[0])
    return middle in (element_type(inner.operands[0]), element_type(outer.results[0]))


class ComposeReshapes(RewritePattern):
    """`reshape(reshape(x))` -> `reshape(x)`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ReshapeOp, rewriter: PatternRewriter, /):
        inner = op.input.owner
        if not isinstance(inner, ReshapeOp) or not composable(inner, op):
            return
        rewriter.replace(op, rebuild(op, [inner.input], op.result.type))


class ComposeTransposes(RewritePattern):
    """`transpose(transpose(x, p), q)` -> `transpose(x, p[q])`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: TransposeOp, rewriter: PatternRewriter, /):
        inner = op.input.owner
        if not isinstance(inner, TransposeOp) or not composable(inner, op):
            return
        first = inner.perm.get_values()
        perm = i64_array([first[p] for p in op.perm.get_values()])
        rewriter.replace(op, rebuild(op, [inner.input], op.result.type, {"perm": perm}))


class TransposeToReshape(RewritePattern):
    """A transpose that only moves size-1 axes keeps the memory order: a reshape.

    (`[N, 1, 1, C] -> [N, C, 1, 1]` after global pooling, for instance.)
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: TransposeOp, rewriter: PatternRewriter, /):
        shape = shape_of(op.input)
        moved = [p for p in op.perm.get_values() if shape[p] != 1]
        if moved != sorted(moved):
            return
        reshape = ReshapeOp.create(
            operands=[op.input],
            result_types=[op.result.type],
            attributes=dict(op.attributes),
        )
        rewriter.replace(op, reshape)


NHWC_TO_NCHW = (0, 3, 1, 2)


@dataclass
class FlattenBeforeFullyConnected(RewritePattern):
    """NCHW flatten before a dense layer -> NHWC flatten, weight columns permuted.

    An NCHW model's `Flatten` becomes `transpose(x, [0, 3, 1, 2])` then
    `reshape` on NHWC tensors; feeding the NHWC data in directly and
    reordering the constant weight's columns to (h, w, c) costs nothing at
    run time.
    """

    names: ConstantNames

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: FullyConnectedOp, rewriter: PatternRewriter, /):
        reshape = op.input.owner
        if not isinstance(reshape, ReshapeOp) or not op.input.has_one_use():
            return
        transpose = reshape.input.owner
        if not isinstance(transpose, TransposeOp) or not reshape.input.has_one_use():
            return
        if tuple(transpose.perm.get_values()) != NHWC_TO_NCHW:
            return
        if not composable(transpose, reshape):
            return
        n, h, w, c = shape_of(transpose.input)
        if shape_of(reshape.result) != (n, h * w * c):
            return
        weight = constant_of(op.weight)
        element = element_type(op.weight)
        if weight is None or (
            isinstance(element, UniformQuantizedType) and element.axis.data == 1
        ):
            return
        rows = weight.array.shape[0]
        columns = weight.array.reshape(rows, c, h, w).transpose(0, 2, 3, 1)
        new_weight = self.names.constant(
            f"{weight.sym_name.data}.hwc",
            columns.reshape(rows, h * w * c),
            tensor_type(op.weight),
        )
        flatten = rebuild(reshape, [transpose.input], reshape.result.type)
        operands = [flatten.results[0], new_weight.result, *op.operands[2:]]
        rewriter.replace(
            op, [new_weight, flatten, rebuild(op, operands, op.result.type)]
        )


@dataclass(frozen=True)
class GraphCanonicalizePass(ModulePass):
    """Simplify graph-level IR; run it before and after `graph-fold-qdq`.

    - constant folding: an op whose operands are all `graph.constant`s
      becomes a constant (not `graph.dequantize`, nor when the result would
      be over twice its inputs' size and over 64 KiB);
    - BatchNorm: a float `batch_norm` with constant parameters becomes `mul`
      and `add` of per-channel constants, which fold into the weights and
      bias of a preceding single-use float `conv2d`/`fully_connected`
      (a per-channel `mul`, `add`, or `sub` of such a producer folds the same
      way); without such a producer the mul + add stay;
    - activations: `relu`/`clamp` fuse into a single-use conv2d,
      fully_connected, add, sub, mul or div as its clamp, intersected with
      any clamp it already has (quantized too, when the activation keeps the
      type);
    - no-ops: same-shape reshape, identity transpose, zero pad, full slice;
      reshape(reshape) and transpose(transpose) compose, a transpose moving
      only size-1 axes becomes a reshape;
    - an NCHW flatten (transpose to NCHW, reshape) before a fully_connected
      with constant weight becomes a plain reshape of the NHWC tensor, with
      the weight's columns permuted instead.
    """

    name = "graph-canonicalize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        names = ConstantNames.of(op)
        patterns: list[RewritePattern] = [
            FoldConstantOp(names),
            DecomposeBatchNorm(names),
            FoldScaleIntoLinear(names),
            FoldShiftIntoBias(names),
            FuseActivation(),
            DropIdentity(),
            ComposeReshapes(),
            ComposeTransposes(),
            TransposeToReshape(),
            FlattenBeforeFullyConnected(names),
        ]
        PatternRewriteWalker(GreedyRewritePatternApplier(patterns)).rewrite_module(op)
