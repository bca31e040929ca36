// Named constants take their data from the weights side file.
// RUN: %python -c "import numpy as np; np.savez('%t.npz', w=np.arange(24, dtype=np.float32).reshape(2, 3, 4), q=np.arange(-10, 10, dtype=np.int8)); np.savez('%t.f64.npz', w=np.zeros((2, 3, 4)), q=np.zeros(20, dtype=np.int8))"
// RUN: tinycc-opt %s --weights %t.npz | filecheck %s
// RUN: tinycc-opt %s --weights %t.npz --print-op-generic | filecheck %s --check-prefix=DATA
// The generic form carries the data inline, so it parses back without the
// side file.
// RUN: tinycc-opt %s --weights %t.npz --print-op-generic | tinycc-opt | filecheck %s

// Printing to a file writes the data of the named constants beside it.
// RUN: tinycc-opt %s --weights %t.npz -o %t.out.mlir
// RUN: %python -c "import numpy as np; a = np.load('%t.out.weights.npz'); print(sorted(a.files), a['w'].dtype, a['w'].shape, a['w'].sum(), a['q'].dtype, a['q'].min())" | filecheck %s --check-prefix=SIDE
// RUN: tinycc-opt %t.out.mlir | filecheck %s

// Without the side file, or with data of the wrong type, parsing fails.
// RUN: not tinycc-opt %s 2>&1 | filecheck %s --check-prefix=MISSING
// RUN: not tinycc-opt %s --weights %t.f64.npz 2>&1 | filecheck %s --check-prefix=DTYPE

// CHECK-LABEL: func.func @main
func.func @main() -> (tensor<2x3x4xf32>, tensor<20x!quant.uniform<i8:f32, 0.5:0>>, tensor<3xf32>, tensor<2x2xi64>, tensor<4xf32>) {
  // CHECK-NEXT: %w = graph.constant @w : tensor<2x3x4xf32>
  // CHECK-NOT: dense
  // DATA: "graph.constant"() <{sym_name = "w", value = dense<{{\[\[\[}}0.000000e+00, 1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00
  %w = graph.constant @w : tensor<2x3x4xf32>
  // CHECK-NEXT: %q = graph.constant @q : tensor<20x!quant.uniform<i8:f32, 0.5:0>>
  // DATA: "graph.constant"() <{sym_name = "q", value = dense<[-10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]> : tensor<20xi8>}> : () -> tensor<20x!quant.uniform<i8:f32, 0.5:0>>
  %q = graph.constant @q : tensor<20x!quant.uniform<i8:f32, 0.5:0>>
  // Up to 16 elements print inline.
  // CHECK-NEXT: %b = graph.constant @b : tensor<3xf32> = dense<[5.000000e-01, -1.000000e+00, 2.500000e-01]>
  %b = graph.constant @b : tensor<3xf32> = dense<[0.5, -1.0, 0.25]>
  // CHECK-NEXT: %s = graph.constant @shape : tensor<2x2xi64> = dense<{{\[}}[1, -1], [2, 3]]>
  %s = graph.constant @shape : tensor<2x2xi64> = dense<[[1, -1], [2, 3]]>
  // CHECK-NEXT: %z = graph.constant @zeros : tensor<4xf32> = dense<0.000000e+00> {onnx.node = "zeros"}
  %z = graph.constant @zeros : tensor<4xf32> = dense<0.0> {onnx.node = "zeros"}
  func.return %w, %q, %b, %s, %z : tensor<2x3x4xf32>, tensor<20x!quant.uniform<i8:f32, 0.5:0>>, tensor<3xf32>, tensor<2x2xi64>, tensor<4xf32>
}

// SIDE: ['q', 'w'] float32 (2, 3, 4) 276.0 int8 -10
// MISSING: graph.constant @w: no data for this constant (is the weights side file missing?)
// DTYPE: graph.constant @w: data has type float64, expected float32
