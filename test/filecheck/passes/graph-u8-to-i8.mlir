// RUN: tinycc-opt %s --split-input-file -p graph-u8-to-i8 | filecheck %s
// RUN: tinycc-opt %s --split-input-file -p graph-u8-to-i8,graph-u8-to-i8 | filecheck %s

// A uint8 QDQ conv behind float ports: every uint8 type becomes its int8
// twin (zero point - 128, same scales and axis), the constant's bytes are
// converted (0 -> -128, 255 -> 127), the int32 bias stays; no conversion op
// is needed since the ports are float.
// CHECK:       !q_w = !quant.uniform<i8:f32:0, {0.5:0, 0.25:-8}>
// CHECK-LABEL: func.func @float_ports
// CHECK-NEXT:    %q = graph.quantize %x : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:2>>
// CHECK-NEXT:    %w = graph.constant @w : tensor<2x1x1x2x!q_w> = dense<{{\[\[\[\[}}-128, 127]]], {{\[\[\[}}0, 1]]]]>
// CHECK-NEXT:    %b = graph.constant @b : tensor<2x!q_b> = dense<[10, -10]>
// CHECK-NEXT:    %c = graph.conv2d %q, %w, %b {{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.2:-128>>
// CHECK-NEXT:    %y = graph.dequantize %c : (tensor<1x2x2x2x!quant.uniform<i8:f32, 0.2:-128>>) -> tensor<1x2x2x2xf32>
// CHECK-NEXT:    func.return %y : tensor<1x2x2x2xf32>
func.func @float_ports(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = graph.quantize %x : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.1:130>>
  %w = graph.constant @w : tensor<2x1x1x2x!quant.uniform<u8:f32:0, {0.5:128, 0.25:120}>> = dense<[[[[0, 255]]], [[[128, 129]]]]>
  %b = graph.constant @b : tensor<2x!quant.uniform<i32:f32:0, {0.05:0, 0.025:0}>> = dense<[10, -10]>
  %c = graph.conv2d %q, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, groups = 1 : i64} : (tensor<1x2x2x2x!quant.uniform<u8:f32, 0.1:130>>, tensor<2x1x1x2x!quant.uniform<u8:f32:0, {0.5:128, 0.25:120}>>, tensor<2x!quant.uniform<i32:f32:0, {0.05:0, 0.025:0}>>) -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.2:0>>
  %y = graph.dequantize %c : (tensor<1x2x2x2x!quant.uniform<u8:f32, 0.2:0>>) -> tensor<1x2x2x2xf32>
  func.return %y : tensor<1x2x2x2xf32>
}

// -----

// uint8 ports stay the user's interface: a same-shape reshape converts the
// argument to int8 on entry and the result back to uint8 on exit, named
// after the ports. An argument that is also returned as it is keeps that use.
// CHECK-LABEL: func.func @uint8_ports
// CHECK-NEXT:    %x_int8 = graph.reshape %x {onnx.node = "x_int8"} : (tensor<1x4x!quant.uniform<u8:f32, 0.1:130>>) -> tensor<1x4x!quant.uniform<i8:f32, 0.1:2>>
// CHECK-NEXT:    %w = graph.constant @w : tensor<3x4x!quant.uniform<i8:f32, 0.5:0>> = dense<0>
// CHECK-NEXT:    %y = graph.fully_connected %x_int8, %w : (tensor<1x4x!quant.uniform<i8:f32, 0.1:2>>, tensor<3x4x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<1x3x!quant.uniform<i8:f32, 0.2:-118>>
// CHECK-NEXT:    %y_uint8 = graph.reshape %y {onnx.node = "y_uint8"} : (tensor<1x3x!quant.uniform<i8:f32, 0.2:-118>>) -> tensor<1x3x!quant.uniform<u8:f32, 0.2:10>>
// CHECK-NEXT:    func.return %y_uint8, %x : tensor<1x3x!quant.uniform<u8:f32, 0.2:10>>, tensor<1x4x!quant.uniform<u8:f32, 0.1:130>>
func.func @uint8_ports(%x: tensor<1x4x!quant.uniform<u8:f32, 0.1:130>> {onnx.name = "x"}) -> (tensor<1x3x!quant.uniform<u8:f32, 0.2:10>> {onnx.name = "y"}, tensor<1x4x!quant.uniform<u8:f32, 0.1:130>> {onnx.name = "x_again"}) {
  %w = graph.constant @w : tensor<3x4x!quant.uniform<u8:f32, 0.5:128>> = dense<128>
  %y = graph.fully_connected %x, %w : (tensor<1x4x!quant.uniform<u8:f32, 0.1:130>>, tensor<3x4x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<1x3x!quant.uniform<u8:f32, 0.2:10>>
  func.return %y, %x : tensor<1x3x!quant.uniform<u8:f32, 0.2:10>>, tensor<1x4x!quant.uniform<u8:f32, 0.1:130>>
}

// -----

// Nothing to do without uint8: int8, int32 and float are left as they are.
// CHECK-LABEL: func.func @int8
// CHECK-NEXT:    %w = graph.constant @w : tensor<2x2x!quant.uniform<i8:f32, 0.5:0>> = dense<{{\[\[}}1, 2], [3, 4]]>
// CHECK-NEXT:    %y = graph.fully_connected %x, %w
// CHECK-NEXT:    func.return %y
func.func @int8(%x: tensor<1x2x!quant.uniform<i8:f32, 0.1:-5>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.2:3>> {
  %w = graph.constant @w : tensor<2x2x!quant.uniform<i8:f32, 0.5:0>> = dense<[[1, 2], [3, 4]]>
  %y = graph.fully_connected %x, %w : (tensor<1x2x!quant.uniform<i8:f32, 0.1:-5>>, tensor<2x2x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.2:3>>
  func.return %y : tensor<1x2x!quant.uniform<i8:f32, 0.2:3>>
}
