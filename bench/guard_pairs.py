"""Does `auto`'s accuracy guard judge the low-precision backends on pairs like those they will rerank?

    python bench/guard_pairs.py [--datasets med scifact] [--queries 20]

`auto` (ranklens.speed.calibration) rules a backend out when its Spearman with torch fp32 on 48 measuring pairs
falls under 0.99. Those pairs are the loaded corpus's queries against its documents joined to about 150 words, so
that each fills the model's window as an abstract does (a speed measured on one-sentence documents would say little).
This scores the same pairs and others with every low-precision backend, and gives its Spearman with torch fp32 on:

- the measuring pairs of the built-in `python` and `negation` corpora (what `auto` judges);
- those corpora's real pairs: every query against every document, as they are, over all pairs and per query;
- BM25's top 30 for the first N judged queries of real datasets, over all pairs and per query (the mean and the
  lowest): within one query's candidates is where a reranking's order is made.

Nothing is timed; the machine is named in the output, since int8 kernels differ between CPUs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd
from int8_calibration import reranking_sets
from shared_datasets import datasets_or_exit

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.backends.registry import offered
from ranklens.corpus.loading import load_builtin
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_embedder, load_reranker
from ranklens.ranking.compare import spearman
from ranklens.speed.calibration import calibration_pairs

BUILT_IN = ("python", "negation")


def pair_sets(datasets: list[str], queries: int) -> dict[str, list[list[tuple[str, str]]]]:
    """Named sets of pairs, each as groups (one per query; the measuring pairs are one group)."""
    sets: dict[str, list[list[tuple[str, str]]]] = {}
    for name in BUILT_IN:
        corpus = load_builtin(name)
        asked = list(corpus.queries.values())
        sets[f"{name}: auto's measuring pairs"] = [calibration_pairs(asked, [d.text for d in corpus.documents[:400]])]
        sets[f"{name}: every query × every document"] = [[(q, d.full_text) for d in corpus.documents] for q in asked]
    judged = reranking_sets(datasets_or_exit(), datasets, queries, load_embedder(DEFAULT_BI_ENCODER))
    for name, (_, items) in judged.items():
        sets[f"{name}: BM25's top 30 of {len(items)} queries"] = [
            [(query, text) for _, text in candidates] for _, query, candidates in items
        ]
    return sets


def agreement(reference: list[np.ndarray], scores: list[np.ndarray]) -> str:
    """Spearman over all pairs and, where there are groups, per group: 'all (mean per query, lowest)'."""
    overall = spearman(np.concatenate(reference), np.concatenate(scores))
    if len(reference) == 1:
        return f"{overall:.4f}"
    per_query = [spearman(a, b) for a, b in zip(reference, scores)]
    return f"{overall:.4f} ({statistics.mean(per_query):.4f}, {min(per_query):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["med", "scifact"])
    parser.add_argument("--queries", type=int, default=20, help="judged queries per dataset")
    parser.add_argument("--backends", nargs="+", default=[b for b in offered() if b != "torch"])
    options = parser.parse_args()
    sets = pair_sets(options.datasets, options.queries)
    reference = load_reranker(DEFAULT_CROSS_ENCODER, backend="torch")
    expected = {name: [np.asarray(reference.score(g), dtype=float) for g in groups] for name, groups in sets.items()}
    table = {}
    for backend in options.backends:
        model = load_reranker(DEFAULT_CROSS_ENCODER, backend=backend)
        if model.backend != backend:
            print(f"{backend}: not run here ({getattr(model, 'backend_note', '') or model.backend})")
            continue
        table[backend] = {
            name: agreement(expected[name], [np.asarray(model.score(g), dtype=float) for g in groups])
            for name, groups in sets.items()
        }
    print(
        f"\nSpearman with torch fp32 (per query: mean, lowest), {reference.name}, {cpu_name()} ({cpu_cores()} cores); "
        "auto's guard asks ≥ 0.99 on the measuring pairs"
    )
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        print(pd.DataFrame(table).to_string())


if __name__ == "__main__":
    main()
