// RUN: tinycc-opt %s -p 'graph-quantize{ranges="x=-1:0.9921875","c=0:7.96875","y=-2:1.984375"}' | filecheck %s
// RUN: not tinycc-opt %s -p 'graph-quantize{ranges="x=-1:1"}' 2>&1 | filecheck %s --check-prefix=MISSING
// RUN: not tinycc-opt %s -p 'graph-quantize' 2>&1 | filecheck %s --check-prefix=NOTHING

// A float conv (fused relu) and fully connected layer, quantized from the
// ranges given inline. The numbers are powers of two, so the expected
// parameters are exact:
//   x in [-1, 127/128]: scale 255/128/255 = 1/128, zp round(-128 + 1*128) = 0
//   c in [0, 255/32]:   scale 1/32, zp -128 (the relu range)
//   y in [-2, 127/64]:  scale 1/64, zp 0
// Weights per output channel, symmetric: max|w_c| / 127 = 1/64 and 1/128 for
// the conv; 1/128, 1 (an all-zero channel) and 1/256 for the FC. The conv
// bias is int32 on s_x * s_w[c] = 2^-13, 2^-14: 0.5 -> 4096, -0.25 -> -4096.
// The float input is quantized first, the float output dequantized last.
// CHECK:      !q_w_q = !quant.uniform<i8:f32:0, {0.015625:0, 0.0078125:0}>
// CHECK-NEXT: !q_b_q = !quant.uniform<i32:f32:0, {0.0001220703125:0, 6.103515625e-05:0}>
// CHECK-NEXT: !q_fw_q = !quant.uniform<i8:f32:0, {0.0078125:0, 1.0:0, 0.00390625:0}>
// CHECK-LABEL: func.func @main
// CHECK-SAME:    (%x: tensor<1x2x2x1xf32> {onnx.name = "x"}) -> (tensor<1x2x2x3xf32> {onnx.name = "y"})
// CHECK-NEXT:    %[[XQ:.*]] = graph.quantize %x : (tensor<1x2x2x1xf32>) -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.0078125:0>>
// CHECK-NEXT:    %w.q = graph.constant @w.q : tensor<2x1x1x1x!q_w_q> = dense<{{\[\[\[\[}}127]]], {{\[\[\[}}-127]]]]>
// CHECK-NEXT:    %b.q = graph.constant @b.q : tensor<2x!q_b_q> = dense<[4096, -4096]>
// CHECK-NEXT:    %c = graph.conv2d %[[XQ]], %w.q, %b.q {{{.*}}clamp_min = 0.000000e+00 : f32} : (tensor<1x2x2x1x!quant.uniform<i8:f32, 0.0078125:0>>, tensor<2x1x1x1x!q_w_q>, tensor<2x!q_b_q>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.03125:-128>>
// CHECK-NEXT:    %fw.q = graph.constant @fw.q : tensor<3x2x!q_fw_q> = dense<{{\[\[}}127, -64], [0, 0], [64, -127]]>
// CHECK-NEXT:    %y = graph.fully_connected %c, %fw.q : (tensor<1x2x2x2x!quant.uniform<i8:f32, 0.03125:-128>>, tensor<3x2x!q_fw_q>) -> tensor<1x2x2x3x!quant.uniform<i8:f32, 0.015625:0>>
// CHECK-NEXT:    %[[YF:.*]] = graph.dequantize %y : (tensor<1x2x2x3x!quant.uniform<i8:f32, 0.015625:0>>) -> tensor<1x2x2x3xf32>
// CHECK-NEXT:    func.return %[[YF]] : tensor<1x2x2x3xf32>
// CHECK-NEXT:  }
// MISSING: graph-quantize: no calibrated range for '%c'
// NOTHING: graph-quantize: give either calibration=FILE or ranges=NAME=LOW:HIGH
func.func @main(%x: tensor<1x2x2x1xf32> {onnx.name = "x"}) -> (tensor<1x2x2x3xf32> {onnx.name = "y"}) {
  %w = graph.constant @w : tensor<2x1x1x1xf32> = dense<[[[[1.984375]]], [[[-0.9921875]]]]>
  %b = graph.constant @b : tensor<2xf32> = dense<[0.5, -0.25]>
  %c = graph.conv2d %x, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64, clamp_min = 0.0 : f32} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %fw = graph.constant @fw : tensor<3x2xf32> = dense<[[0.9921875, -0.5], [0.0, 0.0], [0.25, -0.49609375]]>
  %y = graph.fully_connected %c, %fw : (tensor<1x2x2x2xf32>, tensor<3x2xf32>) -> tensor<1x2x2x3xf32>
  func.return %y : tensor<1x2x2x3xf32>
}
