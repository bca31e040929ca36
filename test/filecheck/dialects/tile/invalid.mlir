// RUN: tinycc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = tile.compute %x attributes {accesses = [[#tile.window<0, 1, 0, 1>, #tile.full]]} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %r = graph.relu %a : (tensor<4xf32>) -> tensor<4xf32>
    tile.yield %r : tensor<4xf32>
  }
  func.return %y : tensor<4xf32>
}
// CHECK: tile.compute: one access per operand dimension

// -----
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = tile.compute %x attributes {accesses = [[#tile.window<1, 1, 0, 1>]]} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %r = graph.relu %a : (tensor<4xf32>) -> tensor<4xf32>
    tile.yield %r : tensor<4xf32>
  }
  func.return %y : tensor<4xf32>
}
// CHECK: tile.compute: window on output dimension 1 of a rank-1 result

// -----
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = tile.compute %x attributes {accesses = [[#tile.window<0, 0, 0, 1>]]} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %r = graph.relu %a : (tensor<4xf32>) -> tensor<4xf32>
    tile.yield %r : tensor<4xf32>
  }
  func.return %y : tensor<4xf32>
}
// CHECK: tile.window needs dim >= 0, stride >= 1, extent >= 1

// -----
func.func @f(%x: tensor<4x6xf32>) {
  %a = tile.extract %x {offsets = array<i64: 0, 4>} : tensor<4x6xf32> to tensor<4x3xf32>
  func.return
}
// CHECK: tile.extract: box outside the source

// -----
func.func @f(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>) {
  %y = tile.assemble %a, %b {offsets = array<i64: 0, 0, 0, 1>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x8xf32>
  func.return
}
// CHECK: tile.assemble: two tiles overlap

// -----
func.func @f(%a: tensor<4x4xf32>) {
  %y = tile.assemble %a {offsets = array<i64: 0, 0>} : (tensor<4x4xf32>) -> tensor<4x8xf32>
  func.return
}
// CHECK: tile.assemble: the tiles do not cover the result
