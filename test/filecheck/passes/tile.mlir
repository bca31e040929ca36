// RUN: tinycc-opt %s --split-input-file -p 'lower-graph-to-tile,tile{sizes=1,2,4,0 node="conv1"}' | filecheck %s

// Two boxes of output rows: each reads its rows plus the halo; only the box
// at the top border keeps the top padding (border-only padding), and the
// bottom box needs no bottom padding because its windows end inside.
// CHECK-LABEL: func.func @conv
// CHECK-NEXT: %0 = tile.extract %x {offsets = array<i64: 0, 0, 0, 0>} : tensor<1x8x8x3xf32> to tensor<1x4x8x3xf32>
// CHECK-NEXT: %1 = tile.compute %0, %w
// CHECK:      graph.conv2d {{.*}} pads = array<i64: 1, 1, 0, 0>
// CHECK-SAME: -> tensor<1x2x4x8xf32>
// CHECK:      %{{.*}} = tile.extract %x {offsets = array<i64: 0, 3, 0, 0>} : tensor<1x8x8x3xf32> to tensor<1x5x8x3xf32>
// CHECK:      graph.conv2d {{.*}} pads = array<i64: 0, 1, 0, 0>
// CHECK:      %y = tile.assemble %{{.*}}, %{{.*}} {offsets = array<i64: 0, 0, 0, 0, 0, 2, 0, 0>} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x4x4x8xf32>
// The relu is another node: untouched.
// CHECK-NEXT: %z = tile.compute %y
func.func @conv(%x: tensor<1x8x8x3xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<1x4x4x8xf32> {
  %y = graph.conv2d %x, %w {onnx.node = "conv1", strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, groups = 1 : i64} : (tensor<1x8x8x3xf32>, tensor<8x3x3x3xf32>) -> tensor<1x4x4x8xf32>
  %z = graph.relu %y {onnx.node = "relu1"} : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  func.return %z : tensor<1x4x4x8xf32>
}
