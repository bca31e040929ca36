// RUN: tinycc-opt %s -t c | filecheck %s

// math ops call the float versions of <math.h>; maximumf/minimumf go
// through NaN- and signed-zero-aware helpers (fmaxf is maxnumf); constants
// print exactly: short decimals as such, everything else in hex.

// CHECK:      #include <math.h>
// CHECK:      static inline float tinycc_maximumf(float a, float b)
// CHECK:      static void floats(float x, float *restrict out /* 8 */)
// CHECK-NEXT: {
// CHECK-NEXT:     const float e = expf(x);
// CHECK-NEXT:     const float t = tanhf(e);
// CHECK-NEXT:     const float f = erff(t);
// CHECK-NEXT:     const float s = sqrtf(f);
// CHECK-NEXT:     const float l = logf(s);
// CHECK-NEXT:     const float r = rintf(l);
// CHECK-NEXT:     const float h = roundf(r);
// CHECK-NEXT:     const float m = tinycc_maximumf(h, 0x1.99999ap-4f);
// CHECK-NEXT:     const float n = fmaxf(m, -6.0f);
// CHECK-NEXT:     const float q = 1.0f / sqrtf(n);
// CHECK-NEXT:     const bool c = !(q >= INFINITY);
// CHECK-NEXT:     const float z = c ? q : NAN;
// CHECK-NEXT:     out[0] = z;
// CHECK-NEXT:     (void)(x * (-0.5f));
// CHECK-NEXT: }
func.func private @floats(%x: f32, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %tenth = arith.constant 0.1 : f32
  %m6 = arith.constant -6.0 : f32
  %inf = arith.constant 0x7F800000 : f32
  %nan = arith.constant 0x7FC00000 : f32
  %half = arith.constant -0.5 : f32
  %e = math.exp %x : f32
  %t = math.tanh %e : f32
  %f = math.erf %t : f32
  %s = math.sqrt %f : f32
  %l = math.log %s : f32
  %r = math.roundeven %l : f32
  %h = math.round %r : f32
  %m = arith.maximumf %h, %tenth : f32
  %n = arith.maxnumf %m, %m6 : f32
  %q = math.rsqrt %n : f32
  %c = arith.cmpf ult, %q, %inf : f32
  %z = arith.select %c, %q, %nan : f32
  memref.store %z, %out[%c0] : memref<8xf32>
  %unused = arith.mulf %x, %half : f32
  func.return
}

// Integer arithmetic wraps like MLIR's (through unsigned types), index
// arithmetic is plain ptrdiff_t, unsigned ops and predicates convert.

// CHECK:      static int32_t integers(int32_t a, int32_t b, ptrdiff_t i)
// CHECK-NEXT: {
// CHECK-NEXT:     const int32_t s = (int32_t)((uint32_t)a + (uint32_t)b);
// CHECK-NEXT:     const int32_t p = (int32_t)((uint32_t)s * (uint32_t)INT32_MIN);
// CHECK-NEXT:     const int32_t l = (int32_t)((uint32_t)p << 3);
// CHECK-NEXT:     const int32_t r = l >> 1;
// CHECK-NEXT:     const int32_t u = (int32_t)((uint32_t)r >> (uint32_t)1);
// CHECK-NEXT:     const int32_t d = u / b;
// CHECK-NEXT:     const int32_t m = d % (-7);
// CHECK-NEXT:     const ptrdiff_t i4 = i * 4;
// CHECK-NEXT:     const ptrdiff_t j = i4 + 1;
// CHECK-NEXT:     const ptrdiff_t k = j / 2;
// CHECK-NEXT:     const int32_t n = (int32_t)k;
// CHECK-NEXT:     const bool lt = (uint32_t)m < (uint32_t)n;
// CHECK-NEXT:     const int8_t w = (int8_t)m;
// CHECK-NEXT:     const int32_t x = (int32_t)(uint8_t)w;
// CHECK-NEXT:     const int64_t y = (int64_t)x;
// CHECK-NEXT:     const int64_t z = (int64_t)((uint64_t)y * (uint64_t)INT64_C(1518500250));
// CHECK-NEXT:     const int32_t t = (int32_t)z;
// CHECK-NEXT:     const int32_t v = lt ? t : n;
// CHECK-NEXT:     return v;
// CHECK-NEXT: }
func.func private @integers(%a: i32, %b: i32, %i: index) -> i32 {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1 : i32
  %three = arith.constant 3 : i32
  %minus7 = arith.constant -7 : i32
  %min = arith.constant -2147483648 : i32
  %big = arith.constant 1518500250 : i64
  %s = arith.addi %a, %b : i32
  %p = arith.muli %s, %min : i32
  %l = arith.shli %p, %three : i32
  %r = arith.shrsi %l, %one : i32
  %u = arith.shrui %r, %one : i32
  %d = arith.divsi %u, %b : i32
  %m = arith.remsi %d, %minus7 : i32
  %i4 = arith.muli %i, %c4 : index
  %j = arith.addi %i4, %c1 : index
  %k = arith.divsi %j, %c2 : index
  %n = arith.index_cast %k : index to i32
  %lt = arith.cmpi ult, %m, %n : i32
  %w = arith.trunci %m : i32 to i8
  %x = arith.extui %w : i8 to i32
  %y = arith.extsi %x : i32 to i64
  %z = arith.muli %y, %big : i64
  %t = arith.trunci %z : i64 to i32
  %v = arith.select %lt, %t, %n : i32
  func.return %v : i32
}
