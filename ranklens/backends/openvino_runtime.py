"""OpenVINO as a backend: it reads our ONNX export (fp32 or bf16 inference), or an NNCF int8 model."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ranklens.backends.cpu import cpu_cores
from ranklens.backends.registry import Forward
from ranklens.settings import data_dir

PRECISION = {"openvino": "f32", "openvino-bf16": "bf16"}
# OpenVINO 2026.4.1 computes NNCF's weight-compressed int8 model wrong in more than one stream where it runs in bf16
# (logits about 1500 times too large on the AMX Xeon, even in one synchronous request; right in one stream, or in
# f32): it stays in one. tests/test_backends.py compares each backend's streams with one stream.
ONE_STREAM = {"openvino-int8"}
# Inputs NNCF measures activation ranges on: half its default of 300 keeps the same quality and quantizes in two
# thirds of the time (docs/performance.md)
CALIBRATION_SAMPLES = 150


def import_nncf_quietly():
    """NNCF sends usage telemetry at import unless it believes it runs in CI; RankLens sends nothing anywhere."""
    previous = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        import nncf
        from nncf.common.logging.logger import nncf_logger
    finally:
        if previous is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = previous
    for handler in nncf_logger.handlers:  # its log goes where RankLens's messages go, not into a command's output
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)
    return nncf


def compress_weights_int8(source: Path, target: Path) -> None:
    """NNCF weight compression of an ONNX model to int8 (activations stay in the inference precision)."""
    import openvino as ov

    nncf = import_nncf_quietly()
    with contextlib.redirect_stdout(sys.stderr):  # its progress bars, which write to sys.stdout
        compressed = nncf.compress_weights(ov.Core().read_model(str(source)), mode=nncf.CompressWeightsMode.INT8_ASYM)
    ov.save_model(compressed, str(target), compress_to_fp16=False)


def calibration_texts(pair: bool, count: int = CALIBRATION_SAMPLES) -> list[tuple[str, str]] | list[str]:
    """Real inputs to calibrate activations on: the built-in corpora's queries against their documents (pairs),
    or their documents alone; the same every time, so an export is reproducible."""
    from ranklens.corpus.corpus import builtin_names
    from ranklens.corpus.loading import load_builtin

    pairs = []
    for name in builtin_names():
        corpus = load_builtin(name)
        queries, texts = list(corpus.queries.values()), [d.text for d in corpus.documents]
        for i, query in enumerate(queries):
            pairs += [(query, texts[(i + j) % len(texts)]) for j in range(0, len(texts), 3)]
    chosen = pairs[:: max(1, len(pairs) // count)][:count]
    return chosen if pair else [text for _, text in chosen]


def quantize_static_int8(
    source: Path,
    target: Path,
    tokenizer,
    pair: bool,
    samples: int = CALIBRATION_SAMPLES,
    texts: Sequence[tuple[str, str]] | Sequence[str] | None = None,
    **options,
) -> None:
    """NNCF post-training quantization of an ONNX model to int8 weights and activations (its transformer preset:
    attention scores and softmax stay in floating point), the activation ranges measured on `samples` real
    inputs (`texts`, where given, instead; `options` go to nncf.quantize)."""
    import openvino as ov

    nncf = import_nncf_quietly()
    model = ov.Core().read_model(str(source))
    names = {port.get_any_name() for port in model.inputs}
    inputs = []
    for item in calibration_texts(pair, samples) if texts is None else texts:
        encoded = tokenizer(*item, truncation=True) if pair else tokenizer(item, truncation=True)
        inputs.append({k: np.array([v], dtype=np.int64) for k, v in encoded.items() if k in names})
    with contextlib.redirect_stdout(sys.stderr):
        quantized = nncf.quantize(
            model, nncf.Dataset(inputs), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(inputs), **options
        )
    ov.save_model(quantized, str(target), compress_to_fp16=False)


def openvino_forward(path: Path, backend: str, precision: str | None = None, streams: int | None = None) -> Forward:
    """A compiled OpenVINO model on the CPU as a forward pass; compiled blobs are cached beside the exports.
    `precision` ("f32", "bf16"): what runs the layers left in floating point, where not the backend's (OpenVINO's
    own default for an int8 model is bf16 on CPUs with native bf16).

    `streams` (one per core by default; one for ONE_STREAM): a batch is split into that many parts, run at once, a
    core each. In one stream the layers that are not matmuls (softmax, layer norms, GELU) leave a core idle while
    its partner works through them (1.1-1.2x faster in bf16 on 2 cores: docs/performance.md)."""
    import openvino as ov

    core = ov.Core()
    core.set_property({"CACHE_DIR": str(data_dir() / "exports" / "openvino-blobs")})
    if streams is None:
        streams = 1 if backend in ONE_STREAM else cpu_cores()
    streams = max(1, streams)
    config = {"INFERENCE_NUM_THREADS": cpu_cores()}
    if streams == 1:
        config["PERFORMANCE_HINT"] = "LATENCY"
    else:
        config |= {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": streams}
    if precision or backend in PRECISION:
        config["INFERENCE_PRECISION_HINT"] = precision or PRECISION[backend]
    compiled = core.compile_model(str(path), "CPU", config)
    names = {port.get_any_name() for port in compiled.inputs}
    requests = [compiled.create_infer_request() for _ in range(streams)]
    # A score per row (a cross-encoder's logits) lets each part drop the padding only its other rows needed; token
    # embeddings (a bi-encoder) keep the batch's width, so the parts can be put back together.
    rank = compiled.outputs[0].get_partial_shape().rank
    per_row = rank.is_static and rank.get_length() == 2

    def forward(feed: dict[str, np.ndarray]) -> np.ndarray:
        feed = {name: values for name, values in feed.items() if name in names}
        rows = len(next(iter(feed.values())))
        if len(requests) == 1 or rows == 1:
            return np.array(requests[0].infer(feed)[0])
        parts = np.array_split(np.arange(rows), min(len(requests), rows))
        for request, part in zip(requests, parts):
            columns = feed["attention_mask"][part].any(axis=0) if per_row and "attention_mask" in feed else slice(None)
            request.start_async({name: np.ascontiguousarray(values[part][:, columns]) for name, values in feed.items()})
        outputs = []
        for request in requests[: len(parts)]:
            request.wait()
            outputs.append(np.array(request.get_output_tensor(0).data))
        return np.concatenate(outputs)

    return forward
