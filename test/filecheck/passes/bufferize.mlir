// RUN: tinycc-opt %s -p 'lower-graph-to-tile,bufferize{model=m}' | filecheck %s
// RUN: tinycc-opt %s -p 'lower-graph-to-tile,bufferize{model=m io_in_arena=false}' | filecheck %s --check-prefix=USER

// The planner's offsets become arena views; elementwise layers run in place
// (sig and tanh reuse their operand's bytes), reshapes are views and call
// nothing, and the I/O is copied in and out of the arena, or used where the
// caller put it.

// CHECK: builtin.module attributes {tinycc.memory = {io_in_arena = true, arena_bytes = 32 : i64, lower_bound_bytes = 32 : i64, peak_step = 0 : i64, peak_layer = "relu"
// CHECK: func.func private @relu(%input: memref<1x4xf32>, %output: memref<1x4xf32>) attributes {tinycc.layer = {op = "graph.relu", shape = "1x4", macs = 0 : i64, dtype = "float32", live_bytes = 32 : i64}}
// CHECK: func.func @m_run(%0: memref<32xi8> {tinycc.role = "arena"}, %1: memref<1x4xf32> {onnx.name = "x", tinycc.role = "input"}, %2: memref<1x4xf32> {onnx.name = "y", tinycc.role = "output"}) {
// CHECK-NEXT: %3 = arith.constant 0 : index
// CHECK-NEXT: %4 = memref.view %0[%3][] : memref<32xi8> to memref<1x4xf32>
// CHECK-NEXT: "memref.copy"(%1, %4)
// CHECK-NEXT: %5 = arith.constant 16 : index
// CHECK-NEXT: %6 = memref.view %0[%5][] : memref<32xi8> to memref<1x4xf32>
// CHECK-NEXT: func.call @relu(%4, %6)
// CHECK-NEXT: %7 = arith.constant 16 : index
// CHECK-NEXT: %8 = memref.view %0[%7][] : memref<32xi8> to memref<1x4xf32>
// CHECK-NEXT: func.call @sig(%6, %8)
// CHECK-NEXT: %9 = arith.constant 16 : index
// CHECK-NEXT: %10 = memref.view %0[%9][] : memref<32xi8> to memref<4xf32>
// CHECK-NEXT: %11 = arith.constant 16 : index
// CHECK-NEXT: %12 = memref.view %0[%11][] : memref<32xi8> to memref<1x4xf32>
// CHECK-NEXT: %13 = arith.constant 16 : index
// CHECK-NEXT: %14 = memref.view %0[%13][] : memref<32xi8> to memref<1x4xf32>
// CHECK-NEXT: func.call @tanh(%12, %14)
// CHECK-NEXT: "memref.copy"(%14, %2)
// CHECK-NEXT: func.return

// USER: func.func @m_run(%0: memref<16xi8> {tinycc.role = "arena"}
// USER: func.call @relu(%1, %4)
// USER: func.call @tanh(%10, %2)
// USER-NEXT: func.return

func.func @main(%x: tensor<1x4xf32> {onnx.name = "x"}) -> (tensor<1x4xf32> {onnx.name = "y"}) {
  %r = graph.relu %x {onnx.node = "relu"} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %s = graph.sigmoid %r {onnx.node = "sig"} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %t = graph.reshape %s {onnx.node = "flat"} : (tensor<1x4xf32>) -> tensor<4xf32>
  %u = graph.reshape %t {onnx.node = "back"} : (tensor<4xf32>) -> tensor<1x4xf32>
  %v = graph.tanh %u {onnx.node = "tanh"} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  func.return %v : tensor<1x4xf32>
}
