#!/usr/bin/env bash
# The main job: import the bundled KWS models, show the IR, check them
# against onnxruntime.
source "$(dirname "$0")/setup.sh"
mkdir -p build
for model in kws_dscnn kws_dscnn_int8; do
    tinycc check "examples/$model.onnx"
    tinycc import "examples/$model.onnx" -o "build/$model.mlir"
    tinycc verify "examples/$model.onnx"
done
echo "--- first lines of build/kws_dscnn_int8.mlir ---"
head -n 12 build/kws_dscnn_int8.mlir
