"""Reranking and indexing speed: the seed's code path against each RankLens backend, in one interleaved run.

    python bench/rerank_speed.py [--datasets med scifact] [--sizes 10 100 1000] [--repeats 5]

Prints a table and writes a CSV. Medians of interleaved rounds; ratios are against the
seed's figure measured in the same run (this machine is shared and noisy).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranklens.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
