"""Backends: what runs a model's forward pass (PyTorch fp32/bf16, ONNX Runtime, OpenVINO, CUDA).

`registry` names them and what each must keep of the ranking; `cpu` what the processor can do;
one module per runtime; `exports` keeps the converted model files on disk; `forward` builds a
backend's forward pass. May import: the base modules and corpus (real pairs to calibrate on).
"""
