"""The shared BEIR datasets the benchmarks read (never copy): their folder, or the command stops saying how to set it."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranklens.settings import datasets_dir


def datasets_or_exit() -> Path:
    root = datasets_dir()
    if root is None:
        sys.exit("set RANKLENS_DATASETS to the folder of BEIR datasets (the Makefile does)")
    return root
