#!/usr/bin/env bash
# The main job: import the bundled KWS models (float and int8), show the IR,
# check them against onnxruntime; compile both to C (the int8 one to
# integer-only kernels, TFLite's numerics and onnxruntime's), build and run
# them on the host and the int8 one on an emulated Cortex-M4, and compare
# with the references.
source "$(dirname "$0")/setup.sh"
mkdir -p build
for model in kws_dscnn kws_dscnn_int8; do
    tinycc check "examples/$model.onnx"
    tinycc import "examples/$model.onnx" -o "build/$model.mlir"
    tinycc verify "examples/$model.onnx"
done
echo "--- the int8 graph, build/kws_dscnn_int8.mlir (first ops) ---"
grep -A 8 "func.func @main" build/kws_dscnn_int8.mlir | cut -c1-160
echo "--- compile to C ---"
tinycc compile examples/kws_dscnn.onnx -o build/kws_dscnn_c
tinycc verify examples/kws_dscnn.onnx --target host
tinycc compile examples/kws_dscnn_int8.onnx -o build/kws_dscnn_int8_c
tinycc verify examples/kws_dscnn_int8.onnx --target host
tinycc verify examples/kws_dscnn_int8.onnx --target host --int8-rounding onnx
echo "--- the int8 model on a Cortex-M4 (nRF52840) in QEMU: sizes, stack, instructions ---"
tinycc verify examples/kws_dscnn_int8.onnx --target cortex-m4
