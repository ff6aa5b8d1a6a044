"""The export cache: a model converted for a backend once, kept on disk, never converted again at start-up.

Keyed by the model's weights, the backend, the window and the versions of every library that
reads or writes the file, so an upgrade re-exports instead of loading a stale file. Each export folder holds
MANIFEST, what it was made from, so that exports left behind by an upgrade can be found and removed
(ranklens.caches).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from ranklens import cachedir
from ranklens.backends.registry import BACKENDS, BackendUnavailable
from ranklens.settings import data_dir

MANIFEST = "made.json"
# How a stored format's files are laid out, where not as first made (1); a change makes that format's earlier exports
# stale, and leaves the others (the int8 files made from an fp32 ONNX file do not depend on how it was laid out).
# onnx 2: its weights are in a file beside the graph (ranklens.backends.onnx_runtime.keep_weights_beside).
LAYOUTS = {"onnx": 2}
LIBRARIES = ("torch", "transformers", "onnx", "onnxruntime", "openvino", "nncf")
# What each backend's file is made from: None is the plain ONNX export itself.
MADE_FROM = {"onnx": None, "onnx-int8": "onnx", "openvino-int8": "onnx", "openvino-int8-static": "onnx"}
RUNTIMES = {
    "onnx": ("onnxruntime",),
    "onnx-int8": ("onnxruntime",),
    "openvino": ("openvino",),
    "openvino-bf16": ("openvino",),
    "openvino-int8": ("openvino", "nncf"),
    "openvino-int8-static": ("openvino", "nncf"),
}


def layout(stored_as: str) -> int:
    """The layout a stored format's exports are made in now (1: as first made)."""
    return LAYOUTS.get(stored_as, 1)


@functools.cache  # read once per process: the metadata of a few packages takes ~70 ms, and every model load asks
def library_versions(libraries: tuple[str, ...] = LIBRARIES) -> str:
    """'torch=2.13.0,transformers=...,...' (from the packages' metadata, nothing imported): part of every export's
    cache key, and of every other key that a library upgrade must change."""
    found = []
    for name in libraries:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=none")
    return ",".join(found)


def export_key(fingerprint: str, backend: str, max_length: int) -> str:
    """The export's folder name: the weights, the stored format, the window, the library versions and the layout
    (where not the first: the keys made before layouts changed stay as they were)."""
    key = f"{fingerprint}|{backend}|{max_length}|{library_versions()}"
    if layout(backend) != 1:
        key += f"|layout={layout(backend)}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def stale_export(folder: Path) -> bool:
    """Whether an export folder was made with other library versions than these or in an earlier layout (no load
    reads it again); False where it does not say (made before exports kept a manifest)."""
    try:
        made = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(made, dict):
        return False
    return made.get("libraries") != library_versions() or made.get("layout", 1) != layout(made.get("format"))


def require_runtime(backend: str) -> None:
    """Raise BackendUnavailable, naming the package, when a runtime the backend needs is not installed."""
    from ranklens.backends.openvino_runtime import import_nncf_quietly

    for package in RUNTIMES[backend]:
        try:
            import_nncf_quietly() if package == "nncf" else __import__(package)
        except ImportError as err:
            raise BackendUnavailable(f"{backend} needs {package}, which is not installed ({err})") from err


def runtime_installed(backend: str) -> bool:
    """Whether the runtimes a backend needs can be imported, found without importing them (torch backends: True)."""
    try:
        return all(importlib.util.find_spec(package) is not None for package in RUNTIMES.get(backend, ()))
    except ValueError:  # a module set to None in sys.modules: as good as not installed
        return False


def stored_format(backend: str) -> str:
    """OpenVINO fp32 and bf16 read the fp32 ONNX file itself (the precision is chosen at compile time)."""
    return "onnx" if backend in ("onnx", "openvino", "openvino-bf16") else backend


def _write(stored_as: str, module, tokenizer, pair: bool, source: Path | None, staging: Path) -> None:
    from ranklens.backends.onnx_runtime import export_onnx, quantize_dynamic_int8
    from ranklens.backends.openvino_runtime import compress_weights_int8, quantize_static_int8

    if stored_as == "onnx":
        export_onnx(module, tokenizer, pair, staging / "model.onnx")
    elif stored_as == "onnx-int8":
        quantize_dynamic_int8(source, staging / "model.onnx")
    elif stored_as == "openvino-int8-static":
        quantize_static_int8(source, staging / "model.xml", tokenizer, pair)
    else:
        compress_weights_int8(source, staging / "model.xml")


def _export_file(fingerprint: str, stored_as: str, max_length: int, cache_dir: Path | None = None) -> Path:
    folder = (cache_dir or data_dir() / "exports") / export_key(fingerprint, stored_as, max_length)
    return folder / ("model.xml" if stored_as.startswith("openvino-int8") else "model.onnx")


def cached_export(fingerprint: str, backend: str, max_length: int) -> Path | None:
    """The model file an earlier `export` made for this model, backend and window, if it is on disk (found without
    the model, so a process can run the export without loading the weights)."""
    model_file = _export_file(fingerprint, stored_format(backend), max_length)
    return model_file if model_file.is_file() else None


def export(
    module,
    tokenizer,
    fingerprint: str,
    backend: str,
    max_length: int,
    pair: bool,
    cache_dir: Path | None = None,
    notify: Callable[[str], None] | None = None,
    force: bool = False,
) -> tuple[Path, bool]:
    """The model file for this model and backend, and whether it had to be made now (False: from the cache).

    Args:
        module: the transformers model whose first output is wanted.
        pair: it reads (query, passage) pairs (a cross-encoder) rather than single texts.
        notify: hears one message before a conversion starts (it can take a minute).
        force: export again even if a file is cached (it failed to load: damaged).
    """
    require_runtime(backend)
    stored_as = stored_format(backend)
    model_file = _export_file(fingerprint, stored_as, max_length, cache_dir)
    folder = model_file.parent
    if model_file.is_file() and not force:
        return model_file, False
    source = None
    if MADE_FROM[stored_as]:
        source, _ = export(module, tokenizer, fingerprint, MADE_FROM[stored_as], max_length, pair, cache_dir, notify)
    if notify:
        notify(f"Exporting the model to {BACKENDS[backend]} (once; cached in {folder})…")
    staging = cachedir.staging_folder(folder)
    try:
        _write(stored_as, module, tokenizer, pair, source, staging)
        made = {
            "fingerprint": fingerprint,
            "format": stored_as,
            "window": max_length,
            "libraries": library_versions(),
            "layout": layout(stored_as),
        }
        (staging / MANIFEST).write_text(json.dumps(made, indent=1), encoding="utf-8")
        cachedir.install(staging, folder)  # a damaged export in the way is replaced
    except Exception as err:
        cachedir.discard(staging)
        raise BackendUnavailable(f"could not export to {backend}: {type(err).__name__}: {err}") from err
    return model_file, True
