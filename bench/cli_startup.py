"""Time to a first result in a new process: `python -m ranklens search --corpus python` per cross-encoder backend.

    python bench/cli_startup.py [--backends auto torch-bf16 openvino-bf16] [--runs 3]

For each backend, on a fresh RANKLENS_HOME (a temporary folder, removed afterwards):

- cold: the first-ever start (index, exports, for `auto` the backend measurement);
- warm, new query: a query no process has asked, with the index, exports and backend choice cached. Both models
  are needed: with a torch backend they load (torch, transformers, sentence-transformers); with an export backend
  the bi-encoder's fp32 export embeds the query and the cross-encoder's export reranks, neither importing torch;
- warm, repeated query: a query asked before (its embedding and scores cached: no model runs).

Each warm row is the median of --runs processes (distinct new queries for the new-query row), with the seconds the
command itself reported as "loading models" beside it; the ratio is to `torch-bf16`'s row in the same run, the
plain path where torch runs the cross-encoder. The browser's time is bench/app_startup.py's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.speed.first_result import QUESTIONS, ranklens_search

BASELINE = "torch-bf16"


def measure(backend: str, runs: int) -> list[dict]:
    """The three starts of one backend, on a home of its own."""
    with tempfile.TemporaryDirectory(prefix="ranklens-startup-") as home:
        cold = ranklens_search(home, backend, QUESTIONS[0])
        new = [ranklens_search(home, backend, f"{QUESTIONS[1 + i % 3]} ({i})") for i in range(runs)]
        repeated = [ranklens_search(home, backend, QUESTIONS[0]) for _ in range(runs)]
    rows = []
    for start, times in (("cold", [cold]), ("warm, new query", new), ("warm, repeated query", repeated)):
        rows.append(
            {
                "backend": backend,
                "start": start,
                "runs on": times[0][2],
                "seconds": statistics.median(wall for wall, _, _ in times),
                "loading models": statistics.median(load for _, load, _ in times),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["auto", BASELINE, "openvino-bf16"])
    parser.add_argument("--runs", type=int, default=3, help="processes per warm row (median)")
    args = parser.parse_args()
    backends = list(dict.fromkeys([*args.backends, BASELINE]))
    frame = pd.DataFrame([row for backend in backends for row in measure(backend, args.runs)])
    baseline = frame[frame["backend"] == BASELINE].set_index("start")["seconds"]
    frame[f"vs {BASELINE}"] = [baseline[start] / seconds for start, seconds in zip(frame["start"], frame["seconds"])]
    print(f"{cpu_name()}, {cpu_cores()} cores; `ranklens search --corpus python` in a new process, seconds")
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
