"""Backends: what runs a model's forward pass (PyTorch fp32/bf16, ONNX Runtime, OpenVINO).

`registry` names them and builds a forward pass; `cpu` holds what the processor can do;
one module per runtime; `exports` keeps the converted model files on disk.
"""
