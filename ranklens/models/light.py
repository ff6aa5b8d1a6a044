"""Running a model from its export alone: an ONNX Runtime or OpenVINO file on disk and a torch-free tokenizer.

A process that finds a model's load remembered (ranklens.models.remembered) and its export cached can score pairs
or embed a query without importing torch, transformers or sentence-transformers (seconds here). A torch fp32
bi-encoder gets such an export too, its query encoder, made once at its first load.
"""

from __future__ import annotations

from collections.abc import Callable

from ranklens.backends.exports import cached_export, export, runtime_installed
from ranklens.backends.forward import run_export
from ranklens.backends.registry import IN_TORCH, BackendUnavailable, Forward
from ranklens.models.embedder import pooling_mode
from ranklens.models.files import fingerprint, local_folder
from ranklens.models.loaded import LightLoad
from ranklens.models.remembered import RememberedLoad
from ranklens.models.tokens import Tokens

QUERY_ENCODER = "onnx"  # what embeds a query for a torch fp32 bi-encoder left on disk: its fp32 export, same weights


def export_query_encoder(used: str, model, notify: Callable[[str], None] | None) -> None:
    """Export a torch fp32 bi-encoder to ONNX fp32 once, so that a later process can embed a query without
    importing torch (the same weights in the same precision: its embeddings agree with torch's to within 1e-5)."""
    if pooling_mode(model) is None or not runtime_installed(QUERY_ENCODER):
        return
    try:
        export(
            model[0].auto_model,
            model.tokenizer,
            fingerprint(used),
            QUERY_ENCODER,
            int(model.max_seq_length),
            pair=False,
            notify=notify,
        )
    except BackendUnavailable:
        return  # a later process loads the model to embed a query: slower to start, nothing else lost


def _export_run_by(kind: str, remembered: RememberedLoad) -> str | None:
    """The backend whose export can run a remembered model without torch: its own backend where that is an export,
    a torch fp32 bi-encoder's query encoder; None where only the loaded model can run it."""
    if kind == "bi" and remembered.pooling not in ("mean", "cls"):
        return None
    if remembered.backend not in IN_TORCH:
        return remembered.backend
    return QUERY_ENCODER if kind == "bi" and remembered.backend == "torch" else None


def light_load(kind: str, remembered: RememberedLoad) -> LightLoad | None:
    """How to run a remembered model from its export on disk with a torch-free tokenizer, or None where it cannot
    be (a torch backend, a bi-encoder whose pooling an export cannot do)."""
    runs_on = _export_run_by(kind, remembered)
    if runs_on is None:
        return None

    def load() -> tuple[Tokens, Forward] | None:
        path = cached_export(remembered.fingerprint, runs_on, remembered.window)
        folder = local_folder(remembered.used)
        if path is None or folder is None or not runtime_installed(runs_on):
            return None
        try:
            return Tokens(folder), run_export(runs_on, path)
        except Exception:  # noqa: BLE001 - any failure (a damaged file, a runtime error): the full load says what
            return None

    return load
