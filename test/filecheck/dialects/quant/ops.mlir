// RUN: tinycc-opt %s | filecheck %s
// RUN: %tinycc-opt-roundtrip | filecheck %s

// !quant.uniform<storage:expressed, scale:zero_point> per tensor, and
// !quant.uniform<storage:expressed:axis, {scale:zp, ...}> per axis.

// CHECK-LABEL: func.func @per_tensor
// CHECK-SAME: (%a: tensor<4x!quant.uniform<i8:f32, 0.0235:-128>>, %b: tensor<4x!quant.uniform<u8:f32, 0.5:255>>, %c: tensor<4x!quant.uniform<i16:f32, 3.0517578125e-05:0>>, %d: tensor<4x!quant.uniform<u16:f32, 2.0:65535>>, %e: tensor<4x!quant.uniform<i32:f32, 1.0e-06:0>>)
func.func @per_tensor(%a: tensor<4x!quant.uniform<i8:f32, 0.0235:-128>>, %b: tensor<4x!quant.uniform<u8:f32, 0.5:255>>, %c: tensor<4x!quant.uniform<i16:f32, 3.0517578125e-05:0>>, %d: tensor<4x!quant.uniform<u16:f32, 2:65535>>, %e: tensor<4x!quant.uniform<i32:f32, 1.0e-06:0>>) {
  func.return
}

// The axis may be any dimension; per-axis i32 is a per-channel bias.
// CHECK-LABEL: func.func @per_axis
// CHECK-SAME: (%w: tensor<3x1x1x2x!q0>, %v: tensor<2x3x!q1>, %b: tensor<3x!q2>)
func.func @per_axis(%w: tensor<3x1x1x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0, 0.125:0}>>, %v: tensor<2x3x!quant.uniform<u8:f32:1, {0.1:128, 0.2:0, 0.3:255}>>, %b: tensor<3x!quant.uniform<i32:f32:0, {0.0625:0, 0.03125:0, 0.015625:0}>>) {
  func.return
}

// Quantized constants hold storage integers.
// CHECK-LABEL: func.func @constants
func.func @constants() -> (tensor<4x!quant.uniform<i8:f32, 0.5:-1>>, tensor<2x2x!quant.uniform<u8:f32:0, {0.5:3, 0.25:4}>>, tensor<2x!quant.uniform<i32:f32, 0.001:0>>) {
  // CHECK-NEXT: %0 = graph.constant @q8 : tensor<4x!quant.uniform<i8:f32, 0.5:-1>> = dense<[-128, -1, 0, 127]>
  %0 = graph.constant @q8 : tensor<4x!quant.uniform<i8:f32, 0.5:-1>> = dense<[-128, -1, 0, 127]>
  // CHECK-NEXT: %1 = graph.constant @u8 : tensor<2x2x!q3> = dense<{{\[}}[0, 255], [3, 4]]>
  %1 = graph.constant @u8 : tensor<2x2x!quant.uniform<u8:f32:0, {0.5:3, 0.25:4}>> = dense<[[0, 255], [3, 4]]>
  // CHECK-NEXT: %2 = graph.constant @i32 : tensor<2x!quant.uniform<i32:f32, 0.001:0>> = dense<[-2147483648, 2147483647]>
  %2 = graph.constant @i32 : tensor<2x!quant.uniform<i32:f32, 0.001:0>> = dense<[-2147483648, 2147483647]>
  func.return %0, %1, %2 : tensor<4x!quant.uniform<i8:f32, 0.5:-1>>, tensor<2x2x!quant.uniform<u8:f32:0, {0.5:3, 0.25:4}>>, tensor<2x!quant.uniform<i32:f32, 0.001:0>>
}

// CHECK-LABEL: func.func @convert
func.func @convert(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK-NEXT: %0 = graph.quantize %x : (tensor<2x3xf32>) -> tensor<2x3x!q4>
  %0 = graph.quantize %x : (tensor<2x3xf32>) -> tensor<2x3x!quant.uniform<i8:f32:1, {0.1:0, 0.2:-5, 0.3:7}>>
  // CHECK-NEXT: %1 = graph.dequantize %0 : (tensor<2x3x!q4>) -> tensor<2x3xf32>
  %1 = graph.dequantize %0 : (tensor<2x3x!quant.uniform<i8:f32:1, {0.1:0, 0.2:-5, 0.3:7}>>) -> tensor<2x3xf32>
  // CHECK-NEXT: %2 = graph.quantize %1 : (tensor<2x3xf32>) -> tensor<2x3x!quant.uniform<i16:f32, 0.0001:0>>
  %2 = graph.quantize %1 : (tensor<2x3xf32>) -> tensor<2x3x!quant.uniform<i16:f32, 1.0e-4:0>>
  // CHECK-NEXT: %3 = graph.dequantize %2 : (tensor<2x3x!quant.uniform<i16:f32, 0.0001:0>>) -> tensor<2x3xf32>
  %3 = graph.dequantize %2 : (tensor<2x3x!quant.uniform<i16:f32, 0.0001:0>>) -> tensor<2x3xf32>
  func.return %3 : tensor<2x3xf32>
}
