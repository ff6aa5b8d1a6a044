"""Reranking and indexing speed: the tutorial's code against each RankLens backend, in one interleaved run.

    python bench/rerank_speed.py [--datasets med scifact] [--sizes 10 100 1000] [--repeats 5]   # ~8 min; --long more

The same as `ranklens bench`: 10 and 100 candidates of med reranked by the tutorial's `CrossEncoder.predict` and by
each backend, every implementation once per round, medians of the rounds; nDCG@10 against the tutorial's; indexing
200 documents; the time to a first result in a new process. Ratios are against the tutorial's code in the same run.
Prints a table and writes $RANKLENS_HOME/bench/rerank_speed.csv (or --csv FILE).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranklens.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
