"""Which models a browser user may load: hub ids, the configured fallbacks, the project's tuned models, and
local folders under the roots the operator lists in RANKLENS_MODEL_ROOTS (separated by os.pathsep).

Loading a model runs its code paths on the server's files, so the app never loads an
arbitrary local path; the command line, run by the machine's own user, may.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from ranklens.models.loading import ModelError

MODEL_ROOTS_ENV = "RANKLENS_MODEL_ROOTS"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")


def model_roots() -> list[Path]:
    """The folders under which any local model may be loaded from the app."""
    return [
        Path(entry).expanduser().resolve()
        for entry in os.environ.get(MODEL_ROOTS_ENV, "").split(os.pathsep)
        if entry.strip()
    ]


def check_allowed(name: str, also_allowed: Sequence[str | Path] = ()) -> None:
    """Raise ModelError unless `name` is a hub id, one of `also_allowed`, or a folder under a model root."""
    name = name.strip()
    local = Path(name).expanduser()
    if _HUB_ID.fullmatch(name) and not local.exists():
        return
    allowed = {str(Path(p).expanduser().resolve()) for p in also_allowed}
    resolved = local.resolve()
    if str(resolved) in allowed or any(resolved.is_relative_to(root) for root in model_roots()):
        return
    raise ModelError(
        f"{name} is not a model the app may load: use a hub id, a listed model, or a folder under "
        f"{MODEL_ROOTS_ENV} (set by whoever runs the server)"
    )
