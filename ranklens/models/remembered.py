"""What loading a model found, remembered on disk, so that a later process can start without loading it.

A load is remembered under everything that decides its outcome (the kind, the name asked for, the fallback list,
the backend and the versions of the libraries that load and run it): the model used and why (a fallback), the
backend, the window and the vector size. A later process builds the model from that and loads the weights at the
first call that needs them: a query whose embedding and scores are cached needs none. What is remembered is used
only while it still holds (ranklens.models.loading checks the weights' fingerprint, the runtime, and that a model
replaced by its fallback still cannot be found); a load whose backend fell back to torch is not remembered.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from ranklens import cachedir
from ranklens.backends.exports import LIBRARIES as EXPORT_LIBRARIES
from ranklens.backends.exports import library_versions
from ranklens.settings import data_dir

LIBRARIES = ("sentence-transformers", *EXPORT_LIBRARIES)


@dataclass(frozen=True)
class RememberedLoad:
    """One load's outcome: the model used and its fingerprint, the backend that runs it, and why a fallback model
    stands in (None: the model asked for)."""

    used: str
    fingerprint: str
    backend: str
    window: int  # the model's window in tokens, special tokens included
    dimension: int | None  # a bi-encoder's vector size (None for a cross-encoder)
    fallback_reason: str | None
    pooling: str | None = None  # a bi-encoder's pooling, where an export can run it: mean or cls


def load_key(kind: str, name: str, fallbacks: tuple[str, ...], backend: str) -> str:
    """Everything a load's outcome depends on, as one string."""
    return json.dumps([kind, name, list(fallbacks), backend, library_versions(LIBRARIES)])


def _file():
    return data_dir() / "cache" / "model_loads.json"


def _read() -> dict:
    try:
        known = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def recall(key: str) -> RememberedLoad | None:
    """The load remembered under `key`, if any (a damaged entry counts as none)."""
    stored = _read().get(key)
    try:
        return RememberedLoad(**stored) if isinstance(stored, dict) else None
    except TypeError:
        return None


def _write(known: dict) -> None:
    cachedir.replace_file(_file(), json.dumps(known, indent=1))


def remember(key: str, load: RememberedLoad) -> None:
    """Keep a load's outcome (two processes writing at once may lose one entry: that load is only done again)."""
    known = _read()
    if known.get(key) != asdict(load):
        _write({**known, key: asdict(load)})


def forget(key: str) -> None:
    """Drop a remembered load that no longer holds, so the next start loads the model before using it."""
    known = _read()
    if key in known:
        del known[key]
        _write(known)
