"""Backends: what runs a model's forward pass, PyTorch (fp32 or bf16), ONNX Runtime or OpenVINO.

sentence-transformers' own `backend="onnx"` / `"openvino"` need optimum / optimum-intel, whose
releases conflict with the pinned transformers/torch (see the README), so the export is done
here with `torch.onnx.export`; ONNX Runtime runs it (int8: its dynamic quantization) and
OpenVINO reads the same file (int8: NNCF weight compression). Exports are cached on disk,
keyed by the model's weights, the backend and the library versions: a model is exported
once, never again at start-up. A backend is a callable from one padded batch of token ids
(numpy) to the model's first output: logits for a cross-encoder, token embeddings for a
bi-encoder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from ranklens.settings import data_dir

BACKENDS = {
    "torch": "PyTorch, fp32",
    "torch-bf16": "PyTorch, bfloat16 weights (fast where the CPU has native bf16: AMX or AVX512-BF16)",
    "onnx": "ONNX Runtime, fp32",
    "onnx-int8": "ONNX Runtime, int8 weights (dynamic quantization)",
    "openvino": "OpenVINO, fp32",
    "openvino-bf16": "OpenVINO, bfloat16 inference (its own default on CPUs with native bf16)",
    "openvino-int8": "OpenVINO, int8 weights (NNCF weight compression)",
}
# A lower-precision backend must keep the ranking. What the tests hold each to, as Spearman
# correlation with torch fp32 on the same real (query, abstract) pairs:
MIN_SPEARMAN = {"torch-bf16": 0.99, "onnx": 0.99, "onnx-int8": 0.95, "openvino": 0.99, "openvino-bf16": 0.99,
                "openvino-int8": 0.99}
# The default backend must reach DEFAULT_MIN_SPEARMAN (and, in bench/rerank_speed.py, 99.5 % of
# the seed's nDCG@10); among those that do, the fastest measured here is the default.
DEFAULT_MIN_SPEARMAN = 0.99
# A bi-encoder backend whose embeddings fall below this cosine with fp32's somewhere in the
# corpus gets a warning: its index may retrieve other documents (onnx-int8 reaches only 0.90).
MIN_INDEX_COSINE = 0.99
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

Forward = Callable[[dict[str, np.ndarray]], np.ndarray]


class BackendUnavailable(RuntimeError):
    """The runtime a backend needs is not installed or cannot export this model."""


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure_threads(cores: int | None = None) -> int:
    """One thread per core for torch and FAISS; ONNX Runtime and OpenVINO get the same. Called at model load,
    so that the libraries do not each start a pool of their own and fight over the cores."""
    import faiss
    import torch

    cores = cores or cpu_cores()
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    faiss.omp_set_num_threads(cores)
    return cores


def cpu_name() -> str | None:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware; without it bf16 is emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def default_backend() -> str:
    """torch-bf16 where the CPU has native bf16 (3.6-4.3x the seed's speed at 100 candidates here, at
    100.1-100.5 % of its nDCG@10); torch fp32 elsewhere. openvino-bf16 comes close but needs an export
    first; the int8 backends were slower than bf16 and onnx-int8 falls under DEFAULT_MIN_SPEARMAN
    (README, "Performance")."""
    return "torch-bf16" if native_bf16() else "torch"


def _versions() -> str:
    names = ("torch", "transformers", "onnx", "onnxruntime", "openvino", "nncf")
    found = []
    for name in names:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=none")
    return ",".join(found)


def export_key(fingerprint: str, backend: str, max_length: int) -> str:
    return hashlib.sha256(f"{fingerprint}|{backend}|{max_length}|{_versions()}".encode()).hexdigest()[:24]


def _export_onnx(module, tokenizer, pair: bool, target: Path) -> None:
    import torch

    sample = tokenizer(["query"], ["passage text"], return_tensors="pt") if pair else tokenizer(["text"], return_tensors="pt")
    names = [n for n in MODEL_INPUTS if n in sample]

    class FirstOutput(torch.nn.Module):
        """Inputs by name: a bare BertModel takes other arguments positionally, which the tracer would hit."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = module.eval()

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs)))[0]

    output = "logits" if pair else "token_embeddings"
    axes = {0: "batch"} if pair else {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            FirstOutput().eval(), tuple(sample[n] for n in names), str(target), input_names=names, output_names=[output],
            dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, output: axes},
            opset_version=17, dynamo=False,
        )


def _require(backend: str) -> None:
    needs = {"onnx": ("onnxruntime",), "onnx-int8": ("onnxruntime",), "openvino": ("openvino",),
             "openvino-bf16": ("openvino",), "openvino-int8": ("openvino", "nncf")}[backend]
    for package in needs:
        try:
            _import_nncf_quietly() if package == "nncf" else __import__(package)
        except ImportError as err:
            raise BackendUnavailable(f"{backend} needs {package}, which is not installed ({err})") from err


def _import_nncf_quietly():
    """NNCF sends usage telemetry at import unless it believes it runs in CI; RankLens sends nothing anywhere."""
    previous = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        import nncf
    finally:
        if previous is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = previous
    return nncf


def export(module, tokenizer, fingerprint: str, backend: str, max_length: int, pair: bool,
           cache_dir: Path | None = None, notify: Callable[[str], None] | None = None) -> tuple[Path, bool]:
    """The model file for this model and backend, and whether it had to be made now (False: from the cache).

    `module` is the transformers model whose first output is wanted; `pair` says it reads
    (query, passage) pairs (a cross-encoder) rather than single texts.
    """
    _require(backend)
    if backend in ("onnx", "openvino", "openvino-bf16"):
        stored_as = "onnx"  # OpenVINO reads the fp32 ONNX file itself; the precision is chosen at compile time
    else:
        stored_as = backend
    folder = (cache_dir or data_dir() / "exports") / export_key(fingerprint, stored_as, max_length)
    model_file = folder / ("model.xml" if stored_as == "openvino-int8" else "model.onnx")
    if model_file.is_file():
        return model_file, False
    source = None
    if stored_as != "onnx":
        source, _ = export(module, tokenizer, fingerprint, "onnx", max_length, pair, cache_dir, notify)
    if notify:
        notify(f"Exporting the model to {BACKENDS[backend]} (once; cached in {folder})…")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        if stored_as == "onnx":
            _export_onnx(module, tokenizer, pair, staging / "model.onnx")
        elif stored_as == "onnx-int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(source), str(staging / "model.onnx"), weight_type=QuantType.QInt8)
        else:
            import openvino as ov

            nncf = _import_nncf_quietly()

            compressed = nncf.compress_weights(ov.Core().read_model(str(source)), mode=nncf.CompressWeightsMode.INT8_ASYM)
            ov.save_model(compressed, str(staging / "model.xml"), compress_to_fp16=False)
        os.replace(staging, folder)
    except Exception as err:
        shutil.rmtree(staging, ignore_errors=True)
        if model_file.is_file():  # another process exported it first
            return model_file, False
        raise BackendUnavailable(f"could not export to {backend}: {type(err).__name__}: {err}") from err
    return model_file, True


def torch_forward(module) -> Forward:
    import torch

    module.eval()

    def forward(feed: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            output = module(**{name: torch.from_numpy(values) for name, values in feed.items()})[0]
        return output.float().numpy()

    return forward


def onnx_forward(path: Path) -> Forward:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = cpu_cores()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    return lambda feed: session.run(None, {n: v for n, v in feed.items() if n in names})[0]


def openvino_forward(path: Path, backend: str) -> Forward:
    import openvino as ov

    core = ov.Core()
    # compiled blobs are cached too, so a restart does not compile again
    core.set_property({"CACHE_DIR": str(data_dir() / "exports" / "openvino-blobs")})
    precision = {"openvino": "f32", "openvino-bf16": "bf16"}.get(backend)
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": cpu_cores()}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    compiled = core.compile_model(str(path), "CPU", config)
    names = {port.get_any_name() for port in compiled.inputs}
    request = compiled.create_infer_request()

    def forward(feed: dict[str, np.ndarray]) -> np.ndarray:
        return np.array(request.infer({n: v for n, v in feed.items() if n in names})[0])

    return forward


def make_forward(backend: str, module, tokenizer, fingerprint: str, max_length: int, pair: bool,
                 notify: Callable[[str], None] | None = None) -> tuple[Forward, bool]:
    """The forward pass for `backend` over `module` (a torch model already in the wanted dtype for torch
    backends), and whether an export had to be made now."""
    if backend.startswith("torch"):
        return torch_forward(module), False
    path, exported = export(module, tokenizer, fingerprint, backend, max_length, pair, notify=notify)
    if backend.startswith("onnx"):
        return onnx_forward(path), exported
    return openvino_forward(path, backend), exported


def batches_by_length(lengths: list[int], batch_size: int) -> list[np.ndarray]:
    """Positions grouped into batches of similar token length, so that little of each batch is padding."""
    order = np.argsort(lengths, kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def spearman(a, b) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)
