// RUN: tinycc-opt %s | filecheck %s
// RUN: tinycc-opt %s | tinycc-opt | filecheck %s

// Per-axis quantized types print once, as aliases named after the constant
// that produces them, and parse back.

// CHECK: !q_conv_w = !quant.uniform<i8:f32:0, {0.5:0, 0.25:0}>
// CHECK-NEXT: !q0 = !quant.uniform<i8:f32:1, {0.125:1, 0.0625:-1}>
// CHECK-NEXT: builtin.module {
func.func @main(%x: tensor<3x2xf32>) -> tensor<2xf32> {
  // CHECK: %w = graph.constant @conv.w : tensor<2x!q_conv_w> = dense<[1, -2]>
  %w = graph.constant @conv.w : tensor<2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0}>> = dense<[1, -2]>
  // CHECK-NEXT: %d = graph.dequantize %w : (tensor<2x!q_conv_w>) -> tensor<2xf32>
  %d = graph.dequantize %w : (tensor<2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0}>>) -> tensor<2xf32>
  // CHECK-NEXT: %q = graph.quantize %x : (tensor<3x2xf32>) -> tensor<3x2x!q0>
  %q = graph.quantize %x : (tensor<3x2xf32>) -> tensor<3x2x!quant.uniform<i8:f32:1, {0.125:1, 0.0625:-1}>>
  func.return %d : tensor<2xf32>
}

