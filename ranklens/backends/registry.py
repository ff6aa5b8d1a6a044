"""The backends by name, which of them this machine offers, and what each must keep of the ranking.

A forward pass is a callable from one padded batch of token ids (numpy) to the model's first
output: logits for a cross-encoder, token embeddings for a bi-encoder.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

BACKENDS = {
    "torch": "PyTorch, fp32",
    "torch-bf16": "PyTorch, bfloat16 weights (fast where the CPU has native bf16: AMX or AVX512-BF16)",
    "onnx": "ONNX Runtime, fp32",
    "onnx-int8": "ONNX Runtime, int8 weights (dynamic quantization)",
    "openvino": "OpenVINO, fp32",
    "openvino-bf16": "OpenVINO, bfloat16 inference (its own default on CPUs with native bf16)",
    "openvino-int8": "OpenVINO, int8 weights (NNCF weight compression)",
    "openvino-int8-static": "OpenVINO, int8 weights and activations (NNCF post-training quantization, calibrated "
    "on real pairs of the built-in corpora): int8 matmuls on VNNI and AMX",
    "cuda": "PyTorch on a CUDA GPU, float16 (offered only where torch sees a GPU)",
}
IN_TORCH = ("torch", "torch-bf16", "cuda")  # run by the loaded transformers module itself, not by an export
# A lower-precision backend must keep the ranking. What the tests hold each to, as Spearman
# correlation with torch fp32 on the same real (query, abstract) pairs:
MIN_SPEARMAN = {
    "torch-bf16": 0.99,
    "onnx": 0.99,
    "onnx-int8": 0.95,
    "openvino": 0.99,
    "openvino-bf16": 0.99,
    "openvino-int8": 0.99,
    "openvino-int8-static": 0.99,
    "cuda": 0.99,
}
# "auto" takes the fastest backend measured on this machine among those reaching DEFAULT_MIN_SPEARMAN on the
# calibration pairs (ranklens.speed.calibration); bench/rerank_speed.py checks them against the seed's nDCG@10.
DEFAULT_MIN_SPEARMAN = 0.99
# A bi-encoder backend whose embeddings fall below this cosine with fp32's somewhere in the
# corpus gets a warning: its index may retrieve other documents (onnx-int8 reaches only 0.90).
MIN_INDEX_COSINE = 0.99

Forward = Callable[[dict[str, np.ndarray]], np.ndarray]


class BackendUnavailable(RuntimeError):
    """The runtime a backend needs is not installed or cannot export this model."""


def _torch_build_has_no_gpu() -> bool:
    """Whether the installed torch is a CPU-only build, read from its version file without importing torch (which
    takes seconds: the sidebar asks before any model is needed)."""
    if "torch" in sys.modules:
        return False  # imported already: asking torch itself costs nothing
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False
    try:
        text = (Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text(encoding="utf-8")
    except OSError:
        return False
    return set(re.findall(r"^(cuda|hip)\b.*= None$", text, re.MULTILINE)) == {"cuda", "hip"}


def gpu_missing(backend: str) -> str | None:
    """Why `backend` cannot run on this machine's hardware, or None: only cuda needs more than the CPU."""
    if backend != "cuda":
        return None
    if _torch_build_has_no_gpu():
        return "torch sees no CUDA GPU here (this torch is a CPU-only build)"
    import torch

    return None if torch.cuda.is_available() else "torch sees no CUDA GPU here"


def fp32_reference(backend: str) -> str:
    """What a lower-precision `backend` is checked against on each query and evaluation: ONNX Runtime fp32, whose
    logits are torch fp32's to within 1e-4 (7e-6 on 600 med and scifact pairs; tests/test_backends.py) and which
    runs without importing torch (6-8 s here); torch fp32 where `backend` is that export or ONNX Runtime is missing."""
    if backend != "onnx" and importlib.util.find_spec("onnxruntime") is not None:
        return "onnx"
    return "torch"


def offered() -> list[str]:
    """The backends worth offering and measuring here: every one, but cuda only where there is a GPU."""
    return [backend for backend in BACKENDS if gpu_missing(backend) is None]
