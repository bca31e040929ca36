// RUN: tinycc-opt %s -t c | filecheck %s

// The `tinycc.layer` dictionary becomes the function's comment: op, shape,
// MACs and live bytes first, then any other key in alphabetical order.

// CHECK:      /* conv1
// CHECK-NEXT:  *   op: conv2d
// CHECK-NEXT:  *   shape: 1x25x5x64
// CHECK-NEXT:  *   MACs: 160000
// CHECK-NEXT:  *   live bytes: 16000
// CHECK-NEXT:  *   kernel: 10x4
// CHECK-NEXT:  *   note: a comment never ends early: * /
// CHECK-NEXT:  */
// CHECK-NEXT: static void conv1(const float *restrict x /* 1x49x10x1 */)
func.func private @conv1(%x: memref<1x49x10x1xf32>) attributes {tinycc.layer = {note = "a comment never ends early: */", live_bytes = 16000 : i64, kernel = array<i64: 10, 4>, macs = 160000 : i64, shape = [1, 25, 5, 64], op = "conv2d"}} {
  func.return
}

// Without the attribute there is no comment; an unused parameter is cast
// to void.
// CHECK:      }
// CHECK-EMPTY:
// CHECK-NEXT: static void plain(const float *restrict x /* 4 */)
// CHECK-NEXT: {
// CHECK-NEXT:     (void)x;
// CHECK-NEXT: }
func.func private @plain(%x: memref<4xf32>) {
  func.return
}
