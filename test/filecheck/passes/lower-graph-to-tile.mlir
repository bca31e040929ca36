// RUN: tinycc-opt %s --split-input-file -p lower-graph-to-tile | filecheck %s

// A strided, padded convolution: height and width read through windows with
// the halo (extent 3) and the top/left padding (offset -1); input channels
// whole; weight rows and bias follow the output channel.
// CHECK-LABEL: func.func @conv
// CHECK: tile.compute %x, %w, %b attributes {onnx.node = "conv1", accesses = {{\[\[}}#tile.window<0, 1, 0, 1>, #tile.window<1, 2, -1, 3>, #tile.window<2, 2, -1, 3>, #tile.full], [#tile.window<3, 1, 0, 1>, #tile.full, #tile.full, #tile.full], [#tile.window<3, 1, 0, 1>]]}
// CHECK: graph.conv2d
// CHECK: tile.yield
func.func @conv(%x: tensor<1x8x8x3xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x4x4xf32> {
  %y = graph.conv2d %x, %w, %b {onnx.node = "conv1", strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  func.return %y : tensor<1x4x4x4xf32>
}

// -----
// Depthwise: one input channel per output channel. Dilation 2 widens the
// window to 5 rows.
// CHECK-LABEL: func.func @depthwise
// CHECK: accesses = {{\[\[}}#tile.window<0, 1, 0, 1>, #tile.window<1, 1, -2, 5>, #tile.window<2, 1, -2, 5>, #tile.window<3, 1, 0, 1>], [#tile.window<3, 1, 0, 1>, #tile.full, #tile.full, #tile.full]]
func.func @depthwise(%x: tensor<1x6x6x3xf32>, %w: tensor<3x3x3x1xf32>) -> tensor<1x6x6x3xf32> {
  %y = graph.conv2d %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 2, 2>, pads = array<i64: 2, 2, 2, 2>, groups = 3 : i64} : (tensor<1x6x6x3xf32>, tensor<3x3x3x1xf32>) -> tensor<1x6x6x3xf32>
  func.return %y : tensor<1x6x6x3xf32>
}

// -----
// Broadcasting: a size-1 dimension is read whole; trailing dimensions align.
// CHECK-LABEL: func.func @broadcast
// CHECK: accesses = {{\[\[}}#tile.window<0, 1, 0, 1>, #tile.window<1, 1, 0, 1>, #tile.window<2, 1, 0, 1>], [#tile.full, #tile.window<2, 1, 0, 1>]]
func.func @broadcast(%a: tensor<2x3x4xf32>, %b: tensor<1x4xf32>) -> tensor<2x3x4xf32> {
  %y = graph.add %a, %b : (tensor<2x3x4xf32>, tensor<1x4xf32>) -> tensor<2x3x4xf32>
  func.return %y : tensor<2x3x4xf32>
}

// -----
// Reductions and softmax read their axis whole; a transpose reads output
// dimension i from input dimension perm[i].
// CHECK-LABEL: func.func @axes
// CHECK: accesses = {{\[\[}}#tile.window<0, 1, 0, 1>, #tile.full, #tile.window<1, 1, 0, 1>]]
// CHECK: accesses = {{\[\[}}#tile.window<0, 1, 0, 1>, #tile.window<1, 1, 0, 1>, #tile.full]]
// CHECK: accesses = {{\[\[}}#tile.window<2, 1, 0, 1>, #tile.window<0, 1, 0, 1>, #tile.window<1, 1, 0, 1>]]
func.func @axes(%x: tensor<2x3x4xf32>) {
  %r = graph.reduce_mean %x {axes = array<i64: 1>} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  %s = graph.softmax %x {axis = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %t = graph.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  func.return
}

// -----
// Constants stay outside the computes.
// CHECK-LABEL: func.func @constants
// CHECK-NEXT: %c = graph.constant @c
// CHECK-NEXT: %y = tile.compute %x, %c
func.func @constants(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = graph.constant @c : tensor<2xf32> = dense<[1.0, 2.0]>
  %y = graph.mul %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
