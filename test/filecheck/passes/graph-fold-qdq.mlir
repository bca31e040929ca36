// RUN: tinycc-opt %s --split-input-file -p graph-fold-qdq | filecheck %s
// RUN: tinycc-opt %s --split-input-file -p graph-canonicalize,graph-fold-qdq | filecheck %s --check-prefix=CANON

// A QDQ conv: quantized input, per-channel int8 weights, int32 bias, all
// dequantized, and a quantize of the result. The conv takes the quantized
// values directly; properties and attributes stay.
// CHECK-LABEL: func.func @conv
// CHECK-NEXT:    %w = graph.constant @w : tensor<2x1x1x2x!q_w> = dense<{{\[\[\[\[}}1, 2]]], {{\[\[\[}}3, 4]]]]>
// CHECK-NEXT:    %b = graph.constant @b : tensor<2x!q_b> = dense<[10, -10]>
// CHECK-NEXT:    %c = graph.conv2d %x, %w, %b {onnx.node = "Conv_0", strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64, clamp_min = 0.000000e+00 : f32} : (tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-5>>, tensor<2x1x1x2x!q_w>, tensor<2x!q_b>) -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.2:0>>
// CHECK-NEXT:    %y = graph.dequantize %c
// CHECK-NEXT:    func.return %y
func.func @conv(%x: tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-5>>) -> tensor<1x2x2x2xf32> {
  %w = graph.constant @w : tensor<2x1x1x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0}>> = dense<[[[[1, 2]]], [[[3, 4]]]]>
  %b = graph.constant @b : tensor<2x!quant.uniform<i32:f32:0, {0.05:0, 0.025:0}>> = dense<[10, -10]>
  %xd = graph.dequantize %x : (tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-5>>) -> tensor<1x2x2x2xf32>
  %wd = graph.dequantize %w : (tensor<2x1x1x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0}>>) -> tensor<2x1x1x2xf32>
  %bd = graph.dequantize %b : (tensor<2x!quant.uniform<i32:f32:0, {0.05:0, 0.025:0}>>) -> tensor<2xf32>
  %c = graph.conv2d %xd, %wd, %bd {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64, clamp_min = 0.0 : f32, onnx.node = "Conv_0"} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %q = graph.quantize %c : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.2:0>>
  %y = graph.dequantize %q : (tensor<1x2x2x2x!quant.uniform<u8:f32, 0.2:0>>) -> tensor<1x2x2x2xf32>
  func.return %y : tensor<1x2x2x2xf32>
}

// -----

// A float bias is quantized at compile time: int32, scale s_in * s_w per
// output channel (0.1 * [0.5, 0.25]), zero point 0: round([1, -0.5, 0.0124] /
// [0.05, 0.025, 0.025]) = [20, -20, 0] (0.496 rounds to 0).
// CHECK-LABEL: func.func @fc_float_bias
// CHECK-NEXT:    %w = graph.constant @w : tensor<3x2x!q_w>
// CHECK-NEXT:    %b.q = graph.constant @b.q : tensor<3x!q_b_q> = dense<[20, -20, 0]>
// CHECK-NEXT:    %f = graph.fully_connected %x, %w, %b.q : (tensor<4x2x!quant.uniform<u8:f32, 0.1:128>>, tensor<3x2x!q_w>, tensor<3x!q_b_q>) -> tensor<4x3x!quant.uniform<i8:f32, 0.3:1>>
// CHECK-NEXT:    func.return %f
func.func @fc_float_bias(%x: tensor<4x2x!quant.uniform<u8:f32, 0.1:128>>) -> tensor<4x3x!quant.uniform<i8:f32, 0.3:1>> {
  %w = graph.constant @w : tensor<3x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0, 0.25:0}>> = dense<[[1, 2], [3, 4], [5, 6]]>
  %b = graph.constant @b : tensor<3xf32> = dense<[1.0, -0.5, 0.0124]>
  %xd = graph.dequantize %x : (tensor<4x2x!quant.uniform<u8:f32, 0.1:128>>) -> tensor<4x2xf32>
  %wd = graph.dequantize %w : (tensor<3x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0, 0.25:0}>>) -> tensor<3x2xf32>
  %f = graph.fully_connected %xd, %wd, %b : (tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %q = graph.quantize %f : (tensor<4x3xf32>) -> tensor<4x3x!quant.uniform<i8:f32, 0.3:1>>
  func.return %q : tensor<4x3x!quant.uniform<i8:f32, 0.3:1>>
}

// -----

// Per-tensor weights give a per-tensor bias (scale 0.1 * 0.2 in double
// precision).
// CHECK-LABEL: func.func @per_tensor_bias
// CHECK:         %b.q = graph.constant @b.q : tensor<2x!quant.uniform<i32:f32, 0.020000000000000004:0>> = dense<[50, -25]>
func.func @per_tensor_bias(%x: tensor<1x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.3:0>> {
  %w = graph.constant @w : tensor<2x2x!quant.uniform<i8:f32, 0.2:0>> = dense<[[1, 2], [3, 4]]>
  %b = graph.constant @b : tensor<2xf32> = dense<[1.0, -0.5]>
  %xd = graph.dequantize %x : (tensor<1x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x2xf32>
  %wd = graph.dequantize %w : (tensor<2x2x!quant.uniform<i8:f32, 0.2:0>>) -> tensor<2x2xf32>
  %f = graph.fully_connected %xd, %wd, %b : (tensor<1x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %q = graph.quantize %f : (tensor<1x2xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.3:0>>
  func.return %q : tensor<1x2x!quant.uniform<i8:f32, 0.3:0>>
}

// -----

// Data movement and elementwise ops fold the same way, one after the other;
// quantize(dequantize(x)) of one type cancels.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT:    %p = graph.max_pool2d %x {{.*}} : (tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:0>>
// CHECK-NEXT:    %r = graph.reshape %p : (tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x8x!quant.uniform<i8:f32, 0.1:0>>
// CHECK-NEXT:    %a = graph.add %r, %r : (tensor<1x8x!quant.uniform<i8:f32, 0.1:0>>, tensor<1x8x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x8x!quant.uniform<i8:f32, 0.2:-1>>
// CHECK-NEXT:    func.return %a, %x
func.func @chain(%x: tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:0>>) -> (tensor<1x8x!quant.uniform<i8:f32, 0.2:-1>>, tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:0>>) {
  %0 = graph.dequantize %x : (tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x4x4x2xf32>
  %p = graph.max_pool2d %0 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32>
  %1 = graph.quantize %p : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:0>>
  %2 = graph.dequantize %1 : (tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x2x2x2xf32>
  %r = graph.reshape %2 : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
  %3 = graph.quantize %r : (tensor<1x8xf32>) -> tensor<1x8x!quant.uniform<i8:f32, 0.1:0>>
  %4 = graph.dequantize %3 : (tensor<1x8x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x8xf32>
  %a = graph.add %4, %4 : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %5 = graph.quantize %a : (tensor<1x8xf32>) -> tensor<1x8x!quant.uniform<i8:f32, 0.2:-1>>
  %6 = graph.quantize %0 : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:0>>
  func.return %5, %6 : tensor<1x8x!quant.uniform<i8:f32, 0.2:-1>>, tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:0>>
}

// -----

// Data movement between a dequantize and its reader moves to the quantized
// side (a per-axis type's axis follows a transpose), so the reader folds.
// CHECK-LABEL: func.func @sink_dequantize
// CHECK-NEXT:    %w = graph.constant @w
// CHECK-NEXT:    %t = graph.transpose %w {perm = array<i64: 1, 0>} : (tensor<3x2x!q_w>) -> tensor<2x3x!q0>
// CHECK-NEXT:    %r = graph.reshape %x : (tensor<1x1x3x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x3x!quant.uniform<i8:f32, 0.1:0>>
// CHECK-NEXT:    %f = graph.fully_connected %r, %t : (tensor<1x3x!quant.uniform<i8:f32, 0.1:0>>, tensor<2x3x!q0>) -> tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>
// CHECK-NEXT:    %p = graph.dequantize %w
// CHECK-NEXT:    %s = graph.reshape %p : (tensor<3x2xf32>) -> tensor<6xf32>
// CHECK-NEXT:    func.return %f, %s
func.func @sink_dequantize(%x: tensor<1x1x3x!quant.uniform<i8:f32, 0.1:0>>) -> (tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>, tensor<6xf32>) {
  %w = graph.constant @w : tensor<3x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0, 0.125:0}>> = dense<[[1, 2], [3, 4], [5, 6]]>
  %wd = graph.dequantize %w : (tensor<3x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0, 0.125:0}>>) -> tensor<3x2xf32>
  %t = graph.transpose %wd {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %xd = graph.dequantize %x : (tensor<1x1x3x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x1x3xf32>
  %r = graph.reshape %xd : (tensor<1x1x3xf32>) -> tensor<1x3xf32>
  %f = graph.fully_connected %r, %t : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<1x2xf32>
  %q = graph.quantize %f : (tensor<1x2xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>
  // A reshape of a per-axis tensor stays on the float side.
  %p = graph.dequantize %w : (tensor<3x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0, 0.125:0}>>) -> tensor<3x2xf32>
  %s = graph.reshape %p : (tensor<3x2xf32>) -> tensor<6xf32>
  func.return %q, %s : tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>, tensor<6xf32>
}

// -----

// Two quantizes of one type both take the folded result.
// CHECK-LABEL: func.func @two_quantizes
// CHECK-NEXT:    %s = graph.sigmoid %x : (tensor<4x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<4x!quant.uniform<u8:f32, 0.00390625:0>>
// CHECK-NEXT:    func.return %s, %s
func.func @two_quantizes(%x: tensor<4x!quant.uniform<i8:f32, 0.1:0>>) -> (tensor<4x!quant.uniform<u8:f32, 0.00390625:0>>, tensor<4x!quant.uniform<u8:f32, 0.00390625:0>>) {
  %d = graph.dequantize %x : (tensor<4x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<4xf32>
  %s = graph.sigmoid %d : (tensor<4xf32>) -> tensor<4xf32>
  %q1 = graph.quantize %s : (tensor<4xf32>) -> tensor<4x!quant.uniform<u8:f32, 0.00390625:0>>
  %q2 = graph.quantize %s : (tensor<4xf32>) -> tensor<4x!quant.uniform<u8:f32, 0.00390625:0>>
  func.return %q1, %q2 : tensor<4x!quant.uniform<u8:f32, 0.00390625:0>>, tensor<4x!quant.uniform<u8:f32, 0.00390625:0>>
}

// -----

// Negative cases: quantizes of two different types; a result with a float
// user besides its quantize; an operand that is not dequantized; a
// requantization quantize(dequantize(x)) between different types. A
// dequantized constant feeding only float ops stays (a mixed graph).
// CHECK-LABEL: func.func @no_fold
// CHECK-NEXT:    %w = graph.constant @w
// CHECK-NEXT:    %d = graph.dequantize %x
// CHECK-NEXT:    %s = graph.sigmoid %d : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %q1 = graph.quantize %s
// CHECK-NEXT:    %q2 = graph.quantize %s
// CHECK-NEXT:    %t = graph.tanh %d : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %q3 = graph.quantize %t
// CHECK-NEXT:    %m = graph.mul %d, %f : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %q4 = graph.quantize %m
// CHECK-NEXT:    %q5 = graph.quantize %d : (tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.2:0>>
// CHECK-NEXT:    %wd = graph.dequantize %w
// CHECK-NEXT:    %e = graph.add %f, %wd : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    func.return %q1, %q2, %t, %q3, %q4, %q5, %e
func.func @no_fold(%x: tensor<4x!quant.uniform<i8:f32, 0.1:0>>, %f: tensor<4xf32>) -> (tensor<4x!quant.uniform<i8:f32, 0.1:0>>, tensor<4x!quant.uniform<i8:f32, 0.2:0>>, tensor<4xf32>, tensor<4x!quant.uniform<i8:f32, 0.1:0>>, tensor<4x!quant.uniform<i8:f32, 0.1:0>>, tensor<4x!quant.uniform<i8:f32, 0.2:0>>, tensor<4xf32>) {
  %w = graph.constant @w : tensor<4x!quant.uniform<i8:f32, 0.5:0>> = dense<[1, 2, 3, 4]>
  %d = graph.dequantize %x : (tensor<4x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<4xf32>
  %s = graph.sigmoid %d : (tensor<4xf32>) -> tensor<4xf32>
  %q1 = graph.quantize %s : (tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.1:0>>
  %q2 = graph.quantize %s : (tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.2:0>>
  %t = graph.tanh %d : (tensor<4xf32>) -> tensor<4xf32>
  %q3 = graph.quantize %t : (tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.1:0>>
  %m = graph.mul %d, %f : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %q4 = graph.quantize %m : (tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.1:0>>
  %q5 = graph.quantize %d : (tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.2:0>>
  %wd = graph.dequantize %w : (tensor<4x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<4xf32>
  %e = graph.add %f, %wd : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %q1, %q2, %t, %q3, %q4, %q5, %e : tensor<4x!quant.uniform<i8:f32, 0.1:0>>, tensor<4x!quant.uniform<i8:f32, 0.2:0>>, tensor<4xf32>, tensor<4x!quant.uniform<i8:f32, 0.1:0>>, tensor<4x!quant.uniform<i8:f32, 0.1:0>>, tensor<4x!quant.uniform<i8:f32, 0.2:0>>, tensor<4xf32>
}

// -----

// A dequantize with a float user and a quantized one: the quantized island
// folds, the dequantize stays for the float user.
// CHECK-LABEL: func.func @shared_dequantize
// CHECK-NEXT:    %d = graph.dequantize %x
// CHECK-NEXT:    %e = graph.exp %d : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %r = graph.relu %x : (tensor<4x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<4x!quant.uniform<i8:f32, 0.1:0>>
// CHECK-NEXT:    func.return %e, %r
func.func @shared_dequantize(%x: tensor<4x!quant.uniform<i8:f32, 0.1:0>>) -> (tensor<4xf32>, tensor<4x!quant.uniform<i8:f32, 0.1:0>>) {
  %d = graph.dequantize %x : (tensor<4x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<4xf32>
  %e = graph.exp %d : (tensor<4xf32>) -> tensor<4xf32>
  %r = graph.relu %d : (tensor<4xf32>) -> tensor<4xf32>
  %q = graph.quantize %r : (tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.1:0>>
  func.return %e, %q : tensor<4xf32>, tensor<4x!quant.uniform<i8:f32, 0.1:0>>
}

// -----

// An activation between the op and its quantize blocks folding on its own;
// graph-canonicalize fuses it first, then the conv folds with its clamp.
// CHECK-LABEL: func.func @activation_between
// CHECK:         %c = graph.conv2d %xd, %wd
// CHECK-NEXT:    %r = graph.clamp %c
// CHECK-NEXT:    %q = graph.quantize %r
// CANON-LABEL: func.func @activation_between
// CANON-NEXT:    %w = graph.constant @w
// CANON-NEXT:    %c = graph.conv2d %x, %w {{.*}}clamp_min = 0.000000e+00 : f32, clamp_max = 6.000000e+00 : f32} : (tensor<1x1x1x1x!quant.uniform<i8:f32, 0.1:0>>, tensor<1x1x1x1x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<1x1x1x1x!quant.uniform<i8:f32, 0.05:-128>>
// CANON-NEXT:    func.return %c
func.func @activation_between(%x: tensor<1x1x1x1x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x1x1x1x!quant.uniform<i8:f32, 0.05:-128>> {
  %w = graph.constant @w : tensor<1x1x1x1x!quant.uniform<i8:f32, 0.5:0>> = dense<3>
  %xd = graph.dequantize %x : (tensor<1x1x1x1x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x1x1x1xf32>
  %wd = graph.dequantize %w : (tensor<1x1x1x1x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<1x1x1x1xf32>
  %c = graph.conv2d %xd, %wd {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32>
  %r = graph.clamp %c {min = 0.0 : f32, max = 6.0 : f32} : (tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32>
  %q = graph.quantize %r : (tensor<1x1x1x1xf32>) -> tensor<1x1x1x1x!quant.uniform<i8:f32, 0.05:-128>>
  func.return %q : tensor<1x1x1x1x!quant.uniform<i8:f32, 0.05:-128>>
}
