// RUN: tinycc-opt %s -o %t.mlir && filecheck %s --check-prefix=WIDE --input-file %t.mlir
// RUN: tinycc-opt %t.mlir | filecheck %s --check-prefix=WIDE
// RUN: rm %t.weights.npz && not tinycc-opt %t.mlir 2>&1 | filecheck %s --check-prefix=MISSING
// Wide per-axis types keep their parameters in the weights side file.

// WIDE: !q_wide = !quant.uniform<i8:f32:0, @q_wide>
// WIDE: graph.constant @wide : tensor<17x!q_wide>
// MISSING: no quantization parameters for @q_wide (is the weights side file missing?)
func.func @wide() -> tensor<17xf32> {
  %w = graph.constant @wide : tensor<17x!quant.uniform<i8:f32:0, {1.0:0, 2.0:0, 3.0:0, 4.0:0, 5.0:0, 6.0:0, 7.0:0, 8.0:0, 9.0:0, 10.0:0, 11.0:0, 12.0:0, 13.0:0, 14.0:0, 15.0:0, 16.0:0, 17.0:-1}>> = dense<1>
  %d = graph.dequantize %w : (tensor<17x!quant.uniform<i8:f32:0, {1.0:0, 2.0:0, 3.0:0, 4.0:0, 5.0:0, 6.0:0, 7.0:0, 8.0:0, 9.0:0, 10.0:0, 11.0:0, 12.0:0, 13.0:0, 14.0:0, 15.0:0, 16.0:0, 17.0:-1}>>) -> tensor<17xf32>
  func.return %d : tensor<17xf32>
}
