"""Loop-level IR to C99, one op at a time.

The translation is direct: every SSA value that is not a constant becomes a
`const` local (constants print inline as exact literals), `scf.for` becomes
a `for` loop whose iter_args are locals assigned at `scf.yield`, `scf.if`
results are locals assigned in each branch, memrefs are flat pointers
indexed in row-major order (`p[(i * D1 + j) * D2 + k]`, the IR's indices as
written), `memref.view` casts `arena + offset`. The emitter decides nothing
a pass could: no hoisting, fusion or reordering.

Integer semantics follow MLIR's `arith`:
- `addi`/`subi`/`muli`/`shli` wrap: they compute in `uint32_t`/`uint64_t`
  and convert back (C's signed overflow is undefined, MLIR's wraps);
  `index` arithmetic stays plain `ptrdiff_t` (index values are addresses and
  extents of static buffers: they cannot overflow).
- `divsi`/`remsi` are C's `/` and `%` (C99 truncates toward zero, as MLIR).
- `*ui` ops and unsigned predicates convert to the same-width unsigned type.
- `shrsi` is `>>`: right shifts of negative values are implementation-
  defined in C99; GCC, Clang, armcc and xtensa-gcc all shift arithmetically.
  Narrowing conversions (`trunci`, the wrap-back of wrapping ops) rely on the
  same compilers' modular conversion to signed types.

Float semantics: `maximumf`/`minimumf` return NaN if either operand is NaN
and order -0 below +0 (IEEE 754-2019 maximum/minimum), through small
`static inline` helpers; `maxnumf`/`minnumf` are C's `fmaxf`/`fminf`
(IEEE maxNum: the non-NaN operand). `math.roundeven` is `rintf` (the code
never leaves the default round-to-nearest-even mode).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from xdsl.dialects import arith, func, math, memref, scf
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    Float32Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    StringAttr,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue

from tinycc.errors import TinyccError
from tinycc.targets.c.analysis import ModuleInfo, analyze, constant_index
from tinycc.targets.c.literals import (
    c_type,
    float_literal,
    int_literal,
    is_special_literal,
    memref_elements,
    memref_shape,
    shape_text,
    unsigned_c_type,
    wrapping_c_type,
)
from tinycc.targets.c.names import NameScope

INDENT = "    "

_FLOAT_BINARY = {
    arith.AddfOp: "+",
    arith.SubfOp: "-",
    arith.MulfOp: "*",
    arith.DivfOp: "/",
}
_WRAPPING = {arith.AddiOp: "+", arith.SubiOp: "-", arith.MuliOp: "*"}
_PLAIN_INTEGER = {
    arith.DivSIOp: "/",
    arith.RemSIOp: "%",
    arith.AndIOp: "&",
    arith.OrIOp: "|",
    arith.XOrIOp: "^",
    arith.ShRSIOp: ">>",
}
_UNSIGNED_INTEGER = {arith.DivUIOp: "/", arith.RemUIOp: "%", arith.ShRUIOp: ">>"}
_SELECTING = {
    arith.MinSIOp: ("<", False),
    arith.MaxSIOp: (">", False),
    arith.MinUIOp: ("<", True),
    arith.MaxUIOp: (">", True),
}
_CMPI = ("==", "!=", "<", "<=", ">", ">=", "<", "<=", ">", ">=")  # by predicate
_CMPI_UNSIGNED_FROM = 6  # ult, ule, ugt, uge
# arith.cmpf predicates 0..15 (false, oeq, ogt, oge, olt, ole, one, ord, ueq,
# ugt, uge, ult, ule, une, uno, true). C's relational operators are ordered
# comparisons (false on NaN); the unordered ones negate their complement.
_CMPF = (
    "((void){a}, (void){b}, false)",  # the operands' locals stay used
    "{a} == {b}",
    "{a} > {b}",
    "{a} >= {b}",
    "{a} < {b}",
    "{a} <= {b}",
    "({a} < {b} || {a} > {b})",
    "!(isnan({a}) || isnan({b}))",
    "!({a} < {b} || {a} > {b})",
    "!({a} <= {b})",
    "!({a} < {b})",
    "!({a} >= {b})",
    "!({a} > {b})",
    "{a} != {b}",
    "(isnan({a}) || isnan({b}))",
    "((void){a}, (void){b}, true)",
)
_MATH = {
    math.AbsFOp: "fabs",
    math.AcosOp: "acos",
    math.AcoshOp: "acosh",
    math.AsinOp: "asin",
    math.AsinhOp: "asinh",
    math.AtanOp: "atan",
    math.Atan2Op: "atan2",
    math.AtanhOp: "atanh",
    math.CbrtOp: "cbrt",
    math.CeilOp: "ceil",
    math.CopySignOp: "copysign",
    math.CosOp: "cos",
    math.CoshOp: "cosh",
    math.ErfOp: "erf",
    math.Exp2Op: "exp2",
    math.ExpM1Op: "expm1",
    math.ExpOp: "exp",
    math.FloorOp: "floor",
    math.FmaOp: "fma",
    math.Log10Op: "log10",
    math.Log1pOp: "log1p",
    math.Log2Op: "log2",
    math.LogOp: "log",
    math.PowFOp: "pow",
    math.RoundEvenOp: "rint",
    math.RoundOp: "round",  # half away from zero, as math.round
    math.SinOp: "sin",
    math.SinhOp: "sinh",
    math.SqrtOp: "sqrt",
    math.TanOp: "tan",
    math.TanhOp: "tanh",
    math.TruncOp: "trunc",
    arith.MaxnumfOp: "fmax",
    arith.MinnumfOp: "fmin",
}
_NAN_AWARE = {arith.MaximumfOp: "maximum", arith.MinimumfOp: "minimum"}

# C text of the helpers, by the IR op's name; "{t}" is the C float type and
# "{f}" the name suffix of its <math.h> functions.
_HELPER_TEMPLATES = {
    "maximum": """\
/* arith.maximumf: NaN if either operand is NaN; +0 is above -0. */
static inline {t} tinycc_maximum{f}({t} a, {t} b)
{{
    if (a > b) {{
        return a;
    }}
    if (a < b) {{
        return b;
    }}
    if (isnan(a) || isnan(b)) {{
        return a + b;
    }}
    return signbit(a) ? b : a; /* equal: +0 is above -0 */
}}
""",
    "minimum": """\
/* arith.minimumf: NaN if either operand is NaN; -0 is below +0. */
static inline {t} tinycc_minimum{f}({t} a, {t} b)
{{
    if (a < b) {{
        return a;
    }}
    if (a > b) {{
        return b;
    }}
    if (isnan(a) || isnan(b)) {{
        return a + b;
    }}
    return signbit(a) ? a : b; /* equal: -0 is below +0 */
}}
""",
}

# Keys of `tinycc.layer` printed first, with their labels.
_LAYER_KEYS = {"op": "op", "shape": "shape", "macs": "MACs", "live_bytes": "live bytes"}


@dataclass
class Needs:
    """Headers and helpers the emitted functions use."""

    headers: set[str] = field(
        default_factory=lambda: {"stdbool.h", "stddef.h", "stdint.h"}
    )
    helpers: set[tuple[str, str]] = field(default_factory=set)  # (kind, C type)

    def include_lines(self) -> list[str]:
        return [f"#include <{header}>" for header in sorted(self.headers)]

    def helper_text(self) -> str:
        return "\n".join(
            _HELPER_TEMPLATES[kind].format(t=type_, f=_math_suffix_of(type_))
            for kind, type_ in sorted(self.helpers)
        )


@dataclass
class ModuleContext:
    """Module-wide state: the analysis, C names of symbols, what is needed."""

    info: ModuleInfo
    functions: dict[str, str]
    globals: dict[str, str]
    static: set[str]
    needs: Needs = field(default_factory=Needs)


def module_context(
    module: ModuleOp, prefix: str, renamed: dict[str, str], static: set[str]
) -> ModuleContext:
    """Analyze `module` and name its symbols.

    Private functions and globals get `prefix` (a model's symbols must not
    clash with another model's in one firmware); public functions keep their
    name unless `renamed`. Private functions, and those in `static`, are
    `static`.
    """
    info = analyze(module)
    scope = NameScope()
    functions: dict[str, str] = {}
    for name, function in info.functions.items():
        public = (
            function.sym_visibility is None or function.sym_visibility.data == "public"
        )
        hint = renamed.get(name, name if public else prefix + name)
        functions[name] = scope.claim(hint, "f")
        if not public:
            static = static | {name}
    globals_ = {name: scope.claim(prefix + name, "g") for name in info.globals}
    return ModuleContext(info, functions, globals_, set(static))


def emit_functions(context: ModuleContext) -> list[str]:
    """The C definitions of the module's functions, in module order."""
    return [emit_function(f, context) for f in context.info.functions.values()]


def emit_function(function: func.FuncOp, context: ModuleContext) -> str:
    try:
        return FunctionEmitter(function, context).emit()
    except TinyccError as error:
        message = str(error).removeprefix("c target: ")
        if message.startswith("@"):
            raise
        symbol = function.sym_name.data
        raise TinyccError(f"c target: @{symbol}: {message}") from error


@dataclass
class FunctionEmitter:
    function: func.FuncOp
    context: ModuleContext
    names: NameScope = field(init=False)
    values: dict[SSAValue, str] = field(default_factory=dict)
    yield_targets: dict[Operation, list[str]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    depth: int = 0

    def __post_init__(self) -> None:
        taken = NameScope().taken
        taken.update(self.context.functions.values(), self.context.globals.values())
        self.names = NameScope(taken)

    @property
    def symbol(self) -> str:
        return self.function.sym_name.data

    def error(self, message: str) -> TinyccError:
        return TinyccError(f"c target: @{self.symbol}: {message}")

    # The function ------------------------------------------------------------
    def emit(self) -> str:
        if len(self.function.body.blocks) != 1:
            raise self.error("functions with several blocks are not supported")
        header = self.signature()
        self.depth = 1
        self.block(self.function.body.block)
        # A parameter the C body never names (unused in the IR, or only read
        # by a `cmpf true`) would trip -Wunused-parameter.
        named = set(re.findall(r"\w+", "\n".join(self.lines)))
        unnamed = [
            f"{INDENT}(void){self.values[arg]};"
            for arg in self.function.args
            if self.values[arg] not in named
        ]
        body = "".join(line + "\n" for line in unnamed + self.lines)
        comment = layer_comment(
            self.symbol, self.function.attributes.get("tinycc.layer")
        )
        return f"{comment}{header}\n{{\n{body}}}\n"

    def signature(self) -> str:
        outputs = self.function.function_type.outputs.data
        if len(outputs) > 1:
            raise self.error("functions return at most one value in C")
        result = c_type(outputs[0]) if outputs else "void"
        linkage = "static " if self.symbol in self.context.static else ""
        params = [self.parameter(i, arg) for i, arg in enumerate(self.function.args)]
        name = self.context.functions[self.symbol]
        one_line = f"{linkage}{result} {name}({', '.join(params) or 'void'})"
        if len(one_line) <= 88:
            return one_line
        separator = ",\n" + INDENT
        return f"{linkage}{result} {name}(\n{INDENT}{separator.join(params)})"

    def parameter(self, index: int, arg: SSAValue) -> str:
        hint = arg.name_hint or _port_name(self.function, index)
        name = self.names.claim(hint, "arg")
        self.values[arg] = name
        if not isinstance(arg.type, MemRefType):
            return f"{c_type(arg.type)} {name}"
        info = self.context.info
        const = "" if index in info.written[self.symbol] else "const "
        restrict = "restrict " if index in info.restrict[self.symbol] else ""
        element = c_type(arg.type.element_type)
        return f"{const}{element} *{restrict}{name} /* {shape_text(arg.type)} */"

    # Statements --------------------------------------------------------------
    def line(self, text: str) -> None:
        self.lines.append(INDENT * self.depth + text)

    def block(self, block: Block) -> None:
        for op in block.ops:
            handler = _STATEMENTS.get(type(op))
            if handler is not None:
                handler(self, op)
            else:
                self.expression_statement(op)

    def expression_statement(self, op: Operation) -> None:
        if isinstance(op, arith.ConstantOp):
            self.values[op.result] = self.constant(op)
            return
        if len(op.results) != 1:
            raise self.error(f"'{op.name}' is not supported by the C target")
        expression = self.expression(op)
        result = op.results[0]
        if not result.uses:
            # Kept, not deleted: dead code elimination is a pass's business.
            self.line(f"(void)({expression});")
            return
        name = self.names.claim(result.name_hint, "v")
        self.values[result] = name
        self.line(f"const {c_type(result.type)} {name} = {expression};")

    def for_loop(self, op: scf.ForOp) -> None:
        body = op.body.block
        variables = self.declare(
            zip(body.args[1:], op.res, op.iter_args, strict=True), initialized=True
        )
        self.yield_targets[op] = variables
        induction = body.args[0]
        index = self.names.claim(induction.name_hint, "i")
        self.values[induction] = index
        step = (
            f"++{index}"
            if constant_index(op.step) == 1
            else f"{index} += {self.operand(op.step)}"
        )
        self.line(
            f"for ({c_type(induction.type)} {index} = {self.value(op.lb)}; "
            f"{index} < {self.value(op.ub)}; {step}) {{"
        )
        self.nested(body)
        self.line("}")
        for arg, result, name in zip(body.args[1:], op.res, variables, strict=True):
            if not arg.uses and not result.uses:
                self.line(f"(void){name};")  # assigned, never read

    def if_else(self, op: scf.IfOp) -> None:
        variables = self.declare(
            ((None, r, None) for r in op.output), initialized=False
        )
        self.yield_targets[op] = variables
        self.line(f"if ({self.value(op.cond)}) {{")
        self.nested(op.true_region.block)
        if op.false_region.blocks and _does_something(op.false_region.block):
            self.line("} else {")
            self.nested(op.false_region.block)
        self.line("}")
        for result, name in zip(op.output, variables, strict=True):
            if not result.uses:
                self.line(f"(void){name};")

    def declare(
        self,
        triples: Iterable[tuple[SSAValue | None, SSAValue, SSAValue | None]],
        initialized: bool,
    ) -> list[str]:
        """Mutable locals for (block argument, result, initial value) triples."""
        names = []
        for arg, result, initial in triples:
            # The block argument's name is the one the loop body reads.
            hint = (arg.name_hint if arg is not None else None) or result.name_hint
            name = self.names.claim(hint, "r")
            names.append(name)
            self.values[result] = name
            if arg is not None:
                self.values[arg] = name
            init = f" = {self.value(initial)}" if initialized and initial else ""
            self.line(f"{c_type(result.type)} {name}{init};")
        return names

    def nested(self, block: Block) -> None:
        self.depth += 1
        self.block(block)
        self.depth -= 1

    def yield_(self, op: scf.YieldOp) -> None:
        targets = self.yield_targets.get(op.parent_op(), [])  # type: ignore[arg-type]
        moves = [
            (target, self.value(value), value.type)
            for target, value in zip(targets, op.operands, strict=True)
            if target != self.value(value)
        ]
        # `scf.yield %b, %a` permutes iter_args: assign through temporaries.
        if any(source in targets for _, source, _ in moves):
            staged = []
            for target, source, type_ in moves:
                temporary = self.names.claim(f"{target}_next", "t")
                self.line(f"const {c_type(type_)} {temporary} = {source};")
                staged.append((target, temporary, type_))
            moves = staged
        for target, source, _ in moves:
            self.line(f"{target} = {source};")

    def store(self, op: memref.StoreOp) -> None:
        index = self.flat_index(op.memref, op.indices)
        self.line(f"{self.value(op.memref)}[{index}] = {self.value(op.value)};")

    def view(self, op: memref.ViewOp) -> None:
        if op.sizes:
            raise self.error("memref.view with dynamic sizes is not supported")
        memref_shape(op.result.type)  # rejects dynamic and strided views
        const = "" if op.result in self.context.info.written_values else "const "
        element = c_type(op.result.type.element_type)
        cast = (
            f"({const}{element} *)({const}void *)"
            f"({self.value(op.source)} + {self.value(op.byte_shift)})"
        )
        if not op.result.uses:
            self.line(f"(void){cast};")
            return
        name = self.names.claim(op.result.name_hint, "buffer")
        self.values[op.result] = name
        self.line(f"{const}{element} *{name} = {cast};")

    def get_global(self, op: memref.GetGlobalOp) -> None:
        symbol = op.name_.root_reference.data
        if symbol not in self.context.globals:
            raise self.error(f"memref.get_global of unknown @{symbol}")
        self.values[op.memref] = self.context.globals[symbol]
        if not op.memref.uses:
            self.line(f"(void){self.values[op.memref]};")

    def copy(self, op: memref.CopyOp) -> None:
        self.need("string.h")
        overlap = self.context.info.may_overlap(op.source, op.destination, self.symbol)
        element = c_type(op.source.type.element_type)
        count = memref_elements(op.source.type)
        self.line(
            f"{'memmove' if overlap else 'memcpy'}({self.value(op.destination)}, "
            f"{self.value(op.source)}, {count} * sizeof({element}));"
        )

    def call(self, op: func.CallOp) -> None:
        callee = self.context.functions[op.callee.root_reference.data]
        call = f"{callee}({', '.join(self.value(a) for a in op.arguments)})"
        if len(op.res) > 1:
            raise self.error("calls return at most one value in C")
        if not op.res or not op.res[0].uses:
            self.line(f"{call};")
            return
        result = op.res[0]
        name = self.names.claim(result.name_hint, "v")
        self.values[result] = name
        self.line(f"const {c_type(result.type)} {name} = {call};")

    def return_(self, op: func.ReturnOp) -> None:
        # func.return ends the function's only block: `return;` would be noise.
        if op.arguments:
            self.line(f"return {self.value(op.arguments[0])};")

    # Expressions -------------------------------------------------------------
    def value(self, value: SSAValue) -> str:
        return self.values[value]

    def operand(self, value: SSAValue) -> str:
        """`value` as an operand of a C operator: negative literals in parens."""
        text = self.values[value]
        return f"({text})" if text.startswith("-") else text

    def constant(self, op: arith.ConstantOp) -> str:
        attr = op.value
        if isinstance(attr, FloatAttr):
            literal = float_literal(attr.value.data, attr.type)
            if is_special_literal(literal):
                self.need("math.h")
            return literal
        if isinstance(attr, IntegerAttr):
            return int_literal(attr.value.data, attr.type)
        raise self.error(f"constant {attr} is not a scalar")

    def flat_index(self, memref_value: SSAValue, indices: Iterable[SSAValue]) -> str:
        """Row-major offset of `indices`, in Horner form: `(i * D1 + j) * D2 + k`."""
        shape = memref_shape(memref_value.type)  # type: ignore[arg-type]
        offset: int | str = 0
        for extent, index in zip(shape, indices, strict=True):
            constant = constant_index(index)
            term = constant if constant is not None else self.value(index)
            offset = _add(_multiply(offset, extent), term)
        return str(offset)

    def expression(self, op: Operation) -> str:
        rule = _EXPRESSIONS.get(type(op))
        if rule is None:
            raise self.error(f"'{op.name}' is not supported by the C target")
        return rule(self, op, [self.operand(v) for v in op.operands])

    def need(self, *headers: str) -> None:
        self.context.needs.headers.update(headers)


_STATEMENTS: dict[type[Operation], Callable[[FunctionEmitter, Operation], None]] = {
    scf.ForOp: FunctionEmitter.for_loop,  # type: ignore[dict-item]
    scf.IfOp: FunctionEmitter.if_else,  # type: ignore[dict-item]
    scf.YieldOp: FunctionEmitter.yield_,  # type: ignore[dict-item]
    memref.StoreOp: FunctionEmitter.store,  # type: ignore[dict-item]
    memref.ViewOp: FunctionEmitter.view,  # type: ignore[dict-item]
    memref.GetGlobalOp: FunctionEmitter.get_global,  # type: ignore[dict-item]
    memref.CopyOp: FunctionEmitter.copy,  # type: ignore[dict-item]
    func.CallOp: FunctionEmitter.call,  # type: ignore[dict-item]
    func.ReturnOp: FunctionEmitter.return_,  # type: ignore[dict-item]
}


# Expressions: one rule per family of pure ops, from the operands' C text.
ExpressionRule = Callable[[FunctionEmitter, Any, list[str]], str]
_EXPRESSIONS: dict[type[Operation], ExpressionRule] = {}


def _rule(*kinds: type[Operation]) -> Callable[[ExpressionRule], ExpressionRule]:
    def register(rule: ExpressionRule) -> ExpressionRule:
        _EXPRESSIONS.update(dict.fromkeys(kinds, rule))
        return rule

    return register


@_rule(memref.LoadOp)
def _load(emitter: FunctionEmitter, op: memref.LoadOp, _: list[str]) -> str:
    return f"{emitter.value(op.memref)}[{emitter.flat_index(op.memref, op.indices)}]"


@_rule(*_FLOAT_BINARY)
def _float_binary(_: FunctionEmitter, op: Operation, args: list[str]) -> str:
    return f"{args[0]} {_FLOAT_BINARY[type(op)]} {args[1]}"


@_rule(arith.NegfOp)
def _negate(_: FunctionEmitter, op: Operation, args: list[str]) -> str:
    return f"-{args[0]}"


@_rule(*_MATH)
def _math_call(emitter: FunctionEmitter, op: Operation, args: list[str]) -> str:
    emitter.need("math.h")
    suffix = _math_suffix(op.results[0].type)
    arguments = ", ".join(emitter.value(v) for v in op.operands)  # no parens
    return f"{_MATH[type(op)]}{suffix}({arguments})"


@_rule(math.RsqrtOp)
def _rsqrt(emitter: FunctionEmitter, op: Operation, args: list[str]) -> str:
    emitter.need("math.h")
    type_ = op.results[0].type
    return f"{float_literal(1.0, type_)} / sqrt{_math_suffix(type_)}({args[0]})"


@_rule(*_NAN_AWARE)
def _nan_aware(emitter: FunctionEmitter, op: Operation, args: list[str]) -> str:
    emitter.need("math.h")
    kind, type_ = _NAN_AWARE[type(op)], op.results[0].type
    emitter.context.needs.helpers.add((kind, c_type(type_)))
    a, b = (emitter.value(v) for v in op.operands)
    return f"tinycc_{kind}{_math_suffix(type_)}({a}, {b})"


@_rule(arith.CmpfOp)
def _compare_floats(emitter: FunctionEmitter, op: arith.CmpfOp, args: list[str]) -> str:
    emitter.need("math.h")  # isnan
    return _CMPF[op.predicate.value.data].format(a=args[0], b=args[1])


@_rule(arith.CmpiOp)
def _compare_integers(_: FunctionEmitter, op: arith.CmpiOp, args: list[str]) -> str:
    predicate = op.predicate.value.data
    a, b = args
    if predicate >= _CMPI_UNSIGNED_FROM:
        cast = f"({unsigned_c_type(op.lhs.type)})"
        a, b = cast + a, cast + b
    return f"{a} {_CMPI[predicate]} {b}"


@_rule(arith.SelectOp)
def _select(_: FunctionEmitter, op: Operation, args: list[str]) -> str:
    return f"{args[0]} ? {args[1]} : {args[2]}"


@_rule(*_WRAPPING, arith.ShLIOp)
def _wrapping(emitter: FunctionEmitter, op: Operation, args: list[str]) -> str:
    a, b = args
    symbol = _WRAPPING.get(type(op), "<<")
    type_ = op.results[0].type
    if isinstance(type_, IndexType):
        if symbol == "<<":
            return f"(ptrdiff_t)((size_t){a} << {b})"
        return f"{a} {symbol} {b}"
    if not isinstance(type_, IntegerType) or type_.width.data == 1:
        raise emitter.error(f"wrapping arithmetic on {type_} is not supported")
    wide = wrapping_c_type(type_)
    right = b if symbol == "<<" else f"({wide}){b}"
    return f"({c_type(type_)})(({wide}){a} {symbol} {right})"


@_rule(*_PLAIN_INTEGER)
def _plain_integer(_: FunctionEmitter, op: Operation, args: list[str]) -> str:
    return f"{args[0]} {_PLAIN_INTEGER[type(op)]} {args[1]}"


@_rule(*_UNSIGNED_INTEGER)
def _unsigned_integer(_: FunctionEmitter, op: Operation, args: list[str]) -> str:
    type_ = op.results[0].type
    unsigned = unsigned_c_type(type_)
    symbol = _UNSIGNED_INTEGER[type(op)]
    return f"({c_type(type_)})(({unsigned}){args[0]} {symbol} ({unsigned}){args[1]})"


@_rule(*_SELECTING)
def _min_max(_: FunctionEmitter, op: Operation, args: list[str]) -> str:
    a, b = args
    relation, unsigned = _SELECTING[type(op)]
    cast = f"({unsigned_c_type(op.results[0].type)})" if unsigned else ""
    return f"{cast}{a} {relation} {cast}{b} ? {a} : {b}"


@_rule(
    arith.IndexCastOp,
    arith.ExtSIOp,
    arith.SIToFPOp,
    arith.FPToSIOp,
    arith.ExtFOp,
    arith.TruncFOp,
    arith.TruncIOp,
)
def _convert(_: FunctionEmitter, op: Operation, args: list[str]) -> str:
    source, target = op.operands[0].type, op.results[0].type
    if isinstance(op, arith.ExtSIOp) and source == IntegerType(1):
        return f"{args[0]} ? -1 : 0"  # sign-extending true gives all ones
    if isinstance(op, arith.TruncIOp) and target == IntegerType(1):
        return f"({args[0]} & 1) != 0"
    return f"({c_type(target)}){args[0]}"


@_rule(arith.ExtUIOp, arith.UIToFPOp)
def _convert_unsigned(_: FunctionEmitter, op: Operation, args: list[str]) -> str:
    source = unsigned_c_type(op.operands[0].type)
    return f"({c_type(op.results[0].type)})({source}){args[0]}"


@_rule(arith.FPToUIOp)
def _convert_to_unsigned(_: FunctionEmitter, op: Operation, args: list[str]) -> str:
    target = op.results[0].type
    return f"({c_type(target)})({unsigned_c_type(target)}){args[0]}"


def _multiply(offset: int | str, extent: int) -> int | str:
    if isinstance(offset, int):
        return offset * extent
    if extent == 1:
        return offset
    if " + " in offset or " - " in offset:
        return f"({offset}) * {extent}"
    return f"{offset} * {extent}"


def _add(offset: int | str, term: int | str) -> int | str:
    if isinstance(offset, int) and isinstance(term, int):
        return offset + term
    if offset == 0:
        return term
    if term == 0:
        return offset
    if isinstance(term, int) and term < 0:
        return f"{offset} - {-term}"
    return f"{offset} + {term}"


def _math_suffix(type_: Attribute) -> str:
    return "f" if isinstance(type_, Float32Type) else ""


def _math_suffix_of(c_float_type: str) -> str:
    return "f" if c_float_type == "float" else ""


def _does_something(block: Block) -> bool:
    return any(not isinstance(op, scf.YieldOp) or op.operands for op in block.ops)


def _port_name(function: func.FuncOp, index: int) -> str | None:
    """A parameter's name from its `onnx.name` or `tinycc.role` attribute."""
    if function.arg_attrs is None:
        return None
    attrs = function.arg_attrs.data[index].data
    for key in ("onnx.name", "tinycc.role"):
        if isinstance(attrs.get(key), StringAttr):
            return attrs[key].data  # type: ignore[union-attr]
    return None


def layer_comment(symbol: str, layer: Attribute | None) -> str:
    """The `tinycc.layer` dictionary as a comment: op, shape, MACs, live bytes."""
    if not isinstance(layer, DictionaryAttr):
        return ""
    entries = layer.data
    keys = [k for k in _LAYER_KEYS if k in entries]
    keys += sorted(k for k in entries if k not in _LAYER_KEYS)
    lines = [f"/* {symbol}"]
    lines += [
        f" *   {_LAYER_KEYS.get(k, k)}: {_attribute_text(entries[k])}" for k in keys
    ]
    return "\n".join(line.replace("*/", "* /") for line in lines) + "\n */\n"


def _attribute_text(attr: Attribute) -> str:
    if isinstance(attr, StringAttr):
        return attr.data
    if isinstance(attr, IntegerAttr):
        return str(attr.value.data)
    if isinstance(attr, FloatAttr):
        return repr(attr.value.data)
    if isinstance(attr, ArrayAttr):
        return "x".join(_attribute_text(a) for a in attr.data)
    if isinstance(attr, DenseArrayBase):
        return "x".join(str(v) for v in attr.get_values())
    return str(attr)
