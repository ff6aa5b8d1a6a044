"""Loading models by hub id or local path, offline-safe, once per process, with a fallback list.

Models are named by their usual ids exactly as a user with internet would; without
internet they come from the Hugging Face cache that `HF_HUB_CACHE` points at. When a model
cannot be loaded, the first loadable entry of its configured fallback list
(`RANKLENS_CE_FALLBACKS` for the cross-encoder, `RANKLENS_BI_FALLBACKS` for the bi-encoder,
separated by `os.pathsep`) is used, and the loaded model says so in `fallback_reason`.
"""

from __future__ import annotations

import logging as std_logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ranklens.backends.cpu import configure_threads
from ranklens.backends.exports import runtime_installed
from ranklens.backends.forward import make_forward
from ranklens.backends.registry import BACKENDS, IN_TORCH, BackendUnavailable, gpu_missing
from ranklens.backends.torch_runtime import torch_forward
from ranklens.models.embedder import Embedder, pooling_mode
from ranklens.models.files import fingerprint, local_folder, looks_like_a_path, model_kind
from ranklens.models.light import export_query_encoder, light_load
from ranklens.models.remembered import RememberedLoad, forget, load_key, recall, remember
from ranklens.models.reranker import Reranker

DEFAULT_BI_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_CROSS_ENCODER = "cross-encoder/ms-marco-MiniLM-L-6-v2"
FALLBACKS_ENV = {"cross": "RANKLENS_CE_FALLBACKS", "bi": "RANKLENS_BI_FALLBACKS"}
KIND_NAMES = {"cross": "cross-encoder", "bi": "bi-encoder"}
KIND_ROLES = {
    "cross": "it scores pairs; pick a bi-encoder for retrieval",
    "bi": "it embeds single texts; pick a cross-encoder for reranking",
}

Notify = Callable[[str], None]


class ModelError(RuntimeError):
    """A model that cannot be loaded or is the wrong kind; the message says what to do."""


_weights: dict[tuple[str, str, str], object] = {}  # (kind, name, fp32|bf16|fp16-cuda) -> the loaded model
_rerankers: dict[tuple[str, ...], Reranker] = {}
_embedders: dict[tuple[str, ...], Embedder] = {}


def configured_fallbacks(kind: str = "cross") -> list[str]:
    """The fallback list for 'cross' or 'bi' models, from the environment."""
    return [entry for entry in os.environ.get(FALLBACKS_ENV[kind], "").split(os.pathsep) if entry.strip()]


def first_line(err: BaseException) -> str:
    """An exception's message, first line only: enough for a status line."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _quiet_transformers() -> None:
    from transformers.utils import logging

    logging.disable_progress_bar()  # a per-load "Loading weights" bar is noise in a CLI table or a test log
    logging.set_verbosity_error()
    # "Could not reach the Hub ... using cached commit" is the expected offline path, not news
    std_logging.getLogger("sentence_transformers").setLevel(std_logging.ERROR)


def _weights_kind(backend: str) -> str:
    """Which loaded weights a backend starts from: bf16 for torch-bf16, fp16 on the GPU for cuda, fp32 (on the CPU)
    for everything else, exports included."""
    return {"torch-bf16": "bf16", "cuda": "fp16-cuda"}.get(backend, "fp32")


def _read_weights(kind: str, name: str, backend: str):
    import torch

    _quiet_transformers()
    weights = _weights_kind(backend)
    dtype = {"bf16": torch.bfloat16, "fp16-cuda": torch.float16}.get(weights)
    # The device always named: sentence-transformers would put a CPU backend's model on a GPU it finds.
    settings = {
        "device": "cuda" if weights == "fp16-cuda" else "cpu",
        **({"model_kwargs": {"dtype": dtype}} if dtype else {}),
    }
    if kind == "bi":
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(name, **settings)
    from sentence_transformers import CrossEncoder

    # Identity, always: MS MARCO models emit logits, and a model whose config names no
    # activation would otherwise get a silent sigmoid. The hybrid applies sigmoid itself.
    return CrossEncoder(name, activation_fn=torch.nn.Identity(), **settings)


def _runnable(backend: str) -> tuple[str, str | None]:
    """The backend that will run for `backend` here, and why it is another one (torch fp32 without a GPU)."""
    missing = gpu_missing(backend)
    if missing is None:
        return backend, None
    return "torch", f"{BACKENDS[backend]} is not available ({missing}); running torch fp32 instead"


def _why_not_loaded(name: str, err: BaseException) -> str:
    if isinstance(err, OSError):
        if Path(name).expanduser().exists() or looks_like_a_path(name):
            return f"no loadable model folder at {name} ({first_line(err)})"
        return "not in the local Hugging Face cache, and the hub cannot be reached"
    return first_line(err)


def _load_first(kind: str, name: str, fallbacks: Sequence[str], backend: str) -> tuple[str, object, str | None]:
    """The first of `name` and its fallbacks that loads as a `kind` model: (its name, the model, why `name`
    was not used or None). A model of the other kind is refused outright when it is `name` itself."""
    failures: list[tuple[str, str]] = []
    for candidate in dict.fromkeys([name, *fallbacks]):
        key = (kind, candidate, _weights_kind(backend))
        if key not in _weights:
            found = model_kind(candidate)
            if found is not None and found != kind:
                error = f"{candidate} is a {KIND_NAMES[found]} ({KIND_ROLES[found]})"
                if candidate == name:
                    raise ModelError(error)
                failures.append((candidate, error))
                continue
            try:
                _weights[key] = _read_weights(kind, candidate, backend)
            except (OSError, ValueError) as err:
                failures.append((candidate, _why_not_loaded(candidate, err)))
                continue
        reason = (
            None
            if candidate == name
            else f"{name} could not be loaded ({failures[0][1]}); using the fallback {candidate}"
        )
        return candidate, _weights[key], reason
    tried = "; ".join(f"{c}: {why}" for c, why in failures)
    hint = "" if fallbacks else f" (no fallback configured: set {FALLBACKS_ENV[kind]})"
    raise ModelError(f"no {KIND_NAMES[kind]} could be loaded{hint}. Tried {tried}")


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")


def load_embedder(
    name: str = DEFAULT_BI_ENCODER,
    backend: str = "torch",
    notify: Notify | None = None,
    fallbacks: Sequence[str] | None = None,
) -> Embedder:
    """The bi-encoder named by hub id or path (else the first loadable fallback), once per process per backend.

    Where the asked-for backend cannot run (runtime missing, export failing, a model shape
    other than Transformer + mean/CLS pooling), torch fp32 runs and `backend_note` says why.
    Where the same load was done before on this machine (ranklens.models.remembered), the
    weights stay on disk until a text has to be embedded, and then an export on disk embeds it
    where there is one (the backend's own, or for torch fp32 the query encoder that its first
    load exported): no torch import.
    """
    _check_backend(backend)
    fallbacks = configured_fallbacks("bi") if fallbacks is None else list(fallbacks)
    cache_key = (name, *fallbacks, backend)
    if cache_key not in _embedders:
        _embedders[cache_key] = _remembered_or_loaded(
            "bi", name, fallbacks, backend, lambda: _load_embedder_now(name, fallbacks, backend, notify)
        )
    return _embedders[cache_key]


def _load_embedder_now(name: str, fallbacks: Sequence[str], backend: str, notify: Notify | None) -> Embedder:
    configure_threads()
    runs, gpu_note = _runnable(backend)
    used, model, reason = _load_first("bi", name, fallbacks, runs)
    if gpu_note:
        return Embedder(used, model, backend_note=gpu_note, fallback_reason=reason)
    if backend in IN_TORCH:  # sentence-transformers' encode, in the dtype and on the device the weights were loaded
        if backend == "torch":
            export_query_encoder(used, model, notify)
        return Embedder(used, model, backend, fallback_reason=reason)
    if pooling_mode(model) is None:
        note = (
            f"{BACKENDS[backend]} runs plain Transformer + mean/CLS pooling bi-encoders only, and {used} is not "
            "one; running torch fp32 instead"
        )
        return Embedder(used, model, backend_note=note, fallback_reason=reason)  # fp32 weights: see _weights_kind
    try:
        forward, exported = make_forward(
            backend,
            model[0].auto_model,
            model.tokenizer,
            fingerprint(used),
            int(model.max_seq_length),
            pair=False,
            notify=notify,
        )
        return Embedder(used, model, backend, forward, exported, fallback_reason=reason)
    except BackendUnavailable as err:
        note = f"{BACKENDS[backend]} is not available ({first_line(err)}); running torch fp32 instead"
        return Embedder(used, model, backend_note=note, fallback_reason=reason)


def load_reranker(
    name: str = DEFAULT_CROSS_ENCODER,
    fallbacks: Sequence[str] | None = None,
    backend: str = "torch",
    notify: Notify | None = None,
) -> Reranker:
    """The cross-encoder named, else the first loadable fallback, saying why in `fallback_reason`.

    With an ONNX or OpenVINO backend the model is exported once (`notify` hears about it);
    where that runtime is missing, torch fp32 runs it and `backend_note` says why. Where the
    same load was done before on this machine, the weights stay on disk until a pair has to
    be scored: a query whose scores are all in the score cache loads no model, and an export
    backend then loads only its export and a torch-free tokenizer (ranklens.models.tokens).
    """
    _check_backend(backend)
    fallbacks = configured_fallbacks("cross") if fallbacks is None else list(fallbacks)
    cache_key = (name, *fallbacks, backend)
    if cache_key not in _rerankers:  # the same object each time, so its call count means something
        _rerankers[cache_key] = _remembered_or_loaded(
            "cross", name, fallbacks, backend, lambda: _load_reranker_now(name, fallbacks, backend, notify)
        )
    return _rerankers[cache_key]


def _load_reranker_now(name: str, fallbacks: Sequence[str], backend: str, notify: Notify | None) -> Reranker:
    configure_threads()
    used_backend, note = _runnable(backend)
    used, model, reason = _load_first("cross", name, fallbacks, used_backend)
    try:
        forward, exported = make_forward(
            used_backend,
            model.transformers_model,
            model.tokenizer,
            fingerprint(used),
            int(model.max_seq_length),
            pair=True,
            notify=notify,
        )
    except BackendUnavailable as err:
        note = f"{BACKENDS[backend]} is not available ({first_line(err)}); running torch fp32 instead"
        used_backend, exported = "torch", False
        forward = torch_forward(model.transformers_model)
    reranker = Reranker(
        used,
        model,
        requested=name,
        forward=forward,
        fallback_reason=reason,
        backend=used_backend,
        exported=exported,
        backend_note=note,
    )
    reranker.warm_up()
    return reranker


def _outcome(loaded: Embedder | Reranker) -> RememberedLoad:
    bi = isinstance(loaded, Embedder)
    return RememberedLoad(
        loaded.name,
        fingerprint(loaded.name),
        loaded.backend,
        loaded.max_tokens,
        loaded.dimension if bi else None,
        loaded.fallback_reason,
        loaded.pooling if bi else None,
    )


def _still_holds(remembered: RememberedLoad | None, name: str) -> bool:
    """Whether a remembered load would come out the same now: the same weights, the backend's runtime still there,
    and a model that was replaced by its fallback still not to be found."""
    if remembered is None or fingerprint(remembered.used) != remembered.fingerprint:
        return False
    if not runtime_installed(remembered.backend):
        return False
    return _findable(remembered.used) and (remembered.used == name or not _findable(name))


def _remembered_or_loaded(
    kind: str, name: str, fallbacks: Sequence[str], backend: str, load_now: Callable[[], Embedder | Reranker]
) -> Embedder | Reranker:
    """The model built from the load remembered for these arguments, its weights left on disk until needed; else
    loaded now, and its load remembered."""
    key = load_key(kind, name, tuple(fallbacks), backend)
    remembered = recall(key)
    if not _still_holds(remembered, name):
        loaded = load_now()
        if loaded.backend_note is None:  # a backend that fell back is loaded each time: its runtime may come back
            remember(key, _outcome(loaded))
        return loaded
    assert remembered is not None
    if kind == "bi":
        deferred: Embedder | Reranker = Embedder(
            remembered.used,
            None,
            remembered.backend,
            fallback_reason=remembered.fallback_reason,
            max_tokens=remembered.window,
            dimension=remembered.dimension,
            pooling=remembered.pooling,
        )
    else:
        deferred = Reranker(
            remembered.used,
            None,
            name,
            None,
            fallback_reason=remembered.fallback_reason,
            backend=remembered.backend,
            max_tokens=remembered.window,
        )

    def load_as_remembered() -> Embedder | Reranker:
        loaded = load_now()
        if (loaded.name, loaded.fingerprint) != (deferred.name, deferred.fingerprint):
            forget(key)
            raise ModelError(
                f"the {KIND_NAMES[kind]} loaded as {loaded.name} on {loaded.backend}, not as {deferred.name} on "
                f"{deferred.backend} as it did before, and the caches hold the old one's results: run again (a new "
                f"command, or restart the app) to use {loaded.name}"
            )
        return loaded

    deferred.defer(load_as_remembered, light_load(kind, remembered))
    return deferred


def forget_loaded(kind: str, name: str, backend: str) -> None:
    """Drop a cached reranker or embedder (every fallback list), so the next load builds it again (tests, reloads)."""
    cache = _rerankers if kind == "cross" else _embedders
    for key in [k for k in cache if k[0] == name and k[-1] == backend]:
        del cache[key]


def _findable(name: str) -> bool:
    """Whether a model's files can be had without loading it: a local folder, the local hub cache, or the hub."""
    if local_folder(name) is not None:
        return True
    return not looks_like_a_path(name) and os.environ.get("HF_HUB_OFFLINE", "0") in ("0", "", "false")


def in_use(name: str, kind: str = "cross") -> tuple[str, str | None]:
    """The model a load of `name` would use (`name`, else the first findable fallback) and why, without loading
    any weights: what the sidebar shows as the model in use."""
    if _findable(name):
        return name, None
    fallback = next((f for f in configured_fallbacks(kind) if _findable(f)), None)
    if fallback is None:
        return name, f"{name} cannot be found here and no fallback is configured"
    return fallback, f"{name} cannot be found here; the configured fallback is used"
