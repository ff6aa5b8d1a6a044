"""Backends: run the cross-encoder in PyTorch, or exported to ONNX and run by ONNX Runtime (fp32 or int8).

sentence-transformers' own `backend="onnx"` / `"openvino"` need optimum, whose releases
conflict with the pinned transformers/torch (see the README), so the export is done here
with `torch.onnx.export` and int8 with ONNX Runtime's dynamic quantization. Exports are
cached on disk, keyed by the model's weights, the backend and the library versions: a
model is exported once, never again at start-up.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from ranklens.settings import data_dir

BACKENDS = {
    "torch": "PyTorch, fp32",
    "torch-bf16": "PyTorch, bfloat16 weights (fast where the CPU has native bf16: AMX or AVX512-BF16)",
    "onnx": "ONNX Runtime, fp32",
    "onnx-int8": "ONNX Runtime, int8 weights (dynamic quantization)",
}
# A lower-precision backend must keep the ranking. What the tests hold each to, as Spearman
# correlation with torch fp32 on the same real (query, abstract) pairs:
MIN_SPEARMAN = {"torch-bf16": 0.99, "onnx": 0.99, "onnx-int8": 0.95}
# The default backend must reach DEFAULT_MIN_SPEARMAN (and, in bench/rerank_speed.py, 99.5 % of
# the seed's nDCG@10); among those that do, the fastest measured here is the default.
DEFAULT_MIN_SPEARMAN = 0.99
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class BackendUnavailable(RuntimeError):
    """The runtime a backend needs is not installed or cannot export this model."""


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure_threads(cores: int | None = None) -> int:
    """One thread per core for torch and FAISS; ONNX Runtime sessions get the same. Called once at model load,
    so that the libraries do not each start a pool of their own and fight over the cores."""
    import faiss
    import torch

    cores = cores or cpu_cores()
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    faiss.omp_set_num_threads(cores)
    return cores


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware; without it bf16 is emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def default_backend() -> str:
    """torch-bf16 where the CPU has native bf16 (3.6x faster than fp32 here, Spearman 0.9999 with it);
    torch fp32 elsewhere: the ONNX backends were no faster than torch on our CPUs, and int8 falls under
    DEFAULT_MIN_SPEARMAN (README, "Performance")."""
    return "torch-bf16" if native_bf16() else "torch"


def _versions() -> str:
    names = ("torch", "transformers", "onnx", "onnxruntime")
    found = []
    for name in names:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=none")
    return ",".join(found)


def export_key(fingerprint: str, backend: str, max_length: int) -> str:
    return hashlib.sha256(f"{fingerprint}|{backend}|{max_length}|{_versions()}".encode()).hexdigest()[:24]


def _export_fp32(cross_encoder, target: Path) -> None:
    import torch

    tokenizer = cross_encoder.tokenizer
    model = cross_encoder.transformers_model.eval()
    sample = tokenizer(["query"], ["passage text"], return_tensors="pt")
    names = [n for n in _INPUTS if n in sample]
    with torch.no_grad():
        torch.onnx.export(
            model, tuple(sample[n] for n in names), str(target), input_names=names, output_names=["logits"],
            dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "logits": {0: "batch"}},
            opset_version=17, dynamo=False,
        )


def export(cross_encoder, fingerprint: str, backend: str, cache_dir: Path | None = None,
           notify: Callable[[str], None] | None = None) -> tuple[Path, bool]:
    """The ONNX file for this model and backend, and whether it had to be exported now (False: from the cache)."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as err:
        raise BackendUnavailable(f"{backend} needs onnxruntime, which is not installed ({err})") from err
    max_length = int(cross_encoder.max_seq_length)
    folder = (cache_dir or data_dir() / "onnx") / export_key(fingerprint, backend, max_length)
    model_file = folder / "model.onnx"
    if model_file.is_file():
        return model_file, False
    if notify:
        notify(f"Exporting the cross-encoder to {BACKENDS[backend]} (once; cached in {folder})…")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        fp32 = staging / ("model.onnx" if backend == "onnx" else "fp32.onnx")
        _export_fp32(cross_encoder, fp32)
        if backend == "onnx-int8":
            quantize_dynamic(str(fp32), str(staging / "model.onnx"), weight_type=QuantType.QInt8)
            fp32.unlink()
        os.replace(staging, folder)
    except Exception as err:
        shutil.rmtree(staging, ignore_errors=True)
        if model_file.is_file():  # another process exported it first
            return model_file, False
        raise BackendUnavailable(f"could not export to {backend}: {type(err).__name__}: {err}") from err
    return model_file, True


@dataclass
class OnnxScorer:
    """A cross-encoder's forward pass in ONNX Runtime: pairs in, raw logits out."""

    path: Path
    tokenizer: object
    max_length: int

    def __post_init__(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_cores()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
        logits = []
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start : start + batch_size]
            encoded = self.tokenizer([q for q, _ in batch], [p for _, p in batch], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="np")
            feed = {name: encoded[name].astype(np.int64) for name in self.input_names}
            logits.append(self.session.run(None, feed)[0][:, 0])
        return np.concatenate(logits) if logits else np.zeros(0, dtype=np.float32)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)

