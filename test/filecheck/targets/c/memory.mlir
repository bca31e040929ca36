// RUN: tinycc-opt %s -t 'c{prefix=net_}' | filecheck %s

// Weights: static const arrays with exact values in a named section, the
// global's alignment kept; private symbols carry the prefix.

// CHECK:      #define TINYCC_WEIGHTS_SECTION __attribute__((section(".rodata.tinycc")))
// CHECK:      #define TINYCC_ALIGN(bytes) __attribute__((aligned(bytes)))
// CHECK:      /* @conv1.weight: 2x3 */
// CHECK-NEXT: static const float net_conv1_weight[6] TINYCC_ALIGN(16) TINYCC_WEIGHTS_SECTION = {
// CHECK-NEXT:     0.5f, -2.0f, 0x1.99999ap-4f, 0x1.555556p-2f, 0x1p-149f, -0.0f,
// CHECK-NEXT: };
// CHECK:      /* @conv1.bias: 3 */
// CHECK-NEXT: static const int8_t net_conv1_bias[3] TINYCC_WEIGHTS_SECTION = {
// CHECK-NEXT:     -128, 0, 127,
// CHECK-NEXT: };
"memref.global"() <{sym_name = "conv1.weight", sym_visibility = "private", type = memref<2x3xf32>, initial_value = dense<[[0.5, -2.0, 0.1], [0.333333343, 1.0e-45, -0.0]]> : tensor<2x3xf32>, constant, alignment = 16 : i64}> : () -> ()
"memref.global"() <{sym_name = "conv1.bias", sym_visibility = "private", type = memref<3xi8>, initial_value = dense<[-128, 0, 127]> : tensor<3xi8>, constant}> : () -> ()

// CHECK:      static void net_layer(
// CHECK-NEXT:     const float *restrict x /* 2x3 */,
// CHECK-NEXT:     const int8_t *restrict b /* 3 */,
// CHECK-NEXT:     float *restrict y /* 2x3 */)
func.func private @layer(%x: memref<2x3xf32>, %b: memref<3xi8>, %y: memref<2x3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %v = memref.load %x[%c0, %c1] : memref<2x3xf32>
  %q = memref.load %b[%c1] : memref<3xi8>
  %f = arith.sitofp %q : i8 to f32
  %s = arith.addf %v, %f : f32
  memref.store %s, %y[%c1, %c0] : memref<2x3xf32>
  func.return
}

// The in-place call below passes one view twice: this callee's pointers
// lose `restrict`.
// CHECK: static void net_twice(const float *x /* 2x3 */, float *y /* 2x3 */)
func.func private @twice(%x: memref<2x3xf32>, %y: memref<2x3xf32>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %x[%c0, %c0] : memref<2x3xf32>
  %d = arith.addf %v, %v : f32
  memref.store %d, %y[%c0, %c0] : memref<2x3xf32>
  func.return
}

// The entry: views of the arena at the planner's byte offsets, globals by
// name, a copy between the caller's buffers and the arena; an unused
// get_global is kept as a (void) statement.

// CHECK:      void net_run(
// CHECK-NEXT:     int8_t *restrict arena /* 64 */,
// CHECK-NEXT:     const float *restrict input /* 2x3 */,
// CHECK-NEXT:     float *restrict output /* 2x3 */)
// CHECK-NEXT: {
// CHECK-NEXT:     float *t = (float *)(void *)(arena + 32);
// CHECK-NEXT:     memcpy(t, input, 6 * sizeof(float));
// CHECK-NEXT:     float *u = (float *)(void *)(arena + 0);
// CHECK-NEXT:     (void)net_conv1_weight;
// CHECK-NEXT:     net_layer(t, net_conv1_bias, u);
// CHECK-NEXT:     net_twice(u, u);
// CHECK-NEXT:     net_layer(u, net_conv1_bias, output);
// CHECK-NEXT: }
func.func @net_run(%arena: memref<64xi8>, %input: memref<2x3xf32>, %output: memref<2x3xf32>) {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %t = memref.view %arena[%c32][] : memref<64xi8> to memref<2x3xf32>
  "memref.copy"(%input, %t) : (memref<2x3xf32>, memref<2x3xf32>) -> ()
  %u = memref.view %arena[%c0][] : memref<64xi8> to memref<2x3xf32>
  %b = memref.get_global @conv1.bias : memref<3xi8>
  %w = memref.get_global @conv1.weight : memref<2x3xf32>
  func.call @layer(%t, %b, %u) : (memref<2x3xf32>, memref<3xi8>, memref<2x3xf32>) -> ()
  func.call @twice(%u, %u) : (memref<2x3xf32>, memref<2x3xf32>) -> ()
  func.call @layer(%u, %b, %output) : (memref<2x3xf32>, memref<3xi8>, memref<2x3xf32>) -> ()
  func.return
}

// Copies between views that may share bytes become memmove.
// CHECK:      void shift(int8_t *restrict arena /* 32 */)
// CHECK-NEXT: {
// CHECK-NEXT:     const float *a = (const float *)(const void *)(arena + 0);
// CHECK-NEXT:     float *b = (float *)(void *)(arena + 8);
// CHECK-NEXT:     memmove(b, a, 4 * sizeof(float));
// CHECK-NEXT:     float *c = (float *)(void *)(arena + 16);
// CHECK-NEXT:     memcpy(c, a, 4 * sizeof(float));
// CHECK-NEXT: }
func.func @shift(%arena: memref<32xi8>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %a = memref.view %arena[%c0][] : memref<32xi8> to memref<4xf32>
  %b = memref.view %arena[%c8][] : memref<32xi8> to memref<4xf32>
  "memref.copy"(%a, %b) : (memref<4xf32>, memref<4xf32>) -> ()
  %c = memref.view %arena[%c16][] : memref<32xi8> to memref<4xf32>
  "memref.copy"(%a, %c) : (memref<4xf32>, memref<4xf32>) -> ()
  func.return
}
