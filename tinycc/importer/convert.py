"""Walking the ONNX graph in order and building `func.func @main`.

Each node is folded (all inputs known), converted by its registered
converter, or reported. A node that fails leaves placeholders behind so
that the walk goes on and every problem of the model is found in one run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import onnx
from onnx import numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    ModuleOp,
    TensorType,
    UnrealizedConversionCastOp,
    bf16,
    f16,
    f32,
    f64,
)
from xdsl.ir import Attribute, Region, SSAValue
from xdsl.utils.exceptions import VerifyException

from tinycc.errors import TinyccError

# Importing the ops modules registers their converters.
from tinycc.importer import (  # noqa: F401, I001
    folding,
    layout,
    ops_elementwise,
    ops_linear,
    ops_nn,
    ops_quant,
    ops_reduce,
    ops_shape,
    qoperator,
)
from tinycc.importer.builder import IRBuilder, first_line
from tinycc.importer.context import (
    CONVERTERS,
    REJECTED,
    NodeContext,
    Result,
    domain_of,
)
from tinycc.importer.dtypes import check_activation_type
from tinycc.importer.graph_inputs import Consumers, input_type
from tinycc.importer.layout import Perm
from tinycc.importer.model import PreparedModel
from tinycc.importer.problems import GRAPH_INPUT, GRAPH_OUTPUT, Problem, Unsupported
from tinycc.importer.tensors import MISSING, Const, Tensor, Value, perm_of
from tinycc.signature import port_attrs

# Element types of stand-ins for the outputs of nodes that failed; a float16
# tensor stands in as itself so that its consumers are reported too.
PLACEHOLDER_ELEMENTS: dict[int, Attribute] = {
    onnx.TensorProto.FLOAT: f32,
    onnx.TensorProto.FLOAT16: f16,
    onnx.TensorProto.DOUBLE: f64,
    onnx.TensorProto.BFLOAT16: bf16,
}


@dataclass
class Conversion:
    """The module (None if there are problems), the problems, the interface."""

    module: ModuleOp | None
    problems: list[Problem]
    inputs: list[str]
    outputs: list[str]


def convert(prepared: PreparedModel) -> Conversion:
    return _GraphConverter(prepared).run()


def live_nodes(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """The nodes some graph output depends on, in graph order."""
    needed = {output.name for output in graph.output}
    live = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            live.append(node)
            needed.update(name for name in node.input if name)
    return live[::-1]


class _GraphConverter:
    def __init__(self, prepared: PreparedModel):
        self.prepared = prepared
        self.graph = prepared.model.graph
        self.builder = IRBuilder()
        self.problems: list[Problem] = []
        self.values: dict[str, Tensor] = {
            tensor.name: Const(tensor.name, numpy_helper.to_array(tensor))
            for tensor in self.graph.initializer
        }
        self.nodes = live_nodes(self.graph)
        consumers: defaultdict[str, list[tuple[onnx.NodeProto, int]]] = defaultdict(
            list
        )
        for node in self.nodes:
            for index, name in enumerate(node.input):
                consumers[name].append((node, index))
        self.consumers: Consumers = consumers
        self.used = set(consumers) | {output.name for output in self.graph.output}

    def run(self) -> Conversion:
        inputs = self._import_inputs()
        for node in self.nodes:
            self._import_node(node)
        outputs = self._import_outputs()
        interface = ([name for name, _ in inputs], [name for name, _, _ in outputs])
        if self.problems:
            return Conversion(None, self.problems, *interface)
        return Conversion(self._module(inputs, outputs), [], *interface)

    # Inputs ---------------------------------------------------------------------

    @cached_property
    def _constants(self) -> dict[str, np.ndarray]:
        """Initializers and Constant node values, for typing integer inputs."""
        constants = {
            name: t.array for name, t in self.values.items() if isinstance(t, Const)
        }
        for node in self.nodes:
            if node.op_type == "Constant" and domain_of(node) == "":
                (value,) = folding.fold(node, [], self.prepared.opset)
                constants[value.name] = value.array
        return constants

    def _import_inputs(self) -> list[tuple[str, Perm]]:
        inputs = []
        for info in self.graph.input:
            if info.name in self.values:
                continue  # an initializer listed as an input (IR version < 4)
            try:
                ir_type, perm = input_type(info, self.consumers, self._constants)
            except Unsupported as error:
                self._report(info.name, GRAPH_INPUT, "", error.reason)
                self.values[info.name] = MISSING
                continue
            block = self.builder.block
            argument = block.insert_arg(ir_type, len(block.args))
            self.values[info.name] = Value(argument, perm)
            inputs.append((info.name, perm))
        return inputs

    # Nodes -----------------------------------------------------------------------

    def _import_node(self, node: onnx.NodeProto) -> None:
        domain = domain_of(node)
        opset = self.prepared.opsets.get(domain, 1)
        ctx = NodeContext(node, opset, self.builder, self.values, self.used)
        self.builder.node_name = ctx.name
        try:
            outputs = self._outputs(ctx)
        except (Unsupported, VerifyException) as error:
            reason = (
                error.reason if isinstance(error, Unsupported) else first_line(error)
            )
            self._report(ctx.name, node.op_type, domain, reason)
            outputs = [self._placeholder(name) for name in node.output]
        finally:
            self.builder.node_name = None
        for name, tensor in zip(node.output, outputs, strict=True):
            if name:
                self.values[name] = MISSING if tensor is None else tensor

    def _outputs(self, ctx: NodeContext) -> list[Tensor | None]:
        node = ctx.node
        key = (domain_of(node), node.op_type)
        if key in REJECTED:
            raise Unsupported(REJECTED[key])
        converter = CONVERTERS.get(key)
        inputs = [self.values[name] if name else None for name in node.input]
        if any(tensor is MISSING for tensor in inputs):
            if converter is None and node.op_type not in ("Shape", "Size"):
                raise Unsupported("unsupported operator")
            return [MISSING] * len(node.output)  # reported upstream
        if folding.can_fold(node, inputs):
            return folding.fold(node, inputs, ctx.opset)
        if converter is None:
            raise Unsupported("unsupported operator")
        if not converter.quantized and any(
            isinstance(tensor, Value) and tensor.is_quantized for tensor in inputs
        ):
            raise Unsupported(
                "integer tensors are not supported here (quantized models must "
                "use QuantizeLinear/DequantizeLinear or QLinear ops)"
            )
        outputs = _as_list(converter.function(ctx))
        outputs += [None] * (len(node.output) - len(outputs))
        self._check_output_types(node)
        return outputs

    def _check_output_types(self, node: onnx.NodeProto) -> None:
        for name in node.output:
            if name not in self.used:
                continue
            inferred = self.prepared.value_types.get(name)
            if inferred is not None and inferred.tensor_type.elem_type:
                check_activation_type(inferred.tensor_type.elem_type)

    def _inferred_shape(self, name: str) -> tuple[int, ...] | None:
        inferred = self.prepared.value_types.get(name)
        if inferred is None or not inferred.tensor_type.HasField("shape"):
            return None
        dims = inferred.tensor_type.shape.dim
        if not all(dim.HasField("dim_value") for dim in dims):
            return None
        return tuple(dim.dim_value for dim in dims)

    def _placeholder(self, name: str) -> Tensor:
        """A stand-in for an output that could not be imported.

        A float tensor of known shape keeps its consumers checkable; the
        module it goes into is never returned.
        """
        inferred = self.prepared.value_types.get(name)
        shape = self._inferred_shape(name)
        if inferred is None or shape is None:
            return MISSING
        element = PLACEHOLDER_ELEMENTS.get(inferred.tensor_type.elem_type)
        if element is None:
            return MISSING
        cast = UnrealizedConversionCastOp.get([], [TensorType(element, shape)])
        return Value(cast.results[0], layout.identity(len(shape)))

    # Outputs and the function ------------------------------------------------------

    def _import_outputs(self) -> list[tuple[str, SSAValue, Perm]]:
        outputs = []
        for info in self.graph.output:
            tensor = self.values.get(info.name, MISSING)
            if tensor is MISSING:
                continue  # its producer was reported
            try:
                outputs.append((info.name, self.builder.value(tensor), perm_of(tensor)))
            except Unsupported as error:
                self._report(info.name, GRAPH_OUTPUT, "", error.reason)
        return outputs

    def _module(
        self,
        inputs: Sequence[tuple[str, Perm]],
        outputs: Sequence[tuple[str, SSAValue, Perm]],
    ) -> ModuleOp:
        block = self.builder.block
        block.add_op(func.ReturnOp(*(ssa for _, ssa, _ in outputs)))
        function = func.FuncOp(
            "main",
            ([arg.type for arg in block.args], [ssa.type for _, ssa, _ in outputs]),
            Region(block),
            arg_attrs=ArrayAttr([port_attrs(n, p) for n, p in inputs]),
            res_attrs=ArrayAttr([port_attrs(n, p) for n, _, p in outputs]),
        )
        module = ModuleOp([function])
        try:
            module.verify()
        except VerifyException as error:  # every op was verified: a bug
            raise TinyccError(
                f"{self.prepared.name}: internal error, the imported IR does not "
                f"verify: {first_line(error)}"
            ) from error
        return module

    def _report(self, node: str, op_type: str, domain: str, reason: str) -> None:
        opset = self.prepared.opsets.get(domain, 1)
        self.problems.append(Problem(node, op_type, domain, opset, reason))


def _as_list(result: Result) -> list[Tensor | None]:
    return list(result) if isinstance(result, Sequence) else [result]
