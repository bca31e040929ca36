// RUN: tinycc-opt %s | filecheck %s
// RUN: %tinycc-opt-roundtrip | filecheck %s
// RUN: tinycc-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// Every graph op in its custom syntax; the second RUN line prints the generic
// form and parses it back, which must give the same IR.

// CHECK-LABEL: func.func @linear
func.func @linear(%x: tensor<1x8x8x4xf32>, %w: tensor<6x3x3x4xf32>, %dw: tensor<8x3x3x1xf32>, %b: tensor<6xf32>, %v: tensor<2x5x4xf32>, %fw: tensor<3x4xf32>, %fb: tensor<3xf32>, %m: tensor<2x4x7xf32>) {
  // CHECK-NEXT: %0 = graph.conv2d %x, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>, tensor<6xf32>) -> tensor<1x8x8x6xf32>
  // GENERIC: %0 = "graph.conv2d"(%x, %w, %b) <{strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64}> : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>, tensor<6xf32>) -> tensor<1x8x8x6xf32>
  %0 = graph.conv2d %x, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>, tensor<6xf32>) -> tensor<1x8x8x6xf32>
  // CHECK-NEXT: %1 = graph.conv2d %x, %w {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 1, 1>, groups = 1 : i64, clamp_min = 0.000000e+00 : f32, clamp_max = 6.000000e+00 : f32} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>) -> tensor<1x4x4x6xf32>
  %1 = graph.conv2d %x, %w {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 1, 1>, groups = 1 : i64, clamp_min = 0.0 : f32, clamp_max = 6.0 : f32} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>) -> tensor<1x4x4x6xf32>
  // Depthwise, channel multiplier 2, dilated.
  // CHECK-NEXT: %2 = graph.conv2d %x, %dw {strides = array<i64: 1, 1>, dilations = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, groups = 4 : i64} : (tensor<1x8x8x4xf32>, tensor<8x3x3x1xf32>) -> tensor<1x4x4x8xf32>
  %2 = graph.conv2d %x, %dw {strides = array<i64: 1, 1>, dilations = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, groups = 4 : i64} : (tensor<1x8x8x4xf32>, tensor<8x3x3x1xf32>) -> tensor<1x4x4x8xf32>
  // CHECK-NEXT: %3 = graph.fully_connected %v, %fw, %fb {clamp_min = 0.000000e+00 : f32} : (tensor<2x5x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x5x3xf32>
  %3 = graph.fully_connected %v, %fw, %fb {clamp_min = 0.0 : f32} : (tensor<2x5x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x5x3xf32>
  // CHECK-NEXT: %4 = graph.fully_connected %v, %fw : (tensor<2x5x4xf32>, tensor<3x4xf32>) -> tensor<2x5x3xf32>
  %4 = graph.fully_connected %v, %fw : (tensor<2x5x4xf32>, tensor<3x4xf32>) -> tensor<2x5x3xf32>
  // CHECK-NEXT: %5 = graph.matmul %v, %m : (tensor<2x5x4xf32>, tensor<2x4x7xf32>) -> tensor<2x5x7xf32>
  %5 = graph.matmul %v, %m : (tensor<2x5x4xf32>, tensor<2x4x7xf32>) -> tensor<2x5x7xf32>
  // CHECK-NEXT: %6 = graph.matmul %fb, %fw : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<4xf32>
  %6 = graph.matmul %fb, %fw : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<4xf32>
  func.return
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<2x3xf32>, %r: tensor<3xf32>, %s: tensor<1xf32>) {
  // CHECK-NEXT: %0 = graph.add %a, %r : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = graph.add %a, %r : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %1 = graph.sub %r, %a {clamp_min = -1.000000e+00 : f32, clamp_max = 1.000000e+00 : f32} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = graph.sub %r, %a {clamp_min = -1.0 : f32, clamp_max = 1.0 : f32} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %2 = graph.mul %a, %a {clamp_max = 6.000000e+00 : f32} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = graph.mul %a, %a {clamp_max = 6.0 : f32} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %3 = graph.div %a, %s : (tensor<2x3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
  %3 = graph.div %a, %s : (tensor<2x3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %4 = graph.prelu %a, %r : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = graph.prelu %a, %r : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %5 = graph.relu %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = graph.relu %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %6 = graph.sigmoid %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = graph.sigmoid %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %7 = graph.tanh %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %7 = graph.tanh %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %8 = graph.exp %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %8 = graph.exp %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %9 = graph.hard_swish %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %9 = graph.hard_swish %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %10 = graph.clamp %a {min = 0.000000e+00 : f32, max = 6.000000e+00 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %10 = graph.clamp %a {min = 0.0 : f32, max = 6.0 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %11 = graph.leaky_relu %a {alpha = 1.000000e-01 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %11 = graph.leaky_relu %a {alpha = 0.1 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %12 = graph.hard_sigmoid %a {alpha = 2.000000e-01 : f32, beta = 5.000000e-01 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %12 = graph.hard_sigmoid %a {alpha = 0.2 : f32, beta = 0.5 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %13 = graph.gelu %a {approximate = "tanh"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %13 = graph.gelu %a {approximate = "tanh"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %14 = graph.softmax %a {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %14 = graph.softmax %a {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %15 = graph.log_softmax %a {axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %15 = graph.log_softmax %a {axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// CHECK-LABEL: func.func @pooling
func.func @pooling(%x: tensor<1x7x7x2xf32>) {
  // CHECK-NEXT: %0 = graph.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode} : (tensor<1x7x7x2xf32>) -> tensor<1x3x3x2xf32>
  // GENERIC: "graph.max_pool2d"(%x) <{kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode}>
  %0 = graph.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode} : (tensor<1x7x7x2xf32>) -> tensor<1x3x3x2xf32>
  // CHECK-NEXT: %1 = graph.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 2, 2>} : (tensor<1x7x7x2xf32>) -> tensor<1x7x7x2xf32>
  %1 = graph.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 2, 2>} : (tensor<1x7x7x2xf32>) -> tensor<1x7x7x2xf32>
  // CHECK-NEXT: %2 = graph.avg_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, count_include_pad} : (tensor<1x7x7x2xf32>) -> tensor<1x4x4x2xf32>
  %2 = graph.avg_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, count_include_pad} : (tensor<1x7x7x2xf32>) -> tensor<1x4x4x2xf32>
  // CHECK-NEXT: %3 = graph.global_avg_pool %x : (tensor<1x7x7x2xf32>) -> tensor<1x1x1x2xf32>
  %3 = graph.global_avg_pool %x : (tensor<1x7x7x2xf32>) -> tensor<1x1x1x2xf32>
  // CHECK-NEXT: %4 = graph.global_max_pool %x : (tensor<1x7x7x2xf32>) -> tensor<1x1x1x2xf32>
  %4 = graph.global_max_pool %x : (tensor<1x7x7x2xf32>) -> tensor<1x1x1x2xf32>
  func.return
}

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>) {
  // CHECK-NEXT: %0 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %0 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  // CHECK-NEXT: %1 = graph.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %1 = graph.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // CHECK-NEXT: %2 = graph.concat %x, %y, %x {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x3x4xf32>) -> tensor<2x11x4xf32>
  %2 = graph.concat %x, %y, %x {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x3x4xf32>) -> tensor<2x11x4xf32>
  // CHECK-NEXT: %3 = graph.pad %x {pads = array<i64: 0, 1, 2, 0, 3, 0>, value = -1.000000e+00 : f32} : (tensor<2x3x4xf32>) -> tensor<2x7x6xf32>
  %3 = graph.pad %x {pads = array<i64: 0, 1, 2, 0, 3, 0>, value = -1.0 : f32} : (tensor<2x3x4xf32>) -> tensor<2x7x6xf32>
  // CHECK-NEXT: %4 = graph.slice %x {starts = array<i64: 0, 2, 1>, ends = array<i64: 2, -1, 4>, steps = array<i64: 1, -1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x2xf32>
  %4 = graph.slice %x {starts = array<i64: 0, 2, 1>, ends = array<i64: 2, -1, 4>, steps = array<i64: 1, -1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x2xf32>
  // CHECK-NEXT: %5 = graph.reduce_mean %x {axes = array<i64: 1>, keepdims} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %5 = graph.reduce_mean %x {axes = array<i64: 1>, keepdims} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  // CHECK-NEXT: %6 = graph.reduce_sum %x {axes = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  %6 = graph.reduce_sum %x {axes = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  // CHECK-NEXT: %7 = graph.reduce_max %x {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  %7 = graph.reduce_max %x {axes = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
  func.return
}

// CHECK-LABEL: func.func @normalization
func.func @normalization(%x: tensor<1x4x4x3xf32>, %p: tensor<3xf32>) {
  // CHECK-NEXT: %0 = graph.batch_norm %x, %p, %p, %p, %p {epsilon = 1.000000e-05 : f32} : (tensor<1x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x4x4x3xf32>
  %0 = graph.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x4x4x3xf32>
  // CHECK-NEXT: %1 = graph.resize %x {mode = "nearest", coordinate_mode = "asymmetric", nearest_mode = "floor", scales = array<f64: 2.000000e+00, 2.000000e+00>} : (tensor<1x4x4x3xf32>) -> tensor<1x8x8x3xf32>
  %1 = graph.resize %x {mode = "nearest", coordinate_mode = "asymmetric", nearest_mode = "floor", scales = array<f64: 2.0, 2.0>} : (tensor<1x4x4x3xf32>) -> tensor<1x8x8x3xf32>
  // CHECK-NEXT: %2 = graph.resize %x {mode = "linear", coordinate_mode = "half_pixel", nearest_mode = "round_prefer_floor", scales = array<f64: 1.500000e+00, 5.000000e-01>} : (tensor<1x4x4x3xf32>) -> tensor<1x6x2x3xf32>
  %2 = graph.resize %x {mode = "linear", coordinate_mode = "half_pixel", nearest_mode = "round_prefer_floor", scales = array<f64: 1.5, 0.5>} : (tensor<1x4x4x3xf32>) -> tensor<1x6x2x3xf32>
  func.return
}

// Quantized tensors go through the same ops; the type carries scale and zero
// point.
// CHECK-LABEL: func.func @quantized
func.func @quantized(%x: tensor<1x4x4x2xf32>, %w: tensor<3x1x1x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0, 0.125:0}>>, %b: tensor<3x!quant.uniform<i32:f32:0, {0.0625:0, 0.03125:0, 0.015625:0}>>) -> tensor<1x4x4x3xf32> {
  // CHECK-NEXT: %0 = graph.quantize %x : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.125:-3>>
  %0 = graph.quantize %x : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.125:-3>>
  // CHECK-NEXT: %1 = graph.conv2d %0, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64, clamp_min = 0.000000e+00 : f32} : (tensor<1x4x4x2x!quant.uniform<i8:f32, 0.125:-3>>, tensor<3x1x1x2x!q0>, tensor<3x!q1>) -> tensor<1x4x4x3x!quant.uniform<u8:f32, 0.05:0>>
  %1 = graph.conv2d %0, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64, clamp_min = 0.0 : f32} : (tensor<1x4x4x2x!quant.uniform<i8:f32, 0.125:-3>>, tensor<3x1x1x2x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0, 0.125:0}>>, tensor<3x!quant.uniform<i32:f32:0, {0.0625:0, 0.03125:0, 0.015625:0}>>) -> tensor<1x4x4x3x!quant.uniform<u8:f32, 0.05:0>>
  // CHECK-NEXT: %2 = graph.dequantize %1 : (tensor<1x4x4x3x!quant.uniform<u8:f32, 0.05:0>>) -> tensor<1x4x4x3xf32>
  %2 = graph.dequantize %1 : (tensor<1x4x4x3x!quant.uniform<u8:f32, 0.05:0>>) -> tensor<1x4x4x3xf32>
  // CHECK-NEXT: func.return %2 : tensor<1x4x4x3xf32>
  func.return %2 : tensor<1x4x4x3xf32>
}

// Extra attributes (the importer's `onnx.node`) survive next to the
// properties.
// CHECK-LABEL: func.func @attributes
func.func @attributes(%a: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: %0 = graph.relu %a {onnx.node = "Relu_0"} : (tensor<4xf32>) -> tensor<4xf32>
  // GENERIC: %0 = "graph.relu"(%a) {onnx.node = "Relu_0"} : (tensor<4xf32>) -> tensor<4xf32>
  %0 = graph.relu %a {onnx.node = "Relu_0"} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// CHECK-LABEL: func.func @pad_modes
func.func @pad_modes(%x: tensor<1x4xf32>) {
  // CHECK-NEXT: %0 = graph.pad %x {pads = array<i64: 0, 3, 0, 3>, value = 0.000000e+00 : f32, mode = "reflect"} : (tensor<1x4xf32>) -> tensor<1x10xf32>
  %0 = graph.pad %x {pads = array<i64: 0, 3, 0, 3>, value = 0.0 : f32, mode = "reflect"} : (tensor<1x4xf32>) -> tensor<1x10xf32>
  // CHECK-NEXT: %1 = graph.pad %x {pads = array<i64: 1, 5, 0, 0>, value = 0.000000e+00 : f32, mode = "edge"} : (tensor<1x4xf32>) -> tensor<2x9xf32>
  %1 = graph.pad %x {pads = array<i64: 1, 5, 0, 0>, value = 0.0 : f32, mode = "edge"} : (tensor<1x4xf32>) -> tensor<2x9xf32>
  func.return
}
