// RUN: tinycc-opt %s | filecheck %s
// RUN: %tinycc-opt-roundtrip | filecheck %s

// CHECK-LABEL: func.func @compute
func.func @compute(%x: tensor<1x8x8x3xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  // CHECK-NEXT: %y = tile.compute %x, %w attributes {accesses = {{\[\[}}#tile.window<0, 1, 0, 1>, #tile.window<1, 2, -1, 3>, #tile.window<2, 2, -1, 3>, #tile.full], [#tile.window<3, 1, 0, 1>, #tile.full, #tile.full, #tile.full]]} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  // CHECK-NEXT: ^bb0(%a: tensor<1x8x8x3xf32>, %b: tensor<4x3x3x3xf32>):
  // CHECK-NEXT:   %c = graph.conv2d %a, %b
  // CHECK-NEXT:   tile.yield %c : tensor<1x4x4x4xf32>
  // CHECK-NEXT: }
  %y = tile.compute %x, %w attributes {accesses = [[#tile.window<0, 1, 0, 1>, #tile.window<1, 2, -1, 3>, #tile.window<2, 2, -1, 3>, #tile.full], [#tile.window<3, 1, 0, 1>, #tile.full, #tile.full, #tile.full]]} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%a: tensor<1x8x8x3xf32>, %b: tensor<4x3x3x3xf32>):
    %c = graph.conv2d %a, %b {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
    tile.yield %c : tensor<1x4x4x4xf32>
  }
  func.return %y : tensor<1x4x4x4xf32>
}

// CHECK-LABEL: func.func @boxes
func.func @boxes(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
  // CHECK-NEXT: %a = tile.extract %x {offsets = array<i64: 0, 0>} : tensor<4x6xf32> to tensor<4x2xf32>
  %a = tile.extract %x {offsets = array<i64: 0, 0>} : tensor<4x6xf32> to tensor<4x2xf32>
  // CHECK-NEXT: %b = tile.extract %x {offsets = array<i64: 0, 2>} : tensor<4x6xf32> to tensor<4x4xf32>
  %b = tile.extract %x {offsets = array<i64: 0, 2>} : tensor<4x6xf32> to tensor<4x4xf32>
  // CHECK-NEXT: %y = tile.assemble %a, %b {offsets = array<i64: 0, 0, 0, 2>} : (tensor<4x2xf32>, tensor<4x4xf32>) -> tensor<4x6xf32>
  %y = tile.assemble %a, %b {offsets = array<i64: 0, 0, 0, 2>} : (tensor<4x2xf32>, tensor<4x4xf32>) -> tensor<4x6xf32>
  func.return %y : tensor<4x6xf32>
}
