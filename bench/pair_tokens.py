"""Tokenizing a reranking's pairs: whole pairs (the plain path) against pairs put together from cached passage ids.

    python bench/pair_tokens.py [--datasets med scifact] [--candidates 100] [--repeats 7] [--backend torch-bf16]

For each dataset, the first N documents against one judged query, a new query each round (as a new search is):

- whole pairs, transformers: the model's fast tokenizer on (query, passage) pairs, cut at the window (the baseline);
- whole pairs, ranklens.models.tokens: the torch-free tokenizer, the same way;
- cached ids, first time: nothing cached yet (passages tokenized and written to a fresh cache);
- cached ids, from disk: a new process's first call (read from passage_tokens.sqlite);
- cached ids, in memory: any later call;

then the whole reranking of the same pairs by the cross-encoder, tokenizing whole pairs against cached ids. Medians
of interleaved rounds; ratios against the baseline in the same run. The machine is named in the output.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from itertools import count
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd
from shared_datasets import datasets_or_exit

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.corpus.beir import load_beir
from ranklens.models.files import local_folder
from ranklens.models.loading import DEFAULT_CROSS_ENCODER, load_reranker
from ranklens.models.pair_tokens import PairTokenizer
from ranklens.models.tokens import Tokens
from ranklens.speed.bench import median_times

BASELINE = "whole pairs, transformers"


def medians(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median milliseconds of each function over interleaved rounds (ranklens.speed.bench's, round 0 dropped)."""
    return {name: seconds * 1000 for name, seconds in median_times(functions, repeats).items()}


def measure(dataset: Path, candidates: int, repeats: int, backend: str, home: str) -> list[dict]:
    """The table's rows for one dataset; `home` holds the caches this run writes."""
    corpus = load_beir(dataset)
    passages = [corpus.documents[i].full_text for i in range(min(candidates, len(corpus)))]
    query = corpus.queries[next(iter(corpus.judged_queries()))]
    reranker = load_reranker(DEFAULT_CROSS_ENCODER, backend=backend)  # the configured fallback where it must
    limit, transformers_tokenizer = reranker.max_tokens, reranker.model.tokenizer
    tokens = Tokens(local_folder(reranker.name))
    in_memory = PairTokenizer.of(transformers_tokenizer)
    assert in_memory is not None, f"{reranker.name}'s tokenizer has no pair template"

    asked = count()

    def pairs() -> list[tuple[str, str]]:
        return [(f"{query} ({next(asked)})", passage) for passage in passages]  # a new query at every call

    def first_time() -> None:
        os.environ["RANKLENS_HOME"] = tempfile.mkdtemp(dir=home)  # an empty cache
        PairTokenizer.of(transformers_tokenizer).encode(pairs(), limit)
        os.environ["RANKLENS_HOME"] = home

    def from_disk() -> None:
        PairTokenizer.of(transformers_tokenizer).encode(pairs(), limit)

    PairTokenizer.of(transformers_tokenizer).encode(pairs(), limit)  # on disk for from_disk
    tokenizing = medians(
        {
            BASELINE: lambda: transformers_tokenizer(*zip(*pairs()), truncation=True, max_length=limit),
            "whole pairs, ranklens.models.tokens": lambda: tokens(*zip(*pairs()), truncation=True, max_length=limit),
            "cached ids, first time": first_time,
            "cached ids, from disk": from_disk,
            "cached ids, in memory": lambda: in_memory.encode(pairs(), limit),
        },
        repeats,
    )
    # PairTokenizer.of is timed inside the first-time and from-disk rows: a new process makes one; take it out
    making = medians({"make": lambda: PairTokenizer.of(transformers_tokenizer)}, repeats)["make"]
    for name in ("cached ids, first time", "cached ids, from disk"):
        tokenizing[name] -= making

    def rerank(cached: bool) -> Callable[[], object]:
        def run() -> object:
            # the reranker's own path with its pair tokenizer, or told its tokenizer has none (whole pairs)
            reranker._pairs = (reranker.batch_tokenizer, in_memory if cached else None)
            return reranker.score(pairs())

        return run

    reranking = medians({"rerank, whole pairs": rerank(False), "rerank, cached ids": rerank(True)}, repeats)
    rows = [
        {"dataset": corpus.name, "step": name, "ms": ms, "vs whole pairs": tokenizing[BASELINE] / ms}
        for name, ms in tokenizing.items()
    ]
    rows += [
        {
            "dataset": corpus.name,
            "step": f"{name} ({reranker.backend})",
            "ms": ms,
            "vs whole pairs": reranking["rerank, whole pairs"] / ms,
        }
        for name, ms in reranking.items()
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["med", "scifact"])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--backend", default="torch-bf16")
    options = parser.parse_args()
    root = datasets_or_exit()
    with tempfile.TemporaryDirectory(prefix="ranklens-pair-tokens-") as home:  # no cache of the user's is touched
        os.environ["RANKLENS_HOME"] = home
        rows = [
            row
            for name in options.datasets
            for row in measure(root / name, options.candidates, options.repeats, options.backend, home)
        ]
    print(f"{cpu_name()}, {cpu_cores()} cores; {options.candidates} candidates, medians of {options.repeats} rounds\n")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
