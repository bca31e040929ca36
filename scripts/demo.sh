#!/usr/bin/env bash
# The main job: import the bundled KWS models (float and int8), show the IR,
# check them against onnxruntime; compile the float one to C, build and run
# it on the host, and compare with onnxruntime.
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
