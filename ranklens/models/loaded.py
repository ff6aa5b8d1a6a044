"""What every loaded model carries, bi-encoder or cross-encoder: its name and weights, what runs it and why, and how
many times it was called (the tests and the page count calls to show what the caches save)."""

from __future__ import annotations

from ranklens.backends.registry import Forward


class LoadedModel:
    """A model as loaded: `backend` runs `forward`; `backend_note` says why the asked-for backend is not the one in
    use, `fallback_reason` why another model stands in; `exported` is whether this load made the export (False: it
    came from the disk cache); `fingerprint` names the weights and the backend, for every cache key."""

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
    ) -> None:
        self.name = name
        self.model = model
        self.backend = backend
        self.forward = forward
        self.exported = exported
        self.backend_note = backend_note
        self.fallback_reason = fallback_reason
        self.fingerprint = fingerprint
        self.calls = 0
