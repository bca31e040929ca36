// RUN: tinycc-opt %s --split-input-file -p graph-int8-rounding | filecheck %s
// RUN: tinycc-opt %s --split-input-file -p "graph-int8-rounding{mode=onnx}" | filecheck %s --check-prefix=ONNX
// RUN: not tinycc-opt %s --split-input-file -p "graph-int8-rounding{mode=even}" 2>&1 | filecheck %s --check-prefix=BAD

// Every op with a quantized result gets the rounding mode; constants and the
// float edges (quantize, dequantize) do not, nor do float ops.
// CHECK-LABEL: func.func @mixed
// CHECK-NEXT:    %w = graph.constant @w : tensor<2x2x!quant.uniform<i8:f32, 0.5:0>> = dense<{{.*}}>
// CHECK-NEXT:    %q = graph.quantize %x : {{.*}}
// CHECK-NEXT:    %y = graph.fully_connected %q, %w {quant.rounding = "tflite"}
// CHECK-NEXT:    %r = graph.relu %y {quant.rounding = "tflite"}
// CHECK-NEXT:    %d = graph.dequantize %r : {{.*}}
// CHECK-NEXT:    %f = graph.relu %d : {{.*}}
// ONNX:          %y = graph.fully_connected %q, %w {quant.rounding = "onnx"}
// ONNX:          %r = graph.relu %y {quant.rounding = "onnx"}
// BAD: graph-int8-rounding: mode must be one of tflite, onnx, not 'even'
func.func @mixed(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = graph.constant @w : tensor<2x2x!quant.uniform<i8:f32, 0.5:0>> = dense<[[1, 2], [3, 4]]>
  %q = graph.quantize %x : (tensor<1x2xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.1:-5>>
  %y = graph.fully_connected %q, %w : (tensor<1x2x!quant.uniform<i8:f32, 0.1:-5>>, tensor<2x2x!quant.uniform<i8:f32, 0.5:0>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.2:3>>
  %r = graph.relu %y : (tensor<1x2x!quant.uniform<i8:f32, 0.2:3>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.2:3>>
  %d = graph.dequantize %r : (tensor<1x2x!quant.uniform<i8:f32, 0.2:3>>) -> tensor<1x2xf32>
  %f = graph.relu %d : (tensor<1x2xf32>) -> tensor<1x2xf32>
  func.return %f : tensor<1x2xf32>
}
