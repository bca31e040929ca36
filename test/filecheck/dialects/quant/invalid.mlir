// RUN: tinycc-opt %s --split-input-file --parsing-diagnostics --verify-diagnostics | filecheck %s

// Zero points must fit the storage type.
func.func @f(%x: tensor<4x!quant.uniform<i8:f32, 0.5:128>>) {
  func.return
}
// CHECK: zero point 128 outside the i8 range

// -----
func.func @f(%x: tensor<4x!quant.uniform<u8:f32, 0.5:-1>>) {
  func.return
}
// CHECK: zero point -1 outside the u8 range

// -----
func.func @f(%x: tensor<4x!quant.uniform<i16:f32, 0.5:40000>>) {
  func.return
}
// CHECK: zero point 40000 outside the i16 range

// -----
func.func @f(%x: tensor<4x!quant.uniform<i8:f32:0, {0.5:0, 0.25:-200}>>) {
  func.return
}
// CHECK: zero point -200 outside the i8 range

// -----
// Scales must be positive.
func.func @f(%x: tensor<4x!quant.uniform<i8:f32, 0.0:0>>) {
  func.return
}
// CHECK: quant.uniform scale 0.0 is not positive

// -----
func.func @f(%x: tensor<4x!quant.uniform<u8:f32:0, {0.5:0, -0.25:0}>>) {
  func.return
}
// CHECK: quant.uniform scale -0.25 is not positive

// -----
// Parse errors point at the offending token.
func.func @f(%x: tensor<4x!quant.uniform<i4:f32, 0.5:0>>) {
  func.return
}
// CHECK: invalid.mlir:[[# @LINE - 3]]:42
// CHECK: Expected one of 'i16', 'i32', 'i8', 'u16', 'u8'

// -----
// A per-axis type lists its pairs in braces...
func.func @f(%x: tensor<4x!quant.uniform<i8:f32:0, 0.5:0>>) {
  func.return
}
// CHECK: invalid.mlir:[[# @LINE - 3]]:52
// CHECK: '{' expected

// -----
// ... a per-tensor one has exactly one pair, without braces.
func.func @f(%x: tensor<4x!quant.uniform<i8:f32, {0.5:0, 0.5:0}>>) {
  func.return
}
// CHECK: invalid.mlir:[[# @LINE - 3]]:50
// CHECK: integer or float literal expected

// -----
func.func @f(%x: tensor<4x!quant.uniform<i8:f32, 0.5>>) {
  func.return
}
// CHECK: invalid.mlir:[[# @LINE - 3]]:53
// CHECK: Expected ':'

// -----
func.func @f(%x: tensor<4x!quant.uniform<i8:f32:-1, {0.5:0}>>) {
  func.return
}
// CHECK: invalid.mlir:[[# @LINE - 3]]:49
// CHECK: Expected integer literal
