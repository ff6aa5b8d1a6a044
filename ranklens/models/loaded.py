"""What every loaded model carries, bi-encoder or cross-encoder: its name and weights, what runs it and why, and how
many times it was called (the tests and the page count calls to show what the caches save).

A model can also be built from a remembered load (ranklens.models.remembered) with its weights still on disk: it
knows its name, backend, fingerprint and window, and loads at the first call that needs the weights. Where the
backend runs an export that is on disk, that first call loads only the export and a torch-free tokenizer
(ranklens.models.tokens): a forward pass needs no more, and the full sentence-transformers model (torch, seconds to import)
loads only if something asks for `model` itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ranklens.backends.registry import Forward
from ranklens.models.tokens import Tokens

LightLoad = Callable[[], "tuple[Tokens, Forward] | None"]  # an export's forward pass and tokenizer, or None


class LoadedModel:
    """A model as loaded: `backend` runs `forward`; `backend_note` says why the asked-for backend is not the one in
    use, `fallback_reason` why another model stands in; `exported` is whether this load made the export (False: it
    came from the disk cache); `fingerprint` names the weights and the backend, for every cache key; `max_tokens`
    is the model's window, special tokens included."""

    def __init__(
        self,
        name: str,
        model,
        backend: str,
        forward: Forward | None,
        exported: bool,
        backend_note: str | None,
        fallback_reason: str | None,
        fingerprint: str,
        max_tokens: int,
    ) -> None:
        self.name = name
        self._model = model
        self.backend = backend
        self._forward = forward
        self.exported = exported
        self.backend_note = backend_note
        self.fallback_reason = fallback_reason
        self.fingerprint = fingerprint
        self.max_tokens = max_tokens
        self.calls = 0
        self.load_ms = 0.0  # time deferred loads took (0: loaded when built, or not loaded yet)
        self._load: Callable[[], LoadedModel] | None = None
        self._light: LightLoad | None = None
        self._tokens: Tokens | None = None  # set by a light load, until the full model loads
        self._loading = threading.RLock()  # reentrant: the warm-up, run while it is held, calls the model

    def defer(self, load: Callable[[], LoadedModel], light: LightLoad | None = None) -> None:
        """Leave the weights on disk until a call needs them; `load()` then returns the same model loaded (or
        raises, where it would be another model or backend than this one says). `light()`, where given, is tried
        first by a forward pass: the export's forward pass and tokenizer, or None where they cannot be had."""
        self._load, self._light = load, light

    @property
    def loaded(self) -> bool:
        """Whether the full model is in memory."""
        return self._load is None

    @property
    def runnable(self) -> bool:
        """Whether a forward pass can run without loading anything: the full model, or a light load of its export."""
        return self._load is None or self._tokens is not None

    def ensure_loaded(self) -> None:
        """Load the full model now, if it was left on disk."""
        with self._loading:
            if self._load is None:
                return
            started = time.perf_counter()
            real = self._load()
            self._model, self._forward, self.exported = real._model, real._forward, real.exported
            self._load, self._light, self._tokens = None, None, None
            self.load_ms += (time.perf_counter() - started) * 1000

    def _load_light(self) -> bool:
        """With `_loading` held: the export's forward pass and tokenizer, warmed up, where a light load is still
        pending and can be had; whether this call loaded it."""
        if self._light is None:
            return False
        parts, self._light = self._light(), None
        if parts is None:
            return False
        self._tokens, self._forward = parts
        self.warm_up()
        return True

    def load_ahead(self) -> None:
        """Load the export now, on the calling thread, where it can be had and is not loaded yet (never the full
        model: importing torch would hold the interpreter for seconds). For a thread that readies a model before a
        call needs it (ranklens.ranking.search.load_ahead); such a call waits for it, and only that wait counts as its
        loading."""
        with self._loading:
            self._load_light()

    def ensure_runnable(self) -> None:
        """Make a forward pass possible: from the export alone where it can be had, else by loading the model.
        Where another thread is loading it (a load ahead), wait for that instead."""
        started = time.perf_counter()
        waited = not self._loading.acquire(blocking=False)
        if waited:
            self._loading.acquire()
        try:
            loaded = self._load_light()
        finally:
            self._loading.release()
        if waited or loaded:
            self.load_ms += (time.perf_counter() - started) * 1000
        if self._tokens is None:
            self.ensure_loaded()

    def warm_up(self) -> None:
        """What a model runs once after loading, outside its call count, so that no user waits for it (nothing
        here; the cross-encoder's first calls are slow)."""

    @property
    def model(self):
        """The sentence-transformers model (loading it first, if it was left on disk)."""
        self.ensure_loaded()
        return self._model

    @property
    def batch_tokenizer(self):
        """What tokenizes and pads the batches of a forward pass: the export's torch-free tokenizer after a light
        load, else the model's own."""
        self.ensure_runnable()
        return self._tokens if self._tokens is not None else self._model.tokenizer

    @property
    def forward(self) -> Forward | None:
        """The backend's forward pass (None: the model's own encode runs)."""
        self.ensure_runnable()
        return self._forward

    @forward.setter
    def forward(self, forward: Forward | None) -> None:
        self.ensure_runnable()
        self._forward = forward
