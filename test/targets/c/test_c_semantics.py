"""Scalar semantics of the C translation against their definitions.

The oracles restate MLIR's definitions (IEEE 754 maximum/minimum, LLVM's
ordered/unordered predicates, exact constants) in numpy, independently of
how the emitter implements them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from c_testlib import lanewise_module, run_model

NAN, INF = float("nan"), float("inf")
X = np.array(
    [NAN, 1.0, NAN, 0.0, -0.0, 0.0, -0.0, INF, -INF, 2.5, -3.0, 1.0, 7.0, -1e-40],
    dtype=np.float32,
)
Y = np.array(
    [1.0, NAN, NAN, -0.0, 0.0, 0.0, -0.0, 1.0, 5.0, 2.5, 4.0, -1.0, INF, 1e-40],
    dtype=np.float32,
)


def ieee_maximum(a: float, b: float) -> float:
    """IEEE 754-2019 maximum: NaN-propagating, +0 above -0."""
    if math.isnan(a) or math.isnan(b):
        return NAN
    if a == b == 0:
        return 0.0 if math.copysign(1, a) > 0 or math.copysign(1, b) > 0 else -0.0
    return max(a, b)


def ieee_minimum(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return NAN
    if a == b == 0:
        return -0.0 if math.copysign(1, a) < 0 or math.copysign(1, b) < 0 else 0.0
    return min(a, b)


def same_floats(actual: np.ndarray, expected: np.ndarray) -> bool:
    """Equal bit for bit, except that any NaN matches any NaN."""
    expected = np.asarray(expected, dtype=np.float32)
    nan = np.isnan(expected)
    return bool(
        np.array_equal(np.isnan(actual), nan)
        and np.array_equal(actual[~nan].view(np.uint32), expected[~nan].view(np.uint32))
    )


# LLVM LangRef's fcmp: "o" predicates are false on NaN, "u" predicates true.
CMPF = {
    "false": lambda a, b, uno: np.zeros_like(uno),
    "oeq": lambda a, b, uno: a == b,
    "ogt": lambda a, b, uno: a > b,
    "oge": lambda a, b, uno: a >= b,
    "olt": lambda a, b, uno: a < b,
    "ole": lambda a, b, uno: a <= b,
    "one": lambda a, b, uno: ~uno & (a != b),
    "ord": lambda a, b, uno: ~uno,
    "ueq": lambda a, b, uno: uno | (a == b),
    "ugt": lambda a, b, uno: uno | (a > b),
    "uge": lambda a, b, uno: uno | (a >= b),
    "ult": lambda a, b, uno: uno | (a < b),
    "ule": lambda a, b, uno: uno | (a <= b),
    "une": lambda a, b, uno: uno | (a != b),
    "uno": lambda a, b, uno: uno,
    "true": lambda a, b, uno: np.ones_like(uno),
}


def test_float_selection_and_comparison(tmp_path: Path) -> None:
    snippets = [
        ("%r = arith.maximumf %a, %b : f32", "f32"),
        ("%r = arith.minimumf %a, %b : f32", "f32"),
        ("%r = arith.maxnumf %a, %b : f32", "f32"),
        ("%r = arith.minnumf %a, %b : f32", "f32"),
        ("%r = arith.negf %a : f32", "f32"),
    ] + [
        (f"%c = arith.cmpf {p}, %a, %b : f32\n%r = arith.extui %c : i1 to i8", "i8")
        for p in CMPF
    ]
    ir = lanewise_module("floats", "f32", len(X), snippets)
    outputs = [(X.shape, np.float32)] * 5 + [(X.shape, np.int8)] * len(CMPF)
    maximum, minimum, maxnum, minnum, negated, *compared = run_model(
        ir, "floats", [X, Y], outputs, tmp_path
    )
    pairs = list(zip(X.tolist(), Y.tolist(), strict=True))
    assert same_floats(maximum, [ieee_maximum(a, b) for a, b in pairs])
    assert same_floats(minimum, [ieee_minimum(a, b) for a, b in pairs])
    # maxNum/minNum return the number when one operand is NaN; the sign of a
    # zero result is unspecified.
    assert same_floats(np.abs(maxnum), np.abs(np.fmax(X, Y)))
    assert same_floats(np.abs(minnum), np.abs(np.fmin(X, Y)))
    flipped = (X.view(np.uint32) ^ np.uint32(0x80000000)).view(np.float32)
    assert same_floats(negated, flipped)  # negation flips the sign bit, of 0 too
    uno = np.isnan(X) | np.isnan(Y)
    for (predicate, oracle), result in zip(CMPF.items(), compared, strict=True):
        expected = oracle(X, Y, uno).astype(np.int8)
        np.testing.assert_array_equal(result, expected, err_msg=predicate)


MATH = {
    # op: (IR on %a, oracle, exact?)
    "exp": ("%r = math.exp %a : f32", np.exp, False),
    "tanh": ("%r = math.tanh %a : f32", np.tanh, False),
    "erf": ("%r = math.erf %a : f32", np.vectorize(math.erf), False),
    "sqrt": (
        "%s = math.absf %a : f32\n%r = math.sqrt %s : f32",
        lambda x: np.sqrt(abs(x)),
        False,
    ),
    "log": (
        "%s = math.absf %a : f32\n%o = arith.constant 1.0 : f32\n"
        "%t = arith.addf %s, %o : f32\n%r = math.log %t : f32",
        lambda x: np.log(np.float32(abs(x) + 1)),
        False,
    ),
    "rsqrt": (
        "%s = math.absf %a : f32\n%o = arith.constant 1.0 : f32\n"
        "%t = arith.addf %s, %o : f32\n%r = math.rsqrt %t : f32",
        lambda x: 1 / np.sqrt(np.float32(abs(x) + 1)),
        False,
    ),
    "floor": ("%r = math.floor %a : f32", np.floor, True),
    "ceil": ("%r = math.ceil %a : f32", np.ceil, True),
    "trunc": ("%r = math.trunc %a : f32", np.trunc, True),
    # math.round: halves away from zero; math.roundeven: halves to even.
    "round": (
        "%r = math.round %a : f32",
        lambda x: np.sign(x) * np.floor(abs(x) + 0.5),
        True,
    ),
    "roundeven": ("%r = math.roundeven %a : f32", np.rint, True),
    "abs": ("%r = math.absf %a : f32", np.abs, True),
}


def test_math_functions(tmp_path: Path) -> None:
    halves = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997]
    rng = np.random.default_rng(7)
    x = np.concatenate([halves, rng.uniform(-4, 4, 23)]).astype(np.float32)
    snippets = [(ops, "f32") for ops, _, _ in MATH.values()]
    ir = lanewise_module("maths", "f32", len(x), snippets)
    results = run_model(
        ir, "maths", [x, x], [(x.shape, np.float32)] * len(MATH), tmp_path
    )
    wide = x.astype(np.float64)
    for (name, (_, oracle, exact)), result in zip(MATH.items(), results, strict=True):
        expected = np.asarray(oracle(wide), dtype=np.float64)
        if exact:
            np.testing.assert_array_equal(
                result, expected.astype(np.float32), err_msg=name
            )
        else:  # a few ulp: libm's float functions are not correctly rounded
            np.testing.assert_allclose(
                result, expected, rtol=1.2e-6, atol=1e-7, err_msg=name
            )


F32_CONSTANTS = np.array(
    [
        0.1,
        1 / 3,
        -2.5,
        1e-45,  # the smallest subnormal
        1.17549435e-38,  # the smallest normal
        3.4028235e38,  # the largest finite
        6.0,
        -0.0,
        0.0009765625,
        16777215.0,
        1e10,
        123456.789,
        math.pi,
        -INF,
        INF,
    ],
    dtype=np.float32,
)


def test_constants_and_weights_are_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    weights = np.concatenate(
        [F32_CONSTANTS, rng.standard_normal(40).astype(np.float32)]
    )
    weights = np.concatenate(
        [weights, (rng.standard_normal(9) * 1e-39).astype(np.float32)]
    )
    int8 = np.arange(-128, 128, dtype=np.int8)
    int32 = np.array([-(2**31), 2**31 - 1, 0, -1, 123456789], dtype=np.int32)
    stores = "\n".join(
        f"  %k{i} = arith.constant 0x{v.view(np.uint32):08X} : f32\n"
        f"  %i{i} = arith.constant {i} : index\n"
        f"  memref.store %k{i}, %consts[%i{i}] : memref<{len(F32_CONSTANTS)}xf32>"
        for i, v in enumerate(F32_CONSTANTS)
    )
    int_stores = "\n".join(
        f"  %n{i} = arith.constant {v} : i32\n"
        f"  %j{i} = arith.constant {i} : index\n"
        f"  memref.store %n{i}, %ints[%j{i}] : memref<2xi32>"
        for i, v in enumerate([-(2**31), -128])
    )
    ir = f"""
{global_op("w", weights, "f32")}
{global_op("q", int8, "i8")}
{global_op("b", int32, "i32")}
func.func private @copy_f(%src: memref<{weights.size}xf32>, %dst: memref<{weights.size}xf32>) {{
{copy_loop(weights.size, "f32")}
}}
func.func private @copy_q(%src: memref<256xi8>, %dst: memref<256xi8>) {{
{copy_loop(256, "i8")}
}}
func.func private @copy_b(%src: memref<5xi32>, %dst: memref<5xi32>) {{
{copy_loop(5, "i32")}
}}
func.func private @constants(%consts: memref<{len(F32_CONSTANTS)}xf32>, %ints: memref<2xi32>) {{
{stores}
{int_stores}
  func.return
}}
func.func @exact_run(%arena: memref<16xi8>, %ow: memref<{weights.size}xf32>, %oq: memref<256xi8>, %ob: memref<5xi32>, %oc: memref<{len(F32_CONSTANTS)}xf32>, %oi: memref<2xi32>) {{
  %w = memref.get_global @w : memref<{weights.size}xf32>
  %q = memref.get_global @q : memref<256xi8>
  %b = memref.get_global @b : memref<5xi32>
  func.call @copy_f(%w, %ow) : (memref<{weights.size}xf32>, memref<{weights.size}xf32>) -> ()
  func.call @copy_q(%q, %oq) : (memref<256xi8>, memref<256xi8>) -> ()
  func.call @copy_b(%b, %ob) : (memref<5xi32>, memref<5xi32>) -> ()
  func.call @constants(%oc, %oi) : (memref<{len(F32_CONSTANTS)}xf32>, memref<2xi32>) -> ()
  func.return
}}
"""  # noqa: E501
    outputs = [
        (weights.shape, np.float32),
        ((256,), np.int8),
        ((5,), np.int32),
        (F32_CONSTANTS.shape, np.float32),
        ((2,), np.int32),
    ]
    got_w, got_q, got_b, got_c, got_i = run_model(ir, "exact", [], outputs, tmp_path)
    np.testing.assert_array_equal(got_w.view(np.uint32), weights.view(np.uint32))
    np.testing.assert_array_equal(got_q, int8)
    np.testing.assert_array_equal(got_b, int32)
    np.testing.assert_array_equal(got_c.view(np.uint32), F32_CONSTANTS.view(np.uint32))
    np.testing.assert_array_equal(got_i, [-(2**31), -128])


def global_op(name: str, array: np.ndarray, element: str) -> str:
    hex_data = np.ascontiguousarray(array).tobytes().hex().upper()
    type_ = f"{array.size}x{element}"
    return (
        f'"memref.global"() <{{sym_name = "{name}", sym_visibility = "private", '
        f'type = memref<{type_}>, initial_value = dense<"0x{hex_data}"> : '
        f"tensor<{type_}>, constant}}> : () -> ()"
    )


def copy_loop(n: int, element: str) -> str:
    return f"""  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant {n} : index
  scf.for %i = %c0 to %n step %c1 {{
    %v = memref.load %src[%i] : memref<{n}x{element}>
    memref.store %v, %dst[%i] : memref<{n}x{element}>
  }}
  func.return"""


def test_if_results_and_permuted_iter_args(tmp_path: Path) -> None:
    ir = """
func.func private @branches(%x: memref<6xf32>, %y: memref<6xf32>, %flags: memref<6xi8>, %z: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c6 = arith.constant 6 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %slope = arith.constant -0.5 : f32
  %false = arith.constant 0 : i8
  %true = arith.constant 1 : i8
  scf.for %i = %c0 to %c6 step %c1 {
    %v = memref.load %x[%i] : memref<6xf32>
    %positive = arith.cmpf ogt, %v, %zero : f32
    %r = scf.if %positive -> (f32) {
      %t = arith.mulf %v, %two : f32
      scf.yield %t : f32
    } else {
      %t = arith.mulf %v, %slope : f32
      scf.yield %t : f32
    }
    memref.store %r, %y[%i] : memref<6xf32>
    memref.store %false, %flags[%i] : memref<6xi8>
    %big = arith.cmpf ogt, %r, %one : f32
    scf.if %big {
      memref.store %true, %flags[%i] : memref<6xi8>
    }
  }
  %fib:2 = scf.for %k = %c0 to %c10 step %c1 iter_args(%a = %zero, %b = %one) -> (f32, f32) {
    %s = arith.addf %a, %b : f32
    scf.yield %b, %s : f32, f32
  }
  %swap:2 = scf.for %k = %c0 to %c3 step %c1 iter_args(%p = %one, %q = %two) -> (f32, f32) {
    scf.yield %q, %p : f32, f32
  }
  memref.store %fib#0, %z[%c0] : memref<4xf32>
  memref.store %fib#1, %z[%c1] : memref<4xf32>
  memref.store %swap#0, %z[%c2] : memref<4xf32>
  memref.store %swap#1, %z[%c3] : memref<4xf32>
  func.return
}
func.func @branchy_run(%arena: memref<16xi8>, %x: memref<6xf32>, %y: memref<6xf32>, %flags: memref<6xi8>, %z: memref<4xf32>) {
  func.call @branches(%x, %y, %flags, %z) : (memref<6xf32>, memref<6xf32>, memref<6xi8>, memref<4xf32>) -> ()
  func.return
}
"""  # noqa: E501
    x = np.array([-3.0, -0.5, 0.0, 0.25, 0.75, 4.0], dtype=np.float32)
    outputs = [((6,), np.float32), ((6,), np.int8), ((4,), np.float32)]
    y, flags, z = run_model(ir, "branchy", [x], outputs, tmp_path)
    expected = np.where(x > 0, x * 2, x * np.float32(-0.5))
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(flags, (expected > 1).astype(np.int8))
    a, b = 0.0, 1.0
    for _ in range(10):
        a, b = b, a + b
    np.testing.assert_array_equal(z, [a, b, 2.0, 1.0])  # three swaps of (1, 2)
