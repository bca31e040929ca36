// RUN: tinycc-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Every graph op rejects malformed IR with a message naming the problem.

// Constants: the data must match the result type.
func.func @f() {
  %0 = "graph.constant"() <{sym_name = "c", value = dense<[1.0, 2.0]> : tensor<2xf32>}> : () -> tensor<3xf32>
  func.return
}
// CHECK: graph.constant @c: data shape [2] differs from result [3]

// -----
func.func @f() {
  %0 = "graph.constant"() <{sym_name = "c", value = dense<[1, 2]> : tensor<2xi8>}> : () -> tensor<2xf32>
  func.return
}
// CHECK: graph.constant @c: data of type i8 for a tensor of f32

// -----
// A quantized constant stores its storage integers, not reals.
func.func @f() {
  %0 = "graph.constant"() <{sym_name = "q", value = dense<[1.0, 2.0]> : tensor<2xf32>}> : () -> tensor<2x!quant.uniform<i8:f32, 0.5:0>>
  func.return
}
// CHECK: graph.constant @q: data of type f32 for a tensor of !quant.uniform<i8:f32, 0.5:0>

// -----
func.func @f(%x: tensor<1x8x8x4xf32>, %w: tensor<6x3x3x4xf32>) {
  %0 = graph.conv2d %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>) -> tensor<1x8x8x6xf32>
  func.return
}
// CHECK: graph.conv2d: result shape [1, 8, 8, 6] but the operands give [1, 6, 6, 6]

// -----
func.func @f(%x: tensor<1x8x8x4xf32>, %w: tensor<6x3x3x4xf32>) {
  %0 = graph.conv2d %x, %w {strides = array<i64: 0, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: graph.conv2d: strides/dilations >= 1, pads >= 0

// -----
func.func @f(%x: tensor<1x8x8x4xf32>, %w: tensor<6x3x3x4xf32>) {
  %0 = graph.conv2d %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>) -> tensor<1x8x8x6xf32>
  func.return
}
// CHECK: graph.conv2d: pads needs 4 values, got 2

// -----
func.func @f(%x: tensor<1x8x8x4xf32>, %w: tensor<6x3x3x4xf32>) {
  %0 = graph.conv2d %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: input has 4 channels but weight expects 4 x 2 groups

// -----
func.func @f(%x: tensor<1x8x8x4xf32>, %w: tensor<6x3x3x4xf32>, %b: tensor<4xf32>) {
  %0 = graph.conv2d %x, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>, tensor<4xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: graph.conv2d: bias must have shape [6]

// -----
func.func @f(%x: tensor<8x8x4xf32>, %w: tensor<6x3x3x4xf32>) {
  %0 = graph.conv2d %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<8x8x4xf32>, tensor<6x3x3x4xf32>) -> tensor<6x6x6xf32>
  func.return
}
// CHECK: graph.conv2d: input and weight must be 4-D

// -----
func.func @f(%x: tensor<1x2x2x4xf32>, %w: tensor<6x3x3x4xf32>) {
  %0 = graph.conv2d %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x2x2x4xf32>, tensor<6x3x3x4xf32>) -> tensor<1x1x1x6xf32>
  func.return
}
// CHECK: window of extent 3 does not fit input 2 with pads 0+0

// -----
func.func @f(%x: tensor<1x8x8x4xf32>, %w: tensor<6x3x3x4xf32>) {
  %0 = graph.conv2d %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64, clamp_min = 6.0 : f32, clamp_max = 0.0 : f32} : (tensor<1x8x8x4xf32>, tensor<6x3x3x4xf32>) -> tensor<1x6x6x6xf32>
  func.return
}
// CHECK: graph.conv2d: clamp_min above clamp_max

// -----
func.func @f(%x: tensor<2x4xf32>, %w: tensor<3x5xf32>) {
  %0 = graph.fully_connected %x, %w : (tensor<2x4xf32>, tensor<3x5xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.fully_connected: weight [3, 5] does not fit input [2, 4]

// -----
func.func @f(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) {
  %0 = graph.fully_connected %x, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.fully_connected: bias must have shape [3]

// -----
func.func @f(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>) {
  %0 = graph.fully_connected %x, %w : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: graph.fully_connected: result shape [2, 4] but the operands give [2, 3]

// -----
func.func @f(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  %0 = graph.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  func.return
}
// CHECK: matmul inner dimensions differ: [2, 3] @ [4, 5]

// -----
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) {
  %0 = graph.matmul %a, %b : (tensor<2x3xf32>, tensor<3x5xf32>) -> tensor<5x2xf32>
  func.return
}
// CHECK: graph.matmul: result shape [5, 2] but the operands give [2, 5]

// -----
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2xf32>) {
  %0 = graph.add %a, %b : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: shapes [2, 3] and [2] do not broadcast

// -----
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  %0 = graph.add %a, %b {clamp_min = 1.0 : f32, clamp_max = -1.0 : f32} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.add: clamp_min above clamp_max

// -----
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  %0 = graph.sub %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  func.return
}
// CHECK: graph.sub: result shape [3] but the operands give [2, 3]

// -----
func.func @f(%a: tensor<2x3xf32>, %b: tensor<1x3xf32>) {
  %0 = graph.mul %a, %b : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<1x3xf32>
  func.return
}
// CHECK: graph.mul: result shape [1, 3] but the operands give [2, 3]

// -----
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x1x3xf32>) {
  %0 = graph.div %a, %b : (tensor<2x3xf32>, tensor<2x1x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.div: result shape [2, 3] but the operands give [2, 2, 3]

// -----
func.func @f(%x: tensor<2x3xf32>, %s: tensor<2x2x3xf32>) {
  %0 = graph.prelu %x, %s : (tensor<2x3xf32>, tensor<2x2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.prelu: slope must broadcast to the input

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.relu %a : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}
// CHECK: graph.relu: result shape [3, 2] but the operands give [2, 3]

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.sigmoid %a : (tensor<2x3xf32>) -> tensor<6xf32>
  func.return
}
// CHECK: graph.sigmoid: result shape [6] but the operands give [2, 3]

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.tanh %a : (tensor<2x3xf32>) -> tensor<2x3x1xf32>
  func.return
}
// CHECK: graph.tanh: result shape [2, 3, 1] but the operands give [2, 3]

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.exp %a : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return
}
// CHECK: graph.exp: result shape [2, 2] but the operands give [2, 3]

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.hard_swish %a : (tensor<2x3xf32>) -> tensor<3xf32>
  func.return
}
// CHECK: graph.hard_swish: result shape [3] but the operands give [2, 3]

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.clamp %a {min = 6.0 : f32, max = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.clamp: min above max

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.clamp %a {min = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: property 'max' expected in operation 'graph.clamp'

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.leaky_relu %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: property 'alpha' expected in operation 'graph.leaky_relu'

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.hard_sigmoid %a {alpha = 0.2 : f32, beta = 0.5 : f32} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  func.return
}
// CHECK: graph.hard_sigmoid: result shape [3, 2] but the operands give [2, 3]

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.gelu %a {approximate = "erf"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.gelu: approximate must be one of none, tanh, got 'erf'

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.softmax %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.softmax: axes [2] invalid for rank 2

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.log_softmax %a {axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.log_softmax: axes [-1] invalid for rank 2

// -----
func.func @f(%x: tensor<1x7x7x2xf32>) {
  %0 = graph.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 2, 0, 0, 0>} : (tensor<1x7x7x2xf32>) -> tensor<1x8x6x2xf32>
  func.return
}
// CHECK: graph.max_pool2d: padding must be smaller than the kernel

// -----
func.func @f(%x: tensor<1x7x7x2xf32>) {
  %0 = graph.max_pool2d %x {kernel = array<i64: 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x7x7x2xf32>) -> tensor<1x6x6x2xf32>
  func.return
}
// CHECK: graph.max_pool2d: kernel needs 2 values, got 1

// -----
// ceil_mode adds the partial window at the end.
func.func @f(%x: tensor<1x7x7x2xf32>) {
  %0 = graph.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode} : (tensor<1x7x7x2xf32>) -> tensor<1x3x3x2xf32>
  func.return
}
// CHECK: graph.max_pool2d: result shape [1, 3, 3, 2] but the operands give [1, 4, 4, 2]

// -----
func.func @f(%x: tensor<1x7x7x2xf32>) {
  %0 = graph.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x7x7x2xf32>) -> tensor<1x6x6x2xf32>
  func.return
}
// CHECK: graph.avg_pool2d: kernel/strides >= 1, pads >= 0

// -----
func.func @f(%x: tensor<7x7x2xf32>) {
  %0 = graph.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<7x7x2xf32>) -> tensor<6x6x2xf32>
  func.return
}
// CHECK: graph.avg_pool2d: input must be 4-D NHWC

// -----
func.func @f(%x: tensor<1x7x7x2xf32>) {
  %0 = graph.global_avg_pool %x : (tensor<1x7x7x2xf32>) -> tensor<1x2xf32>
  func.return
}
// CHECK: graph.global_avg_pool: result shape [1, 2] but the operands give [1, 1, 1, 2]

// -----
func.func @f(%x: tensor<7x2xf32>) {
  %0 = graph.global_max_pool %x : (tensor<7x2xf32>) -> tensor<1x1x1x2xf32>
  func.return
}
// CHECK: graph.global_max_pool: input must be 4-D NHWC

// -----
func.func @f(%x: tensor<2x3xf32>) {
  %0 = graph.reshape %x : (tensor<2x3xf32>) -> tensor<7xf32>
  func.return
}
// CHECK: graph.reshape: [2, 3] and [7] differ in size

// -----
func.func @f(%x: tensor<2x3x4xf32>) {
  %0 = graph.transpose %x {perm = array<i64: 0, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<2x2x3xf32>
  func.return
}
// CHECK: graph.transpose: [0, 0, 1] is not a permutation

// -----
func.func @f(%x: tensor<2x3x4xf32>) {
  %0 = graph.transpose %x {perm = array<i64: 2, 1, 0>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  func.return
}
// CHECK: graph.transpose: result shape [2, 3, 4] but the operands give [4, 3, 2]

// -----
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) {
  %0 = graph.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x6xf32>
  func.return
}
// CHECK: graph.concat: shapes [[2, 3], [3, 3]] differ off axis 1

// -----
func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.concat %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.concat: axes [2] invalid for rank 2

// -----
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  %0 = graph.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x6xf32>
  func.return
}
// CHECK: graph.concat: result shape [4, 6] but the operands give [4, 3]

// -----
func.func @f(%x: tensor<2x3xf32>) {
  %0 = graph.pad %x {pads = array<i64: 0, -1, 0, 0>, value = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return
}
// CHECK: graph.pad: pads must be non-negative (use slice)

// -----
func.func @f(%x: tensor<2x3xf32>) {
  %0 = graph.pad %x {pads = array<i64: 1, 1>, value = 0.0 : f32} : (tensor<2x3xf32>) -> tensor<3x4xf32>
  func.return
}
// CHECK: graph.pad: pads needs 4 values, got 2

// -----
func.func @f(%x: tensor<4xf32>) {
  %0 = graph.slice %x {starts = array<i64: 0>, ends = array<i64: 4>, steps = array<i64: 0>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return
}
// CHECK: graph.slice: steps must be non-zero

// -----
func.func @f(%x: tensor<4xf32>) {
  %0 = graph.slice %x {starts = array<i64: -3>, ends = array<i64: 4>, steps = array<i64: 1>} : (tensor<4xf32>) -> tensor<3xf32>
  func.return
}
// CHECK: graph.slice: starts/ends must be normalized

// -----
func.func @f(%x: tensor<4xf32>) {
  %0 = graph.slice %x {starts = array<i64: 0>, ends = array<i64: 4>, steps = array<i64: 2>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return
}
// CHECK: graph.slice: result shape [4] but the operands give [2]

// -----
func.func @f(%x: tensor<2x3xf32>) {
  %0 = graph.reduce_mean %x {axes = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  func.return
}
// CHECK: graph.reduce_mean: axes [1, 1] invalid for rank 2

// -----
func.func @f(%x: tensor<2x3xf32>) {
  %0 = graph.reduce_sum %x {axes = array<i64: 1>, keepdims} : (tensor<2x3xf32>) -> tensor<2xf32>
  func.return
}
// CHECK: graph.reduce_sum: result shape [2] but the operands give [2, 1]

// -----
func.func @f(%x: tensor<2x3xf32>) {
  %0 = graph.reduce_max %x {axes = array<i64: 3>} : (tensor<2x3xf32>) -> tensor<2xf32>
  func.return
}
// CHECK: graph.reduce_max: axes [3] invalid for rank 2

// -----
func.func @f(%x: tensor<1x4x4x3xf32>, %p: tensor<3xf32>, %q: tensor<4xf32>) {
  %0 = graph.batch_norm %x, %p, %p, %q, %p {epsilon = 1.0e-05 : f32} : (tensor<1x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<1x4x4x3xf32>
  func.return
}
// CHECK: graph.batch_norm: parameters must have shape [3]

// -----
func.func @f(%x: tensor<1x4x4x3xf32>) {
  %0 = graph.resize %x {mode = "cubic", coordinate_mode = "asymmetric", nearest_mode = "floor", scales = array<f64: 2.0, 2.0>} : (tensor<1x4x4x3xf32>) -> tensor<1x8x8x3xf32>
  func.return
}
// CHECK: graph.resize: mode must be one of nearest, linear, got 'cubic'

// -----
func.func @f(%x: tensor<1x4x4x3xf32>) {
  %0 = graph.resize %x {mode = "nearest", coordinate_mode = "tf_crop_and_resize", nearest_mode = "floor", scales = array<f64: 2.0, 2.0>} : (tensor<1x4x4x3xf32>) -> tensor<1x8x8x3xf32>
  func.return
}
// CHECK: graph.resize: coordinate_mode must be one of half_pixel, pytorch_half_pixel, align_corners, asymmetric, half_pixel_symmetric, got 'tf_crop_and_resize'

// -----
func.func @f(%x: tensor<1x4x4x3xf32>) {
  %0 = graph.resize %x {mode = "nearest", coordinate_mode = "asymmetric", nearest_mode = "round", scales = array<f64: 2.0, 2.0>} : (tensor<1x4x4x3xf32>) -> tensor<1x8x8x3xf32>
  func.return
}
// CHECK: graph.resize: nearest_mode must be one of round_prefer_floor, round_prefer_ceil, floor, ceil, got 'round'

// -----
func.func @f(%x: tensor<1x4x4x3xf32>) {
  %0 = graph.resize %x {mode = "nearest", coordinate_mode = "asymmetric", nearest_mode = "floor", scales = array<f64: 1.0, 2.0, 2.0>} : (tensor<1x4x4x3xf32>) -> tensor<1x8x8x3xf32>
  func.return
}
// CHECK: graph.resize: scales needs 2 values, got 3

// -----
func.func @f(%x: tensor<1x4x4x3xf32>) {
  %0 = graph.resize %x {mode = "linear", coordinate_mode = "half_pixel", nearest_mode = "floor", scales = array<f64: 2.0, 2.0>} : (tensor<1x4x4x3xf32>) -> tensor<1x8x8x6xf32>
  func.return
}
// CHECK: graph.resize: only H and W may change

// -----
func.func @f(%x: tensor<4x!quant.uniform<i8:f32, 0.5:0>>) {
  %0 = graph.quantize %x : (tensor<4x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<4x!quant.uniform<i8:f32, 0.25:0>>
  func.return
}
// CHECK: graph.quantize: takes a real tensor, gives a quantized one

// -----
func.func @f(%x: tensor<4xf32>) {
  %0 = graph.quantize %x : (tensor<4xf32>) -> tensor<5x!quant.uniform<i8:f32, 0.25:0>>
  func.return
}
// CHECK: graph.quantize: result shape [5] but the operands give [4]

// -----
func.func @f(%x: tensor<4xf32>) {
  %0 = graph.dequantize %x : (tensor<4xf32>) -> tensor<4xf32>
  func.return
}
// CHECK: graph.dequantize: takes a quantized tensor, gives a real one

// -----
func.func @f(%x: tensor<2x3xf32>) {
  %0 = graph.pad %x {pads = array<i64: 0, 3, 0, 0>, value = 0.0 : f32, mode = "reflect"} : (tensor<2x3xf32>) -> tensor<2x6xf32>
  func.return
}
// CHECK: graph.pad: reflect pads must be below the size

// -----
func.func @f(%x: tensor<2x3xf32>) {
  %0 = graph.pad %x {pads = array<i64: 0, 1, 0, 0>, value = 0.0 : f32, mode = "mirror"} : (tensor<2x3xf32>) -> tensor<2x4xf32>
  func.return
}
// CHECK: graph.pad: mode must be one of constant, reflect, edge, wrap, got 'mirror'
