"""A model's own files, read before loading it: what kind of model it is, and which weights it has."""

from __future__ import annotations

import json
from pathlib import Path


def looks_like_a_path(name: str) -> bool:
    """Whether a model name is a path rather than a hub id (which has slashes too)."""
    return name.startswith(("/", "~", "."))


def local_folder(name: str) -> Path | None:
    """The model's folder on this machine: the folder named, or the hub model's snapshot in the local cache; None
    where there is neither. Asks no network, so a process can start from it."""
    local = Path(name).expanduser()
    if local.is_dir():
        return local
    if looks_like_a_path(name):
        return None
    return _hub_snapshot(name)


def _hub_snapshot(name: str) -> Path | None:
    """The hub model's snapshot of its `main` revision in the local Hugging Face cache, where it has a config.json:
    read from the cache's documented layout (models--org--name/refs/main names the snapshots/ folder), as
    huggingface_hub's try_to_load_from_cache reads it (tests/test_models.py holds the two together), because
    importing that function brings huggingface_hub's HTTP stack, 50 ms of every first page here."""
    from huggingface_hub.constants import HF_HUB_CACHE  # the cache folder as set by HF_HUB_CACHE or HF_HOME

    repo = Path(HF_HUB_CACHE) / f"models--{name.replace('/', '--')}"
    try:
        revision = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    snapshot = repo / "snapshots" / revision
    return snapshot if revision and (snapshot / "config.json").is_file() else None


def model_file(name: str, filename: str) -> dict | list | None:
    """A small JSON file of a local model folder or a hub model (from the cache when offline); None if absent."""
    local = Path(name).expanduser()
    if local.is_dir():
        path: Path | None = local / filename
    else:
        from huggingface_hub import hf_hub_download

        try:
            path = Path(hf_hub_download(name, filename))
        except Exception:  # noqa: BLE001 -- absent file, unknown repo, no network: all mean "cannot tell"
            path = None
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def model_kind(name: str) -> str | None:
    """'cross', 'bi', or None when the files do not say; read before loading, because
    sentence-transformers silently converts one kind into the other."""
    st_config = model_file(name, "config_sentence_transformers.json") or {}
    declared = st_config.get("model_type") if isinstance(st_config, dict) else None
    if declared == "CrossEncoder":
        return "cross"
    if declared == "SentenceTransformer":
        return "bi"
    modules = model_file(name, "modules.json") or []
    if any("Pooling" in str(module.get("type", "")) for module in modules if isinstance(module, dict)):
        return "bi"
    hf_config = model_file(name, "config.json") or {}
    architectures = (hf_config.get("architectures") or []) if isinstance(hf_config, dict) else []
    if any(str(arch).endswith("ForSequenceClassification") for arch in architectures):
        return "cross"
    return None


def fingerprint(name: str) -> str:
    """Identifies the weights, so caches keyed on it go stale when a local model is retrained."""
    local = Path(name).expanduser()
    if local.is_dir():
        weights = sorted(local.glob("*.safetensors")) + sorted(local.glob("*.bin"))
        stamp = ",".join(f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}" for w in weights)
        return f"{local.resolve()}|{stamp}"
    return name
