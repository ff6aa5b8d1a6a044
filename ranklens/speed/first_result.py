"""Time to a first result in a new process: `ranklens search` on a cold and a warm $RANKLENS_HOME, against the seed.

The seed's code keeps nothing between processes, so each of its starts is the same: import sentence-transformers,
load the bi-encoder, embed the corpus into FAISS, load the cross-encoder, embed the query and rerank. RankLens's
cold start does its own first-ever work (the index, the exports and, for `auto`, the backend measurement); a warm
one finds the index, the exports and the backend choice cached, and for a repeated query the scores too.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ranklens.settings import HOME_ENV, data_dir

CORPUS = "python"  # the app's and `make run`'s built-in corpus
QUESTIONS = ["what do pythons eat", "how do I read a file", "is a python venomous", "what is a list comprehension"]
SEED_START = "tutorial's code (new process: both models loaded, corpus embedded)"
PROJECT = Path(__file__).resolve().parents[2]  # where `python -m ranklens` imports this package from
STARTS = ("cold start", "warm start, new query", "warm start, repeated query")


def _process(arguments: list[str], home: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *arguments],
        check=False,
        cwd=PROJECT,
        env={**os.environ, HOME_ENV: home},
        capture_output=True,
        text=True,
    )
    if done.returncode:  # say why, rather than a bare CalledProcessError that hides the process's output
        raise RuntimeError(f"{' '.join(arguments[:4])} … exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started, done


def ranklens_search(home: str, backend: str, query: str) -> tuple[float, float, str]:
    """Wall seconds of one `ranklens search --corpus python` process on `home`, the seconds it reported loading
    models, and the backend that ran the cross-encoder (what `auto` chose)."""
    wall, done = _process(
        ["-m", "ranklens", "search", "--corpus", CORPUS, "--backend", backend, "--query", query], home
    )
    loading = re.search(r"loading models (\d+) ms", done.stdout)
    chosen = re.search(r"^cross-encoder backend: ([\w-]+):", done.stderr, re.MULTILINE)
    return wall, int(loading.group(1)) / 1000 if loading else 0.0, chosen.group(1) if chosen else backend


def seed_search(bi_model: str, ce_model: str, query: str, top_n: int = 100) -> list[str]:
    """The seed's whole start and one search, as its TwoStageSearch does them: ids of the reranked top-N."""
    from sentence_transformers import SentenceTransformer

    from ranklens.corpus.loading import load_builtin
    from ranklens.speed.bench import seed_index, seed_reranker

    documents = load_builtin(CORPUS).documents
    embedder = SentenceTransformer(bi_model)
    index = seed_index(embedder, [d.full_text for d in documents])
    rerank = seed_reranker(ce_model)
    _, found = index.search(embedder.encode([query], normalize_embeddings=True), min(top_n, len(documents)))
    candidates = [documents[i] for i in found[0]]
    scores = rerank([(query, d.full_text) for d in candidates])
    return [d.id for _, d in sorted(zip(scores, candidates), key=lambda pair: -pair[0])]


def _seed_process(bi_model: str, ce_model: str, query: str, home: str) -> float:
    script = f"from ranklens.speed.first_result import seed_search; print(seed_search({bi_model!r}, {ce_model!r}, {query!r}))"
    wall, _ = _process(["-c", script], home)
    return wall


def first_result_rows(
    backend: str, bi_model: str, ce_model: str, runs: int = 3, log: Callable[[str], None] = print
) -> list[dict]:
    """Rows of (dataset, implementation, measure, value, vs seed) for RankLens's three starts with `backend` and the
    seed's start: each warm row and the seed the median of `runs` processes, on a fresh home under $RANKLENS_HOME
    that is removed afterwards."""
    folder = data_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="first-result-", dir=folder) as home:
        log(
            f"[{CORPUS}] first result in new processes: the tutorial's code × {runs}, ranklens search --backend {backend}…"
        )
        seed = statistics.median(_seed_process(bi_model, ce_model, QUESTIONS[i % 4], home) for i in range(runs))
        cold = ranklens_search(home, backend, QUESTIONS[0])
        new = [ranklens_search(home, backend, f"{QUESTIONS[1 + i % 3]} ({i})") for i in range(runs)]
        repeated = [ranklens_search(home, backend, QUESTIONS[0]) for _ in range(runs)]
    chosen = cold[2]
    rows = []
    for start, times in zip(STARTS, ([cold], new, repeated)):
        measure = f"first result, {start} (s)"
        seconds = statistics.median(wall for wall, _, _ in times)
        row = {
            "dataset": CORPUS,
            "implementation": f"ranklens search, {backend}" + (f" ({chosen})" if chosen != backend else ""),
            "measure": measure,
            "value": seconds,
            "vs tutorial": seed / seconds,
        }
        if start != STARTS[0]:  # a cold start loads its models while it measures and indexes, and reports no split
            row["loading models (s)"] = statistics.median(load for _, load, _ in times)
        rows += [
            {"dataset": CORPUS, "implementation": SEED_START, "measure": measure, "value": seed, "vs tutorial": 1.0},
            row,
        ]
    return rows
