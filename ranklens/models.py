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

DEFAULT_BI_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_CROSS_ENCODER = "cross-encoder/ms-marco-MiniLM-L-6-v2"
FALLBACKS_ENV = "RANKLENS_CE_FALLBACKS"


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


class Embedder:
    """The bi-encoder: normalized embeddings, and a count of model calls for tests and the UI."""

    def __init__(self, name: str, model) -> None:
        self.name = name
        self.model = model
        self.fingerprint = _fingerprint(name)
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
        embeddings = self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(embeddings, dtype=np.float32)


class Reranker:
    """The cross-encoder: raw logits for (query, passage) pairs, in token-length-sorted batches.

    `backend` says what runs the forward pass: "torch" (the CrossEncoder itself) or an
    ONNX Runtime session over an export of the same weights (ranklens.backends).
    """

    def __init__(self, name: str, model, requested: str, fallback_reason: str | None = None,
                 backend: str = "torch", onnx_scorer=None, exported: bool = False, backend_note: str | None = None) -> None:
        self.name = name
        self.model = model
        self.requested = requested
        self.fallback_reason = fallback_reason
        self.backend = backend
        self.onnx_scorer = onnx_scorer
        self.exported = exported  # this load exported the model (False: the export came from the disk cache)
        self.backend_note = backend_note  # why the asked-for backend is not the one in use
        self.fingerprint = f"{_fingerprint(name)}|{backend}"
        self.calls = 0

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def token_lengths(self, pairs: Sequence[tuple[str, str]]) -> list[int]:
        """Untruncated token count of each pair as the model would see it (with special tokens)."""
        if not pairs:
            return []
        encoded = self.model.tokenizer([q for q, _ in pairs], [p for _, p in pairs], truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def score_with_lengths(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> tuple[np.ndarray, list[int]]:
        """Raw logits in the order of `pairs`, and each pair's untruncated token length.

        Pairs are scored in batches of similar token length, so little of each batch is
        padding; the scores are put back in the order given.
        """
        if not pairs:
            return np.zeros(0, dtype=np.float32), []
        self.calls += 1
        lengths = self.token_lengths(pairs)
        order = np.argsort(lengths, kind="stable")
        ordered = [pairs[i] for i in order]
        if self.onnx_scorer is not None:
            sorted_scores = self.onnx_scorer.predict(ordered, batch_size=batch_size)
        else:
            sorted_scores = self.model.predict(ordered, batch_size=batch_size, show_progress_bar=False,
                                               convert_to_numpy=True)
        scores = np.empty(len(pairs), dtype=np.float32)
        scores[order] = np.asarray(sorted_scores, dtype=np.float32).reshape(len(pairs))
        return scores, lengths

    def score(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
        return self.score_with_lengths(pairs, batch_size)[0]


_loaded: dict[tuple[str, ...], object] = {}
_rerankers: dict[tuple[str, ...], Reranker] = {}


def _quiet_transformers() -> None:
    from transformers.utils import logging

    logging.disable_progress_bar()  # a per-load "Loading weights" bar is noise in a CLI table or a test log
    logging.set_verbosity_error()
    # "Could not reach the Hub ... using cached commit" is the expected offline path, not news
    std_logging.getLogger("sentence_transformers").setLevel(std_logging.ERROR)


def _load_sentence_transformer(name: str):
    from sentence_transformers import SentenceTransformer

    _quiet_transformers()
    return SentenceTransformer(name)


def _load_cross_encoder(name: str, bf16: bool = False):
    import torch
    from sentence_transformers import CrossEncoder

    _quiet_transformers()
    if bf16:
        return CrossEncoder(name, activation_fn=torch.nn.Identity(), model_kwargs={"dtype": torch.bfloat16})
    # Identity, always: MS MARCO models emit logits, and a model whose config names no
    # activation would otherwise get a silent sigmoid. The hybrid applies sigmoid itself.
    return CrossEncoder(name, activation_fn=torch.nn.Identity())


def load_embedder(name: str = DEFAULT_BI_ENCODER) -> Embedder:
    """The bi-encoder named by hub id or path, loaded once per process."""
    if ("bi", name) not in _loaded:
        if model_kind(name) == "cross":
            raise ModelError(f"{name} is a cross-encoder (it scores pairs); pick a bi-encoder for retrieval")
        try:
            _loaded[("bi", name)] = Embedder(name, _load_sentence_transformer(name))
        except (OSError, ValueError) as err:
            raise ModelError(f"cannot load bi-encoder {name}: {_first_line(err)}") from err
    return _loaded[("bi", name)]  # type: ignore[return-value]


def configured_fallbacks() -> list[str]:
    return [entry for entry in os.environ.get(FALLBACKS_ENV, "").split(os.pathsep) if entry.strip()]


def load_reranker(name: str = DEFAULT_CROSS_ENCODER, fallbacks: Sequence[str] | None = None, backend: str = "torch",
                  notify: Callable[[str], None] | None = None) -> Reranker:
    """The cross-encoder named, else the first loadable fallback, saying why in `fallback_reason`.

    With an ONNX backend the model is exported once (`notify` hears about it) and run by
    ONNX Runtime; where that runtime is missing, torch runs it and `backend_note` says why.
    """
    from ranklens.backends import BACKENDS, BackendUnavailable, OnnxScorer, configure_threads, export

    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    candidates = [name, *(configured_fallbacks() if fallbacks is None else fallbacks)]
    cache_key = (*candidates, backend)
    if cache_key in _rerankers:  # the same object each time, so its call count means something
        return _rerankers[cache_key]
    configure_threads()
    failures: list[tuple[str, str]] = []
    for candidate in candidates:
        if candidate in (c for c, _ in failures):
            continue
        key = ("cross", candidate, "bf16" if backend == "torch-bf16" else "fp32")
        if key not in _loaded:
            if model_kind(candidate) == "bi":
                error = f"{candidate} is a bi-encoder (it embeds single texts); pick a cross-encoder for reranking"
                if candidate == name:
                    raise ModelError(error)
                failures.append((candidate, error))
                continue
            try:
                _loaded[key] = _load_cross_encoder(candidate, bf16=backend == "torch-bf16")
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
        scorer, exported, note, used_backend = None, False, None, backend
        if backend.startswith("onnx"):
            try:
                path, exported = export(model, _fingerprint(candidate), backend, notify=notify)
                scorer = OnnxScorer(path, model.tokenizer, int(model.max_seq_length))
            except (BackendUnavailable, ImportError) as err:
                note = f"{BACKENDS[backend]} is not available ({_first_line(err)}); running torch fp32 instead"
                used_backend = "torch"
        reranker = Reranker(candidate, model, requested=name, fallback_reason=reason, backend=used_backend,
                            onnx_scorer=scorer, exported=exported, backend_note=note)
        _rerankers[cache_key] = reranker
        return reranker
    tried = "; ".join(f"{c}: {why}" for c, why in failures)
    hint = "" if len(candidates) > 1 else f" (no fallback configured: set {FALLBACKS_ENV})"
    raise ModelError(f"no cross-encoder could be loaded{hint}. Tried {tried}")


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
