"""Models: load the bi-encoder and cross-encoder by hub id or local path, offline-safe.

Models are named by their usual ids exactly as a user with internet would; without
internet they come from the Hugging Face cache that `HF_HUB_CACHE` points at. When the
default cross-encoder cannot be loaded, the first loadable entry of the configured
fallback list (`RANKLENS_CE_FALLBACKS`, separated by `os.pathsep`) is used, and the
returned `Reranker` says so in `fallback_reason`.
"""

from __future__ import annotations

import json
import logging as std_logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ranklens.backends import (
    BACKENDS,
    BackendUnavailable,
    Forward,
    batches_by_length,
    configure_threads,
    make_forward,
    torch_forward,
)

DEFAULT_BI_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_CROSS_ENCODER = "cross-encoder/ms-marco-MiniLM-L-6-v2"
FALLBACKS_ENV = "RANKLENS_CE_FALLBACKS"
# Pairs per cross-encoder batch: 16 was fastest on med's 100 candidates here (32 pads more, 8 starves the cores)
DEFAULT_CE_BATCH = 16


class ModelError(RuntimeError):
    """A model that cannot be loaded or is the wrong kind; the message says what to do."""


def _model_file(name: str, filename: str) -> dict | list | None:
    """A small JSON file of a local model folder or a hub model (from the cache when offline)."""
    local = Path(name).expanduser()
    if local.is_dir():
        path: Path | None = local / filename
    else:
        from huggingface_hub import hf_hub_download

        try:
            path = Path(hf_hub_download(name, filename))
        except Exception:  # absent file, unknown repo or no network: all mean "cannot tell from this file"
            path = None
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def model_kind(name: str) -> str | None:
    """'cross', 'bi', or None when the files do not say; read before loading, because
    sentence-transformers silently converts one kind into the other."""
    st_config = _model_file(name, "config_sentence_transformers.json") or {}
    declared = st_config.get("model_type") if isinstance(st_config, dict) else None
    if declared == "CrossEncoder":
        return "cross"
    if declared == "SentenceTransformer":
        return "bi"
    modules = _model_file(name, "modules.json") or []
    if any("Pooling" in str(module.get("type", "")) for module in modules if isinstance(module, dict)):
        return "bi"
    hf_config = _model_file(name, "config.json") or {}
    architectures = hf_config.get("architectures") or [] if isinstance(hf_config, dict) else []
    if any(arch.endswith("ForSequenceClassification") for arch in architectures):
        return "cross"
    return None


def _fingerprint(name: str) -> str:
    """Identifies the weights, so caches keyed on it go stale when a local model is retrained."""
    local = Path(name).expanduser()
    if local.is_dir():
        weights = sorted(local.glob("*.safetensors")) + sorted(local.glob("*.bin"))
        stamp = ",".join(f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}" for w in weights)
        return f"{local.resolve()}|{stamp}"
    return name


def _pad(tokenizer, encoded: dict[str, list], positions: np.ndarray) -> dict[str, np.ndarray]:
    """One batch of already-tokenized texts, padded to its longest, as int64 arrays."""
    batch = tokenizer.pad({name: [encoded[name][i] for i in positions] for name in encoded}, return_tensors="np")
    return {name: np.asarray(values, dtype=np.int64) for name, values in batch.items()}


class Embedder:
    """The bi-encoder: normalized embeddings, and a count of model calls for tests and the UI.

    With the torch backends sentence-transformers' `encode` runs as is (it sorts by length
    itself). ONNX Runtime and OpenVINO run the transformer in `forward` over token-length-sorted
    batches and pool it the way the model's Pooling module says (mean or CLS), then normalize.
    """

    def __init__(self, name: str, model, backend: str = "torch", forward: Forward | None = None,
                 exported: bool = False, backend_note: str | None = None) -> None:
        self.name = name
        self.model = model
        self.backend = backend
        self.forward = forward
        self.exported = exported
        self.backend_note = backend_note
        # fp32 keeps the bare fingerprint, so indexes cached before backends existed stay valid
        self.fingerprint = _fingerprint(name) + ("" if backend == "torch" else f"|{backend}")
        self.calls = 0

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    @property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.calls += 1
        if self.forward is None:
            embeddings = self.model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                           show_progress_bar=False)
            return _unit_rows(np.asarray(embeddings, dtype=np.float32))  # in fp32: bf16 normalizes only to ~1e-3
        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.max_tokens)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooling = pooling_mode(self.model)
        for positions in batches_by_length([len(ids) for ids in encoded["input_ids"]], batch_size):
            feed = _pad(self.tokenizer, encoded, positions)
            tokens = self.forward(feed)
            if pooling == "cls":
                pooled = tokens[:, 0]
            else:
                mask = feed["attention_mask"][..., None].astype(np.float32)
                pooled = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            vectors[positions] = _unit_rows(pooled)
        return vectors


def embedding_agreement(embedder: Embedder, reference: Embedder, texts: Sequence[str]) -> tuple[float, float]:
    """Lowest and mean cosine between each text's embedding by `embedder` and by `reference` (torch fp32):
    how far another backend moves the index."""
    cosines = (embedder.encode(texts) * reference.encode(texts)).sum(axis=1)
    return float(cosines.min()), float(cosines.mean())


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12),
                                dtype=np.float32)


def pooling_mode(model) -> str | None:
    """'mean' or 'cls' for a plain Transformer + Pooling (+ Normalize) bi-encoder; None for anything else,
    which only sentence-transformers' own `encode` can run."""
    modules = list(model)
    names = [type(module).__name__ for module in modules]
    if names[:2] != ["Transformer", "Pooling"] or any(n != "Normalize" for n in names[2:]):
        return None
    mode = str(getattr(modules[1], "pooling_mode", ""))
    return mode if mode in ("mean", "cls") else None


Progress = Callable[[int, int], None]


class Reranker:
    """The cross-encoder: raw logits for (query, passage) pairs, in token-length-sorted batches.

    `backend` says what runs the forward pass (ranklens.backends): the CrossEncoder's own
    transformers model in fp32 or bf16, or an ONNX Runtime / OpenVINO export of the same weights.
    """

    def __init__(self, name: str, model, requested: str, forward: Forward, fallback_reason: str | None = None,
                 backend: str = "torch", exported: bool = False, backend_note: str | None = None) -> None:
        self.name = name
        self.model = model
        self.requested = requested
        self.forward = forward
        self.fallback_reason = fallback_reason
        self.backend = backend
        self.exported = exported  # this load exported the model (False: the export came from the disk cache)
        self.backend_note = backend_note  # why the asked-for backend is not the one in use
        self.fingerprint = f"{_fingerprint(name)}|{backend}"
        self.calls = 0

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def tokenize(self, pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, list], np.ndarray]:
        """The pairs' token ids cut at the model's window, and which pairs it cut, in one tokenizer pass
        (tokenizing 100 abstracts costs a tenth of reranking them here)."""
        queries, passages = [q for q, _ in pairs], [p for _, p in pairs]
        tokenizer = self.model.tokenizer
        encoded = tokenizer(queries, passages, truncation=True, max_length=self.max_tokens)
        if encoded.encodings is not None:  # a fast tokenizer keeps what truncation cut off
            truncated = np.array([bool(e.overflowing) for e in encoded.encodings], dtype=bool)
        else:
            whole = tokenizer(queries, passages, truncation=False, verbose=False)["input_ids"]
            truncated = np.array([len(ids) > self.max_tokens for ids in whole], dtype=bool)
        return encoded, truncated

    def score_with_truncation(self, pairs: Sequence[tuple[str, str]], batch_size: int = DEFAULT_CE_BATCH,
                              progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Raw logits in the order of `pairs`, and whether the model's window cut each pair short.

        Pairs are scored in batches of similar token length, so little of each batch is
        padding; the scores are put back in the order given. `progress(done, total)` hears
        after each batch; an exception raised there stops the remaining batches.
        """
        if not pairs:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=bool)
        self.calls += 1
        encoded, truncated = self.tokenize(pairs)
        scores = np.empty(len(pairs), dtype=np.float32)
        done = 0
        for positions in batches_by_length([len(ids) for ids in encoded["input_ids"]], batch_size):
            scores[positions] = self.forward(_pad(self.model.tokenizer, encoded, positions)).reshape(len(positions), -1)[:, 0]
            done += len(positions)
            if progress:
                progress(done, len(pairs))
        return scores, truncated

    def score(self, pairs: Sequence[tuple[str, str]], batch_size: int = DEFAULT_CE_BATCH) -> np.ndarray:
        return self.score_with_truncation(pairs, batch_size)[0]


_loaded: dict[tuple[str, ...], object] = {}
_rerankers: dict[tuple[str, ...], Reranker] = {}
_embedders: dict[tuple[str, ...], Embedder] = {}


def _quiet_transformers() -> None:
    from transformers.utils import logging

    logging.disable_progress_bar()  # a per-load "Loading weights" bar is noise in a CLI table or a test log
    logging.set_verbosity_error()
    # "Could not reach the Hub ... using cached commit" is the expected offline path, not news
    std_logging.getLogger("sentence_transformers").setLevel(std_logging.ERROR)


def _dtype_kwargs(backend: str) -> dict:
    import torch

    return {"model_kwargs": {"dtype": torch.bfloat16}} if backend == "torch-bf16" else {}


def _load_sentence_transformer(name: str, backend: str = "torch"):
    from sentence_transformers import SentenceTransformer

    _quiet_transformers()
    return SentenceTransformer(name, **_dtype_kwargs(backend))


def _load_cross_encoder(name: str, backend: str = "torch"):
    import torch
    from sentence_transformers import CrossEncoder

    _quiet_transformers()
    # Identity, always: MS MARCO models emit logits, and a model whose config names no
    # activation would otherwise get a silent sigmoid. The hybrid applies sigmoid itself.
    return CrossEncoder(name, activation_fn=torch.nn.Identity(), **_dtype_kwargs(backend))


def _weights_kind(backend: str) -> str:
    """Which loaded weights a backend starts from: bf16 for torch-bf16, fp32 for everything else (exports included)."""
    return "bf16" if backend == "torch-bf16" else "fp32"


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")


def load_embedder(name: str = DEFAULT_BI_ENCODER, backend: str = "torch",
                  notify: Callable[[str], None] | None = None) -> Embedder:
    """The bi-encoder named by hub id or path, loaded once per process per backend.

    Where the asked-for backend cannot run (runtime missing, export failing, a model shape
    other than Transformer + mean/CLS pooling), torch fp32 runs and `backend_note` says why.
    """
    _check_backend(backend)
    if (name, backend) in _embedders:
        return _embedders[(name, backend)]
    if model_kind(name) == "cross":
        raise ModelError(f"{name} is a cross-encoder (it scores pairs); pick a bi-encoder for retrieval")
    configure_threads()
    key = ("bi", name, _weights_kind(backend))
    try:
        if key not in _loaded:
            _loaded[key] = _load_sentence_transformer(name, backend)
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot load bi-encoder {name}: {_first_line(err)}") from err
    model = _loaded[key]
    if backend.startswith("torch"):  # sentence-transformers' encode, in the dtype the weights were loaded in
        embedder = Embedder(name, model, backend)
    elif pooling_mode(model) is None:
        embedder = Embedder(name, model, backend_note=f"{BACKENDS[backend]} runs plain Transformer + mean/CLS pooling "
                            f"bi-encoders only, and {name} is not one; running torch fp32 instead")
    else:
        try:
            forward, exported = make_forward(backend, model[0].auto_model, model.tokenizer, _fingerprint(name),
                                             int(model.max_seq_length), pair=False, notify=notify)
            embedder = Embedder(name, model, backend, forward, exported)
        except BackendUnavailable as err:
            embedder = Embedder(name, model, backend_note=f"{BACKENDS[backend]} is not available ({_first_line(err)}); "
                                "running torch fp32 instead")
    _embedders[(name, backend)] = embedder
    return embedder


def configured_fallbacks() -> list[str]:
    return [entry for entry in os.environ.get(FALLBACKS_ENV, "").split(os.pathsep) if entry.strip()]


def load_reranker(name: str = DEFAULT_CROSS_ENCODER, fallbacks: Sequence[str] | None = None, backend: str = "torch",
                  notify: Callable[[str], None] | None = None) -> Reranker:
    """The cross-encoder named, else the first loadable fallback, saying why in `fallback_reason`.

    With an ONNX or OpenVINO backend the model is exported once (`notify` hears about it);
    where that runtime is missing, torch fp32 runs it and `backend_note` says why.
    """
    _check_backend(backend)
    candidates = [name, *(configured_fallbacks() if fallbacks is None else fallbacks)]
    cache_key = (*candidates, backend)
    if cache_key in _rerankers:  # the same object each time, so its call count means something
        return _rerankers[cache_key]
    configure_threads()
    failures: list[tuple[str, str]] = []
    for candidate in candidates:
        if candidate in (c for c, _ in failures):
            continue
        key = ("cross", candidate, _weights_kind(backend))
        if key not in _loaded:
            if model_kind(candidate) == "bi":
                error = f"{candidate} is a bi-encoder (it embeds single texts); pick a cross-encoder for reranking"
                if candidate == name:
                    raise ModelError(error)
                failures.append((candidate, error))
                continue
            try:
                _loaded[key] = _load_cross_encoder(candidate, backend)
            except OSError:
                failures.append((candidate, "not in the local Hugging Face cache, and the hub cannot be reached"))
                continue
            except ValueError as err:
                failures.append((candidate, _first_line(err)))
                continue
        reason = None
        if candidate != name:
            reason = f"{name} could not be loaded ({failures[0][1]}); using the fallback {candidate}"
        model = _loaded[key]
        used_backend, note = backend, None
        try:
            forward, exported = make_forward(backend, model.transformers_model, model.tokenizer, _fingerprint(candidate),
                                             int(model.max_seq_length), pair=True, notify=notify)
        except BackendUnavailable as err:
            note = f"{BACKENDS[backend]} is not available ({_first_line(err)}); running torch fp32 instead"
            used_backend, exported = "torch", False
            forward = torch_forward(model.transformers_model)
        reranker = Reranker(candidate, model, requested=name, forward=forward, fallback_reason=reason,
                            backend=used_backend, exported=exported, backend_note=note)
        _rerankers[cache_key] = reranker
        return reranker
    tried = "; ".join(f"{c}: {why}" for c, why in failures)
    hint = "" if len(candidates) > 1 else f" (no fallback configured: set {FALLBACKS_ENV})"
    raise ModelError(f"no cross-encoder could be loaded{hint}. Tried {tried}")


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
