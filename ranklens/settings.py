"""Settings read from the environment: where RankLens keeps its files."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "RANKLENS_HOME"


def data_dir() -> Path:
    """Indexes, databases and tuned models live here: `$RANKLENS_HOME`, else ~/.cache/ranklens."""
    configured = os.environ.get(HOME_ENV)
    path = Path(configured).expanduser() if configured else Path.home() / ".cache" / "ranklens"
    path.mkdir(parents=True, exist_ok=True)
    return path


DATASETS_ENV = "RANKLENS_DATASETS"


def datasets_dir() -> Path | None:
    """Where named datasets (`--datasets med scifact`) are looked up: `$RANKLENS_DATASETS`, or None when unset."""
    configured = os.environ.get(DATASETS_ENV)
    return Path(configured).expanduser() if configured else None
