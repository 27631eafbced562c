"""ONNX: loading inside a bundle, graph facts, graph diff, what onnxruntime can run, smoke runs."""
