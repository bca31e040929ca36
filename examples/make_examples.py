"""Regenerate the bundled example models (seeded, so the files are stable).

    python examples/make_examples.py

kws_dscnn.onnx       MLPerf Tiny KWS DS-CNN, float32, NCHW as PyTorch exports it
kws_dscnn_int8.onnx  the same network quantized to int8 QDQ by onnxruntime
"""

from pathlib import Path

import onnx

from tinycc import zoo

HERE = Path(__file__).parent

if __name__ == "__main__":
    model = zoo.kws_dscnn(seed=0)
    onnx.save(model, HERE / "kws_dscnn.onnx")
    onnx.save(zoo.quantize_qdq(model, seed=0), HERE / "kws_dscnn_int8.onnx")
