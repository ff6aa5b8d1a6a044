"""The forward pass each backend builds: torch runs the loaded module itself; the others export it once (cached on
disk) and run the export on their runtime."""

from __future__ import annotations

from collections.abc import Callable

from ranklens.backends.exports import export
from ranklens.backends.registry import IN_TORCH, Forward


def make_forward(
    backend: str,
    module,
    tokenizer,
    fingerprint: str,
    max_length: int,
    pair: bool,
    notify: Callable[[str], None] | None = None,
) -> tuple[Forward, bool]:
    """The forward pass for `backend` over `module`, and whether an export had to be made now.

    For the torch backends `module` must already be in the wanted dtype and on its device; the others export it
    (once, cached on disk) and run the export.
    """
    if backend in IN_TORCH:
        from ranklens.backends.torch_runtime import torch_forward  # imports torch: only for a torch backend

        return torch_forward(module), False
    path, exported = export(module, tokenizer, fingerprint, backend, max_length, pair, notify=notify)
    try:
        return run_export(backend, path), exported
    except Exception:  # any runtime's load error on a cached file means it is damaged
        if exported:
            raise
    path, exported = export(module, tokenizer, fingerprint, backend, max_length, pair, notify=notify, force=True)
    return run_export(backend, path), exported


def run_export(backend: str, path) -> Forward:
    """The forward pass of an exported model file on `backend`'s runtime (ONNX Runtime or OpenVINO)."""
    if backend.startswith("onnx"):
        from ranklens.backends.onnx_runtime import onnx_forward

        return onnx_forward(path)
    from ranklens.backends.openvino_runtime import openvino_forward

    return openvino_forward(path, backend)
