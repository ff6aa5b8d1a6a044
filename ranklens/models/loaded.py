"""What every loaded model carries, bi-encoder or cross-encoder: its name and weights, what runs it and why, and how
many times it was called (the tests and the page count calls to show what the caches save).

A model can also be built from a remembered load (ranklens.models.remembered) with its weights still on disk: it
knows its name, backend, fingerprint and window, and loads at the first call that needs the weights."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ranklens.backends.registry import Forward


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
        self.load_ms = 0.0  # time a deferred load took (0: loaded when built, or not loaded yet)
        self._load: Callable[[], LoadedModel] | None = None
        self._loading = threading.Lock()

    def defer(self, load: Callable[[], LoadedModel]) -> None:
        """Leave the weights on disk until a call needs them; `load()` then returns the same model loaded (or
        raises, where it would be another model or backend than this one says)."""
        self._load = load

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory."""
        return self._load is None

    def ensure_loaded(self) -> None:
        """Load the weights now, if they were left on disk."""
        with self._loading:
            if self._load is None:
                return
            started = time.perf_counter()
            real = self._load()
            self._model, self._forward, self.exported = real._model, real._forward, real.exported
            self._load = None
            self.load_ms = (time.perf_counter() - started) * 1000

    @property
    def model(self):
        """The sentence-transformers model (loading it first, if it was left on disk)."""
        self.ensure_loaded()
        return self._model

    @property
    def forward(self) -> Forward | None:
        """The backend's forward pass (None: the model's own encode runs)."""
        self.ensure_loaded()
        return self._forward

    @forward.setter
    def forward(self, forward: Forward | None) -> None:
        self.ensure_loaded()
        self._forward = forward
