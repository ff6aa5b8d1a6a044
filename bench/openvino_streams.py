"""OpenVINO in one stream (the plain way: one request, every core on it) against one stream per core.

    python bench/openvino_streams.py [--datasets med scifact] [--candidates 100] [--repeats 7]
                                     [--backends openvino openvino-bf16 openvino-int8-static]

For each dataset, BM25's top N candidates of one judged query, reranked by:

- the seed's code path (CrossEncoder.predict, torch fp32, batch 32), the baseline the ratios are against;
- torch-bf16, the backend an OpenVINO one competes with for `auto` on CPUs with native bf16;
- each OpenVINO backend in one stream with every core, as RankLens ran them until 2026-12-06;
- the same in one stream per core: each batch split into that many parts, run at once (ranklens.backends.
  openvino_runtime, RankLens's way now). openvino-int8 is not among them: it stays in one stream (ONE_STREAM),
  since OpenVINO 2026.4.1 computes it wrong in more.

Medians of interleaved rounds (round 0 warms up), so a drift in this shared machine's speed falls on all of them
alike; and each one's Spearman with torch fp32 on the same candidates. The machine is named in the output.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd
from shared_datasets import datasets_or_exit

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.backends.exports import cached_export, stored_format
from ranklens.backends.openvino_runtime import ONE_STREAM, openvino_forward
from ranklens.corpus.beir import load_beir
from ranklens.evaluation.evaluate import judged
from ranklens.index.embeddings import corpus_passages
from ranklens.index.lexical import BM25Retriever
from ranklens.models.files import fingerprint
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_embedder, load_reranker
from ranklens.models.reranker import Reranker
from ranklens.ranking.compare import spearman
from ranklens.speed.bench import SEED, median_times, seed_reranker

OPENVINO = ("openvino", "openvino-bf16", "openvino-int8", "openvino-int8-static")
BACKENDS = [backend for backend in OPENVINO if backend not in ONE_STREAM]  # ONE_STREAM's run in one stream either way


def candidates(dataset: Path, size: int, embedder) -> list[tuple[str, str]]:
    """BM25's top `size` passages of the dataset's first judged query with that many, as (query, passage) pairs."""
    corpus = load_beir(dataset)
    stage = BM25Retriever(corpus, corpus_passages(corpus, embedder))
    for qid in judged(corpus.qrels):
        hits = stage.retrieve(corpus.queries[qid], size).hits
        if len(hits) == size:
            return [(corpus.queries[qid], stage.passages.text(hit.passage)) for hit in hits]
    raise SystemExit(f"{dataset.name}: no judged query has {size} BM25 candidates")


def one_stream(backend: str) -> Reranker:
    """`backend` run the plain way: one OpenVINO request with every core."""
    model = load_reranker(DEFAULT_CROSS_ENCODER, backend=backend)  # makes the export where it is missing
    path = cached_export(fingerprint(model.name), stored_format(backend), model.max_tokens)
    assert path is not None, f"{backend}: loading it made no export"
    return Reranker(model.name, model.model, backend, openvino_forward(path, backend, streams=1), backend=backend)


def measure(dataset: Path, size: int, repeats: int, backends: list[str], embedder) -> list[dict]:
    """The table's rows for one dataset."""
    pairs = candidates(dataset, size, embedder)
    fp32 = load_reranker(DEFAULT_CROSS_ENCODER, backend="torch")
    models: dict[str, object] = {"torch-bf16": load_reranker(DEFAULT_CROSS_ENCODER, backend="torch-bf16")}
    for backend in backends:
        models[f"{backend}, one stream"] = one_stream(backend)
        models[f"{backend}, {cpu_cores()} streams"] = load_reranker(DEFAULT_CROSS_ENCODER, backend=backend)
    seed = seed_reranker(fp32.name)
    functions = {
        SEED: lambda: seed(pairs),
        **{name: (lambda m=model: m.score(pairs)) for name, model in models.items()},
    }
    times = median_times(functions, repeats)
    reference = fp32.score(pairs)
    rows = []
    for name, seconds in times.items():
        row = {"dataset": dataset.name, "implementation": name, "ms": seconds * 1000, "× seed": times[SEED] / seconds}
        if name in models:
            row["Spearman with fp32"] = f"{spearman(reference, models[name].score(pairs)):.4f}"
        rows.append(row)
    for backend in backends:  # what the streams give, in the same rounds
        plain, split = times[f"{backend}, one stream"], times[f"{backend}, {cpu_cores()} streams"]
        rows.append(
            {"dataset": dataset.name, "implementation": f"{backend}: streams / one stream", "× seed": plain / split}
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["med", "scifact"])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--backends", nargs="+", default=BACKENDS, choices=BACKENDS)
    options = parser.parse_args()
    root = datasets_or_exit()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ranklens-openvino-streams-") as home:  # no cache of the user's touched
        os.environ["RANKLENS_HOME"] = home
        embedder = load_embedder(DEFAULT_BI_ENCODER)
        for name in options.datasets:
            print(f"[{name}] {options.candidates} candidates × {options.repeats} rounds…", file=sys.stderr, flush=True)
            rows += measure(root / name, options.candidates, options.repeats, options.backends, embedder)
    print(f"{cpu_name()}, {cpu_cores()} cores; {DEFAULT_CROSS_ENCODER} or its fallback; medians of {options.repeats}")
    print("(the 'streams / one stream' rows: how many times sooner one stream per core reranks)\n")
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""))


if __name__ == "__main__":
    main()
