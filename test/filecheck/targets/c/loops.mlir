// RUN: tinycc-opt %s -t c | filecheck %s

// A matmul: the accumulator is an iter_arg, declared before its loop and
// assigned at scf.yield; loads index row-major in Horner form; a pointer
// nothing stores through is const; `restrict` since nothing overlaps.

// CHECK:      static void matmul(
// CHECK-NEXT:     const float *restrict a /* 2x3x4 */,
// CHECK-NEXT:     const float *restrict b /* 4x5 */,
// CHECK-NEXT:     float *restrict c /* 2x3x5 */)
// CHECK-NEXT: {
// CHECK-NEXT:     for (ptrdiff_t n = 0; n < 2; ++n) {
// CHECK-NEXT:         for (ptrdiff_t i = 0; i < 3; ++i) {
// CHECK-NEXT:             for (ptrdiff_t j = 0; j < 5; ++j) {
// CHECK-NEXT:                 float sum = 0.0f;
// CHECK-NEXT:                 for (ptrdiff_t k = 0; k < 4; k += 2) {
// CHECK-NEXT:                     const float x = a[(n * 3 + i) * 4 + k];
// CHECK-NEXT:                     const float y = b[k * 5 + j];
// CHECK-NEXT:                     const float p = x * y;
// CHECK-NEXT:                     const float s = sum + p;
// CHECK-NEXT:                     sum = s;
// CHECK-NEXT:                 }
// CHECK-NEXT:                 c[(n * 3 + i) * 5 + j] = sum;
// CHECK-NEXT:             }
// CHECK-NEXT:         }
// CHECK-NEXT:     }
// CHECK-NEXT: }
func.func private @matmul(%a: memref<2x3x4xf32>, %b: memref<4x5xf32>, %c: memref<2x3x5xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %zero = arith.constant 0.0 : f32
  scf.for %n = %c0 to %c2 step %c1 {
    scf.for %i = %c0 to %c3 step %c1 {
      scf.for %j = %c0 to %c5 step %c1 {
        %r = scf.for %k = %c0 to %c4 step %c2 iter_args(%sum = %zero) -> (f32) {
          %x = memref.load %a[%n, %i, %k] : memref<2x3x4xf32>
          %y = memref.load %b[%k, %j] : memref<4x5xf32>
          %p = arith.mulf %x, %y : f32
          %s = arith.addf %sum, %p : f32
          scf.yield %s : f32
        }
        memref.store %r, %c[%n, %i, %j] : memref<2x3x5xf32>
      }
    }
  }
  func.return
}

// Constant indices fold into the offset; a yield that permutes iter_args
// goes through temporaries; scf.if results are locals set in each branch.

// CHECK:      static void shuffle(float *restrict m /* 1x4x1x2 */, ptrdiff_t n)
// CHECK-NEXT: {
// CHECK-NEXT:     const float v = m[5];
// CHECK-NEXT:     float p = v;
// CHECK-NEXT:     float q = 1.0f;
// CHECK-NEXT:     for (ptrdiff_t i = 0; i < n; ++i) {
// CHECK-NEXT:         const float p_next = q;
// CHECK-NEXT:         const float q_next = p;
// CHECK-NEXT:         p = p_next;
// CHECK-NEXT:         q = q_next;
// CHECK-NEXT:     }
// CHECK-NEXT:     const bool big = p > q;
// CHECK-NEXT:     float r;
// CHECK-NEXT:     if (big) {
// CHECK-NEXT:         r = p;
// CHECK-NEXT:     } else {
// CHECK-NEXT:         const float d = q - p;
// CHECK-NEXT:         r = d;
// CHECK-NEXT:     }
// CHECK-NEXT:     m[n * 2 + 1] = r;
// CHECK-NEXT: }
func.func private @shuffle(%m: memref<1x4x1x2xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %one = arith.constant 1.0 : f32
  %v = memref.load %m[%c0, %c2, %c0, %c1] : memref<1x4x1x2xf32>
  %pq:2 = scf.for %i = %c0 to %n step %c1 iter_args(%p = %v, %q = %one) -> (f32, f32) {
    scf.yield %q, %p : f32, f32
  }
  %big = arith.cmpf ogt, %pq#0, %pq#1 : f32
  %r = scf.if %big -> (f32) {
    scf.yield %pq#0 : f32
  } else {
    %d = arith.subf %pq#1, %pq#0 : f32
    scf.yield %d : f32
  }
  memref.store %r, %m[%c0, %n, %c0, %c1] : memref<1x4x1x2xf32>
  func.return
}
