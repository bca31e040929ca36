// RUN: tinycc-opt %s --split-input-file -p graph-canonicalize | filecheck %s

// Constant folding ---------------------------------------------------------------

// CHECK-LABEL: func.func @fold_constants
// CHECK-NEXT:    %sum = graph.constant @sum : tensor<2xf32> = dense<[4.000000e+00, 6.000000e+00]>
// CHECK-NEXT:    %t = graph.constant @t : tensor<3x2xi64> = dense<{{\[}}[1, 4], [2, 5], [3, 6]]>
// CHECK-NEXT:    %q = graph.constant @q : tensor<4x!quant.uniform<i8:f32, 0.5:1>> = dense<[-1, 1, 1, 127]>
// CHECK-NEXT:    func.return %sum, %t, %q
func.func @fold_constants() -> (tensor<2xf32>, tensor<3x2xi64>, tensor<4x!quant.uniform<i8:f32, 0.5:1>>) {
  %a = graph.constant @a : tensor<2xf32> = dense<[1.0, 2.0]>
  %b = graph.constant @b : tensor<2xf32> = dense<[3.0, 4.0]>
  %sum = graph.add %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %m = graph.constant @m : tensor<2x3xi64> = dense<[[1, 2, 3], [4, 5, 6]]>
  %t = graph.transpose %m {perm = array<i64: 1, 0>} : (tensor<2x3xi64>) -> tensor<3x2xi64>
  // round(x / 0.5) + 1, saturated: -1 -> -1, 0 -> 1, 0.25 -> 0 (half to even) + 1, 100 -> 127.
  %r = graph.constant @r : tensor<4xf32> = dense<[-1.0, 0.0, 0.25, 100.0]>
  %q = graph.quantize %r : (tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.5:1>>
  func.return %sum, %t, %q : tensor<2xf32>, tensor<3x2xi64>, tensor<4x!quant.uniform<i8:f32, 0.5:1>>
}

// -----

// Folded constants get fresh names (the ONNX node's when it has one), and a
// chain of constant ops folds all the way.
// CHECK-LABEL: func.func @fold_names
// CHECK-NEXT:    %{{.*}} = graph.constant @Add_1 : tensor<1xf32> = dense<3.000000e+00>
// CHECK-NEXT:    %Mul = graph.constant @Mul : tensor<1xf32> = dense<6.000000e+00>
// CHECK-NEXT:    func.return %{{.*}}, %Mul
func.func @fold_names() -> (tensor<1xf32>, tensor<1xf32>) {
  %a = graph.constant @Add : tensor<1xf32> = dense<1.0>
  %b = graph.constant @b : tensor<1xf32> = dense<2.0>
  %0 = graph.add %a, %b {onnx.node = "Add"} : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  %1 = graph.mul %0, %b {onnx.node = "Mul"} : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  func.return %0, %1 : tensor<1xf32>, tensor<1xf32>
}

// -----

// dequantize keeps weights in their storage type; a broadcast that would
// grow beyond 64 KiB stays an op.
// CHECK-LABEL: func.func @no_fold
// CHECK:         graph.dequantize
// CHECK:         graph.add
func.func @no_fold() -> (tensor<4xf32>, tensor<256x128xf32>) {
  %q = graph.constant @q : tensor<4x!quant.uniform<i8:f32, 0.5:0>> = dense<[1, 2, 3, 4]>
  %d = graph.dequantize %q : (tensor<4x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<4xf32>
  %a = graph.constant @a : tensor<256x1xf32> = dense<1.0>
  %b = graph.constant @b : tensor<1x128xf32> = dense<2.0>
  %big = graph.add %a, %b : (tensor<256x1xf32>, tensor<1x128xf32>) -> tensor<256x128xf32>
  func.return %d, %big : tensor<4xf32>, tensor<256x128xf32>
}

// -----

// BatchNorm folding -----------------------------------------------------------------

// f = scale / sqrt(var + eps) = [2, 0.5]; w' = w * f per output channel,
// b' = (b - mean) * f + beta = [(1 - 1) * 2 + 0.5, (2 - 4) * 0.5 - 1].
// CHECK-LABEL: func.func @bn_into_conv
// CHECK-NEXT:    %w.scaled = graph.constant @w.scaled : tensor<2x1x1x2xf32> = dense<{{\[\[\[\[}}2.000000e+00, 4.000000e+00]]], {{\[\[\[}}1.500000e+00, 2.000000e+00]]]]>
// CHECK-NEXT:    %b.scaled.shifted = graph.constant @b.scaled.shifted : tensor<2xf32> = dense<[5.000000e-01, -2.000000e+00]>
// CHECK-NEXT:    %c = graph.conv2d %x, %w.scaled, %b.scaled.shifted {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64, clamp_min = 0.000000e+00 : f32} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
// CHECK-NEXT:    func.return %c :
func.func @bn_into_conv(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %w = graph.constant @w : tensor<2x1x1x2xf32> = dense<[[[[1.0, 2.0]]], [[[3.0, 4.0]]]]>
  %b = graph.constant @b : tensor<2xf32> = dense<[1.0, 2.0]>
  %scale = graph.constant @scale : tensor<2xf32> = dense<[4.0, 1.0]>
  %beta = graph.constant @beta : tensor<2xf32> = dense<[0.5, -1.0]>
  %mean = graph.constant @mean : tensor<2xf32> = dense<[1.0, 4.0]>
  %var = graph.constant @var : tensor<2xf32> = dense<[4.0, 4.0]>
  %c = graph.conv2d %x, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %bn = graph.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 0.0 : f32} : (tensor<1x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %r = graph.relu %bn : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  func.return %r : tensor<1x4x4x2xf32>
}

// -----

// Without a bias, the shift becomes one; depthwise and fully_connected weights
// scale by their first (output channel) axis too.
// CHECK-LABEL: func.func @bn_into_depthwise_and_fc
// CHECK-NEXT:    %dw.scaled = graph.constant @dw.scaled : tensor<2x1x1x1xf32> = dense<{{\[\[\[\[}}2.000000e+00]]], {{\[\[\[}}1.500000e+00]]]]>
// CHECK-NEXT:    %c.bias = graph.constant @c.bias : tensor<2xf32> = dense<[-1.500000e+00, -3.000000e+00]>
// CHECK-NEXT:    %c = graph.conv2d %x, %dw.scaled, %c.bias {{{.*}}groups = 2 : i64}
// CHECK-NEXT:    %fw.scaled = graph.constant @fw.scaled : tensor<2x2xf32> = dense<{{\[}}[2.000000e+00, 0.000000e+00], [0.000000e+00, 5.000000e-01]]>
// CHECK-NEXT:    %fb.scaled.shifted = graph.constant @fb.scaled.shifted : tensor<2xf32> = dense<[5.000000e-01, -2.000000e+00]>
// CHECK-NEXT:    %f = graph.fully_connected %v, %fw.scaled, %fb.scaled.shifted : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
// CHECK-NEXT:    func.return %c, %f
func.func @bn_into_depthwise_and_fc(%x: tensor<1x4x4x2xf32>, %v: tensor<3x2xf32>) -> (tensor<1x4x4x2xf32>, tensor<3x2xf32>) {
  %dw = graph.constant @dw : tensor<2x1x1x1xf32> = dense<[[[[1.0]]], [[[3.0]]]]>
  %scale = graph.constant @scale : tensor<2xf32> = dense<[2.0, 0.5]>
  %beta = graph.constant @beta : tensor<2xf32> = dense<[0.5, -1.0]>
  %mean = graph.constant @mean : tensor<2xf32> = dense<[1.0, 4.0]>
  %var = graph.constant @var : tensor<2xf32> = dense<[1.0, 1.0]>
  %c = graph.conv2d %x, %dw {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64} : (tensor<1x4x4x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %bn1 = graph.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 0.0 : f32} : (tensor<1x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %fw = graph.constant @fw : tensor<2x2xf32> = dense<[[1.0, 0.0], [0.0, 1.0]]>
  %fb = graph.constant @fb : tensor<2xf32> = dense<[1.0, 2.0]>
  %f = graph.fully_connected %v, %fw, %fb : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %bn2 = graph.batch_norm %f, %scale, %beta, %mean, %var {epsilon = 0.0 : f32} : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  func.return %bn1, %bn2 : tensor<1x4x4x2xf32>, tensor<3x2xf32>
}

// -----

// No single-use producer to fold into: BatchNorm becomes mul + add of
// per-channel constants (which then take the ReLU).
// CHECK-LABEL: func.func @bn_standalone
// CHECK-NEXT:    %dw = graph.constant @dw
// CHECK-NEXT:    %c = graph.conv2d
// CHECK-NEXT:    %bn.scale = graph.constant @bn.scale : tensor<2xf32> = dense<[2.000000e+00, 5.000000e-01]>
// CHECK-NEXT:    %bn.shift = graph.constant @bn.shift : tensor<2xf32> = dense<[-1.500000e+00, -3.000000e+00]>
// CHECK-NEXT:    %{{.*}} = graph.mul %c, %bn.scale : (tensor<1x4x4x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
// CHECK-NEXT:    %{{.*}} = graph.add %{{.*}}, %bn.shift {clamp_min = 0.000000e+00 : f32} : (tensor<1x4x4x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
// CHECK-NEXT:    func.return %c, %{{.*}}
func.func @bn_standalone(%x: tensor<1x4x4x2xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) {
  %dw = graph.constant @dw : tensor<2x1x1x1xf32> = dense<[[[[1.0]]], [[[3.0]]]]>
  %scale = graph.constant @scale : tensor<2xf32> = dense<[2.0, 0.5]>
  %beta = graph.constant @beta : tensor<2xf32> = dense<[0.5, -1.0]>
  %mean = graph.constant @mean : tensor<2xf32> = dense<[1.0, 4.0]>
  %var = graph.constant @var : tensor<2xf32> = dense<[1.0, 1.0]>
  %c = graph.conv2d %x, %dw {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64} : (tensor<1x4x4x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %bn = graph.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 0.0 : f32} : (tensor<1x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %r = graph.relu %bn : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  func.return %c, %r : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>
}

// -----

// A clamp before the BatchNorm blocks folding; so do non-constant parameters
// and quantized tensors.
// CHECK-LABEL: func.func @bn_no_fold
// CHECK:         graph.conv2d {{.*}}clamp_max = 6.000000e+00 : f32
// CHECK:         graph.mul %c, %bn.scale
// CHECK-NEXT:    graph.add
// CHECK:         graph.batch_norm %x, %p, %p, %p, %p
// CHECK:         graph.batch_norm %q
func.func @bn_no_fold(%x: tensor<1x4x4x2xf32>, %p: tensor<2xf32>, %q: tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5:0>>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5:0>>) {
  %dw = graph.constant @dw : tensor<2x1x1x1xf32> = dense<[[[[1.0]]], [[[3.0]]]]>
  %one = graph.constant @one : tensor<2xf32> = dense<1.0>
  %c = graph.conv2d %x, %dw {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64, clamp_max = 6.0 : f32} : (tensor<1x4x4x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %bn = graph.batch_norm %c, %one, %one, %one, %one {epsilon = 0.0 : f32} : (tensor<1x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %bn2 = graph.batch_norm %x, %p, %p, %p, %p {epsilon = 0.0 : f32} : (tensor<1x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %bn3 = graph.batch_norm %q, %one, %one, %one, %one {epsilon = 0.0 : f32} : (tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5:0>>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5:0>>
  func.return %bn, %bn2, %bn3 : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5:0>>
}

// -----

// Per-channel mul/add/sub after a conv fold the same way (a scalar counts);
// `t - conv` and a constant that would broadcast the result do not.
// CHECK-LABEL: func.func @affine_into_conv
// CHECK-NEXT:    %dw = graph.constant @dw
// CHECK-NEXT:    %t = graph.constant @t
// CHECK-NEXT:    %dw.scaled = graph.constant @dw.scaled : tensor<2x1x1x1xf32> = dense<{{\[\[\[\[}}3.000000e+00]]], {{\[\[\[}}9.000000e+00]]]]>
// CHECK-NEXT:    %c.bias = graph.constant @c.bias : tensor<2xf32> = dense<[-1.000000e+00, -2.000000e+00]>
// CHECK-NEXT:    %c = graph.conv2d %x, %dw.scaled, %c.bias {strides
// CHECK-NEXT:    %c2 = graph.conv2d %x, %dw {strides
// CHECK-NEXT:    %r = graph.sub %t, %c2
// CHECK-NEXT:    %k = graph.constant @k
// CHECK-NEXT:    %c3 = graph.conv2d %x, %dw {strides
// CHECK-NEXT:    %big = graph.mul %c3, %k
func.func @affine_into_conv(%x: tensor<1x4x4x2xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<2x4x4x2xf32>) {
  %dw = graph.constant @dw : tensor<2x1x1x1xf32> = dense<[[[[1.0]]], [[[3.0]]]]>
  %three = graph.constant @three : tensor<1xf32> = dense<3.0>
  %t = graph.constant @t : tensor<1x1x1x2xf32> = dense<[[[[1.0, 2.0]]]]>
  %c = graph.conv2d %x, %dw {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64} : (tensor<1x4x4x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %m = graph.mul %three, %c : (tensor<1xf32>, tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  %s = graph.sub %m, %t : (tensor<1x4x4x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x4x4x2xf32>
  %c2 = graph.conv2d %x, %dw {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64} : (tensor<1x4x4x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %r = graph.sub %t, %c2 : (tensor<1x1x1x2xf32>, tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  %k = graph.constant @k : tensor<2x1x1x1xf32> = dense<2.0>
  %c3 = graph.conv2d %x, %dw {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 2 : i64} : (tensor<1x4x4x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x4x4x2xf32>
  %big = graph.mul %c3, %k : (tensor<1x4x4x2xf32>, tensor<2x1x1x1xf32>) -> tensor<2x4x4x2xf32>
  func.return %s, %r, %big : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<2x4x4x2xf32>
}

// -----

// Without a bias, any per-channel value added to the result becomes the bias,
// reshaped to [C] if need be (tf2onnx writes Dense as MatMul + Add of a
// dequantized [1, C] bias). With a bias already there, a non-constant shift
// stays an add.
// CHECK-LABEL: func.func @value_into_bias
// CHECK-NEXT:    %w = graph.constant @w
// CHECK-NEXT:    %bq = graph.constant @bq
// CHECK-NEXT:    %bd = graph.dequantize %bq : (tensor<1x2x!quant.uniform<i32:f32, 0.01:0>>) -> tensor<1x2xf32>
// CHECK-NEXT:    %[[B:.*]] = graph.reshape %bd : (tensor<1x2xf32>) -> tensor<2xf32>
// CHECK-NEXT:    %f = graph.fully_connected %x, %w, %[[B]] {clamp_min = 0.000000e+00 : f32} : (tensor<1x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<1x2xf32>
// CHECK-NEXT:    %c = graph.conv2d %y, %k, %t {{.*}} : (tensor<1x3x3x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x3x3x2xf32>
// CHECK-NEXT:    %g = graph.fully_connected %x, %w, %t
// CHECK-NEXT:    %s = graph.add %g, %t
// CHECK-NEXT:    func.return %f, %c, %s
func.func @value_into_bias(%x: tensor<1x3xf32>, %y: tensor<1x3x3x2xf32>, %k: tensor<2x1x1x2xf32>, %t: tensor<2xf32>) -> (tensor<1x2xf32>, tensor<1x3x3x2xf32>, tensor<1x2xf32>) {
  %w = graph.constant @w : tensor<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
  %bq = graph.constant @bq : tensor<1x2x!quant.uniform<i32:f32, 0.01:0>> = dense<[[100, -100]]>
  %bd = graph.dequantize %bq : (tensor<1x2x!quant.uniform<i32:f32, 0.01:0>>) -> tensor<1x2xf32>
  %f = graph.fully_connected %x, %w : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<1x2xf32>
  %a = graph.add %f, %bd : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x2xf32>
  %r = graph.relu %a : (tensor<1x2xf32>) -> tensor<1x2xf32>
  %c = graph.conv2d %y, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x3x3x2xf32>, tensor<2x1x1x2xf32>) -> tensor<1x3x3x2xf32>
  %d = graph.add %t, %c : (tensor<2xf32>, tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32>
  %g = graph.fully_connected %x, %w, %t : (tensor<1x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %s = graph.add %g, %t : (tensor<1x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  func.return %r, %d, %s : tensor<1x2xf32>, tensor<1x3x3x2xf32>, tensor<1x2xf32>
}

// -----

// Activation fusion -----------------------------------------------------------------

// CHECK-LABEL: func.func @fuse_activations
// CHECK-NEXT:    %f = graph.fully_connected %v, %w {clamp_min = 0.000000e+00 : f32}
// CHECK-NEXT:    %a = graph.add %v, %v {clamp_min = -1.000000e+00 : f32, clamp_max = 1.000000e+00 : f32}
// CHECK-NEXT:    %s = graph.sub %v, %v {clamp_min = 0.000000e+00 : f32, clamp_max = 6.000000e+00 : f32}
// CHECK-NEXT:    %m = graph.mul %v, %v {clamp_min = 1.000000e+00 : f32, clamp_max = 4.000000e+00 : f32}
// CHECK-NEXT:    %d = graph.div %v, %v {clamp_min = 0.000000e+00 : f32, clamp_max = 6.000000e+00 : f32}
// CHECK-NEXT:    func.return %f, %a, %s, %m, %d
func.func @fuse_activations(%v: tensor<3x2xf32>, %w: tensor<2x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>) {
  %f = graph.fully_connected %v, %w : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %r1 = graph.relu %f : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %a = graph.add %v, %v : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %r2 = graph.clamp %a {min = -1.0 : f32, max = 1.0 : f32} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  // An existing clamp intersects with the new one.
  %s = graph.sub %v, %v {clamp_min = -1.0 : f32, clamp_max = 6.0 : f32} : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %r3 = graph.relu %s : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %m = graph.mul %v, %v {clamp_max = 4.0 : f32} : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %r4 = graph.clamp %m {min = 1.0 : f32, max = 8.0 : f32} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  // Two activations in a row both fuse.
  %d = graph.div %v, %v : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %d1 = graph.relu %d : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %r5 = graph.clamp %d1 {min = -6.0 : f32, max = 6.0 : f32} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  func.return %r1, %r2, %r3, %r4, %r5 : tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>
}

// -----

// On quantized tensors the clamp is in the real domain; fusion needs the
// activation to keep the type.
// CHECK-LABEL: func.func @fuse_quantized
// CHECK-NEXT:    %r = graph.add %a, %a {clamp_min = 0.000000e+00 : f32} : (tensor<4x!quant.uniform<i8:f32, 0.5:-3>>, tensor<4x!quant.uniform<i8:f32, 0.5:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
// CHECK-NEXT:    %b = graph.add %a, %a : (tensor<4x!quant.uniform<i8:f32, 0.5:-3>>, tensor<4x!quant.uniform<i8:f32, 0.5:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
// CHECK-NEXT:    %s = graph.relu %b : (tensor<4x!quant.uniform<i8:f32, 0.5:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.25:-128>>
func.func @fuse_quantized(%a: tensor<4x!quant.uniform<i8:f32, 0.5:-3>>) -> (tensor<4x!quant.uniform<i8:f32, 0.5:-3>>, tensor<4x!quant.uniform<i8:f32, 0.25:-128>>) {
  %0 = graph.add %a, %a : (tensor<4x!quant.uniform<i8:f32, 0.5:-3>>, tensor<4x!quant.uniform<i8:f32, 0.5:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
  %r = graph.relu %0 : (tensor<4x!quant.uniform<i8:f32, 0.5:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
  %b = graph.add %a, %a : (tensor<4x!quant.uniform<i8:f32, 0.5:-3>>, tensor<4x!quant.uniform<i8:f32, 0.5:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
  %s = graph.relu %b : (tensor<4x!quant.uniform<i8:f32, 0.5:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.25:-128>>
  func.return %r, %s : tensor<4x!quant.uniform<i8:f32, 0.5:-3>>, tensor<4x!quant.uniform<i8:f32, 0.25:-128>>
}

// -----

// No fusion into a producer with other users, into ops without a fused clamp,
// or when the two clamps are disjoint.
// CHECK-LABEL: func.func @no_fusion
// CHECK-NEXT:    %a = graph.add %v, %v : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
// CHECK-NEXT:    %r1 = graph.relu %a
// CHECK-NEXT:    %s = graph.sigmoid %v
// CHECK-NEXT:    %r2 = graph.relu %s
// CHECK-NEXT:    %m = graph.mul %v, %v {clamp_min = 0.000000e+00 : f32, clamp_max = 6.000000e+00 : f32}
// CHECK-NEXT:    %r3 = graph.clamp %m {min = 7.000000e+00 : f32, max = 8.000000e+00 : f32}
// CHECK-NEXT:    func.return %a, %r1, %r2, %r3
func.func @no_fusion(%v: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>) {
  %a = graph.add %v, %v : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %r1 = graph.relu %a : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %s = graph.sigmoid %v : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %r2 = graph.relu %s : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %m = graph.mul %v, %v {clamp_min = 0.0 : f32, clamp_max = 6.0 : f32} : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %r3 = graph.clamp %m {min = 7.0 : f32, max = 8.0 : f32} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  func.return %a, %r1, %r2, %r3 : tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>
}

// -----

// No-ops and data movement ------------------------------------------------------------

// CHECK-LABEL: func.func @drop_noops
// CHECK-NEXT:    func.return %x, %x, %x, %x
func.func @drop_noops(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = graph.reshape %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = graph.transpose %0 {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = graph.pad %x {pads = array<i64: 0, 0, 0, 0>, value = 1.0 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = graph.slice %x {starts = array<i64: 0, 0>, ends = array<i64: 2, 3>, steps = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // Two transposes that undo each other, two reshapes back to the start.
  %4 = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %5 = graph.transpose %4 {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %6 = graph.reshape %5 : (tensor<2x3xf32>) -> tensor<6xf32>
  %7 = graph.reshape %6 : (tensor<6xf32>) -> tensor<2x3xf32>
  func.return %1, %2, %3, %7 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Same shape but not the identity: a swap of equal axes, a reversing slice, a
// requantizing reshape.
// CHECK-LABEL: func.func @keep_moves
// CHECK-NEXT:    %0 = graph.transpose %x {perm = array<i64: 1, 0>}
// CHECK-NEXT:    %1 = graph.slice %x {starts = array<i64: 1, 0>, ends = array<i64: -1, 2>, steps = array<i64: -1, 1>}
// CHECK-NEXT:    %2 = graph.reshape %q
// CHECK-NEXT:    func.return %0, %1, %2
func.func @keep_moves(%x: tensor<2x2xf32>, %q: tensor<2x!quant.uniform<i8:f32, 0.5:0>>) -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x!quant.uniform<i8:f32, 0.25:0>>) {
  %0 = graph.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %1 = graph.slice %x {starts = array<i64: 1, 0>, ends = array<i64: -1, 2>, steps = array<i64: -1, 1>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %2 = graph.reshape %q : (tensor<2x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<2x!quant.uniform<i8:f32, 0.25:0>>
  func.return %0, %1, %2 : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x!quant.uniform<i8:f32, 0.25:0>>
}

// -----

// CHECK-LABEL: func.func @compose
// CHECK-NEXT:    %[[T:.*]] = graph.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-NEXT:    %[[R:.*]] = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    %[[Q:.*]] = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<24x!quant.uniform<i8:f32, 0.5:0>>
// CHECK-NEXT:    %[[D:.*]] = graph.reshape %[[Q]] : (tensor<24x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<4x6xf32>
// CHECK-NEXT:    func.return %[[T]], %[[R]], %[[D]] :
func.func @compose(%x: tensor<2x3x4xf32>) -> (tensor<4x2x3xf32>, tensor<4x6xf32>, tensor<4x6xf32>) {
  %0 = graph.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = graph.transpose %0 {perm = array<i64: 1, 2, 0>} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
  %2 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<24xf32>
  %3 = graph.reshape %2 : (tensor<24xf32>) -> tensor<4x6xf32>
  // A quantized middle step rounds: it stays.
  %4 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<24x!quant.uniform<i8:f32, 0.5:0>>
  %5 = graph.reshape %4 : (tensor<24x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<4x6xf32>
  func.return %1, %3, %5 : tensor<4x2x3xf32>, tensor<4x6xf32>, tensor<4x6xf32>
}

// -----

// Moving only size-1 axes is a reshape (after global pooling, say).
// CHECK-LABEL: func.func @transpose_to_reshape
// CHECK-NEXT:    %0 = graph.reshape %x : (tensor<1x1x1x8xf32>) -> tensor<1x8xf32>
// CHECK-NEXT:    func.return %0
func.func @transpose_to_reshape(%x: tensor<1x1x1x8xf32>) -> tensor<1x8xf32> {
  %t = graph.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x1x1x8xf32>) -> tensor<1x8x1x1xf32>
  %0 = graph.reshape %t : (tensor<1x8x1x1xf32>) -> tensor<1x8xf32>
  func.return %0 : tensor<1x8xf32>
}

// -----

// NCHW flatten before a dense layer: the weight's columns move to (h, w, c)
// order instead. Columns (c, w) = (0,0) (0,1) (1,0) (1,1) -> (w, c) order.
// CHECK-LABEL: func.func @flatten_fc
// CHECK-NEXT:    %w.hwc = graph.constant @w.hwc : tensor<2x4xf32> = dense<{{\[}}[1.000000e+00, 3.000000e+00, 2.000000e+00, 4.000000e+00], [5.000000e+00, 7.000000e+00, 6.000000e+00, 8.000000e+00]]>
// CHECK-NEXT:    %f = graph.reshape %x : (tensor<1x1x2x2xf32>) -> tensor<1x4xf32>
// CHECK-NEXT:    %y = graph.fully_connected %f, %w.hwc, %b : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32>
// CHECK-NEXT:    func.return %y
func.func @flatten_fc(%x: tensor<1x1x2x2xf32>, %b: tensor<2xf32>) -> tensor<1x2xf32> {
  %w = graph.constant @w : tensor<2x4xf32> = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]>
  %t = graph.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x1x2x2xf32>) -> tensor<1x2x1x2xf32>
  %f = graph.reshape %t : (tensor<1x2x1x2xf32>) -> tensor<1x4xf32>
  %y = graph.fully_connected %f, %w, %b : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  func.return %y : tensor<1x2xf32>
}

// -----

// The transposed tensor has another user: the transpose must stay.
// CHECK-LABEL: func.func @flatten_fc_shared
// CHECK-NEXT:    %w = graph.constant @w
// CHECK-NEXT:    %t = graph.transpose %x
// CHECK-NEXT:    %f = graph.reshape %t
// CHECK-NEXT:    %y = graph.fully_connected %f, %w
func.func @flatten_fc_shared(%x: tensor<1x1x2x2xf32>) -> (tensor<1x2xf32>, tensor<1x2x1x2xf32>) {
  %w = graph.constant @w : tensor<2x4xf32> = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]>
  %t = graph.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x1x2x2xf32>) -> tensor<1x2x1x2xf32>
  %f = graph.reshape %t : (tensor<1x2x1x2xf32>) -> tensor<1x4xf32>
  %y = graph.fully_connected %f, %w : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
  func.return %y, %t : tensor<1x2xf32>, tensor<1x2x1x2xf32>
}

// -----

// Unused values go, function arguments and results stay.
// CHECK-LABEL: func.func @dead_code
// CHECK-NEXT:    func.return %x
func.func @dead_code(%x: tensor<2xf32>, %unused: tensor<2xf32>) -> tensor<2xf32> {
  %0 = graph.relu %unused : (tensor<2xf32>) -> tensor<2xf32>
  func.return %x : tensor<2xf32>
}

// -----

// Quantized weights permute the same way when quantized per output channel
// (axis 0), not when quantized per column (axis 1).
// CHECK-LABEL: func.func @flatten_fc_quantized
// CHECK-NEXT:    %w1 = graph.constant @w1
// CHECK-NEXT:    %w0.hwc = graph.constant @w0.hwc : tensor<2x4x!q_w0_hwc> = dense<{{\[}}[1, 3, 2, 4], [5, 7, 6, 8]]>
// CHECK-NEXT:    %f = graph.reshape %x : (tensor<1x1x2x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x4x!quant.uniform<i8:f32, 0.1:0>>
// CHECK-NEXT:    %y = graph.fully_connected %f, %w0.hwc
// CHECK-NEXT:    %t1 = graph.transpose %x
// CHECK-NEXT:    %f1 = graph.reshape %t1
// CHECK-NEXT:    %y1 = graph.fully_connected %f1, %w1
func.func @flatten_fc_quantized(%x: tensor<1x1x2x2x!quant.uniform<i8:f32, 0.1:0>>) -> (tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>, tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>) {
  %w0 = graph.constant @w0 : tensor<2x4x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0}>> = dense<[[1, 2, 3, 4], [5, 6, 7, 8]]>
  %w1 = graph.constant @w1 : tensor<2x4x!quant.uniform<i8:f32:1, {0.5:0, 0.25:0, 0.5:0, 0.25:0}>> = dense<[[1, 2, 3, 4], [5, 6, 7, 8]]>
  %t = graph.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x1x2x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x2x1x2x!quant.uniform<i8:f32, 0.1:0>>
  %f = graph.reshape %t : (tensor<1x2x1x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x4x!quant.uniform<i8:f32, 0.1:0>>
  %y = graph.fully_connected %f, %w0 : (tensor<1x4x!quant.uniform<i8:f32, 0.1:0>>, tensor<2x4x!quant.uniform<i8:f32:0, {0.5:0, 0.25:0}>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>
  %t1 = graph.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x1x2x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x2x1x2x!quant.uniform<i8:f32, 0.1:0>>
  %f1 = graph.reshape %t1 : (tensor<1x2x1x2x!quant.uniform<i8:f32, 0.1:0>>) -> tensor<1x4x!quant.uniform<i8:f32, 0.1:0>>
  %y1 = graph.fully_connected %f1, %w1 : (tensor<1x4x!quant.uniform<i8:f32, 0.1:0>>, tensor<2x4x!quant.uniform<i8:f32:1, {0.5:0, 0.25:0, 0.5:0, 0.25:0}>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>
  func.return %y, %y1 : tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>, tensor<1x2x!quant.uniform<i8:f32, 0.2:0>>
}
