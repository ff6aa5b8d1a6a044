"""Throughput: how long the loaded cross-encoder takes to rerank 10, 100, 1000 candidates."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path

from ranklens.models import Reranker

DEFAULT_SIZES = (10, 100, 1000)


@dataclass(frozen=True)
class ThroughputRow:
    candidates: int
    median_ms: float
    pairs_per_s: float
    repeats: int


def rerank_throughput(
    reranker: Reranker,
    queries: Sequence[str],
    passages: Sequence[str],
    sizes: Sequence[int] = DEFAULT_SIZES,
    repeats: int = 3,
    batch_size: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> list[ThroughputRow]:
    """Median wall time of scoring N (query, passage) pairs, for each N; passages repeat when the corpus is smaller."""
    if not queries or not passages:
        raise ValueError("throughput needs at least one query and one passage")
    rows = []
    steps = len(sizes) * repeats
    for step_size_index, size in enumerate(sizes):
        query = queries[step_size_index % len(queries)]
        pairs = [(query, passage) for passage in islice(cycle(passages), size)]
        seconds = []
        for repeat in range(repeats):
            started = time.perf_counter()
            reranker.score(pairs, batch_size=batch_size)
            seconds.append(time.perf_counter() - started)
            if progress:
                progress(step_size_index * repeats + repeat + 1, steps)
        median = statistics.median(seconds)
        rows.append(ThroughputRow(size, median * 1000, size / median, repeats))
    return rows


# ---- the speed benchmark: the seed's code path against each RankLens backend ----------------------

SEED = "seed (CrossEncoder.predict, unsorted, torch fp32)"


def seed_reranker(name: str):
    """The tutorial's reranking, as its TwoStageSearch does it: a CrossEncoder called on the pairs as they come."""
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(name)
    return lambda pairs: model.predict(pairs, batch_size=32, show_progress_bar=False)


def _median_times(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each function, the functions interleaved in every round so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for name, function in functions.items():
        function()  # warm-up: first calls allocate and JIT
    for _ in range(repeats):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def speed_benchmark(dataset_dir: str, ce_model: str, bi_model: str, backends: Sequence[str], sizes: Sequence[int],
                    repeats: int, quality_queries: int, top_n: int = 100, index_docs: int = 200,
                    log: Callable[[str], None] = print) -> list[dict]:
    """Rows of (dataset, implementation, measure, value, ratio to the seed) for one dataset."""
    import tempfile

    import numpy as np

    from ranklens.corpus import Corpus, load_beir
    from ranklens.evaluate import judged, score_runs, strictly_decreasing
    from ranklens.index import build_index
    from ranklens.models import load_embedder, load_reranker
    from ranklens.search import Searcher

    corpus = load_beir(dataset_dir)
    embedder = load_embedder(bi_model)
    log(f"[{corpus.name}] index (cached after the first run)…")
    searcher = Searcher(build_index(corpus, embedder), embedder, None)
    resolved = load_reranker(ce_model).name  # the configured fallback, where the default cannot be had
    implementations: dict[str, Callable] = {SEED: seed_reranker(resolved)}
    for backend in backends:
        reranker = load_reranker(resolved, fallbacks=[], backend=backend, notify=log)
        implementations[f"ranklens {reranker.backend}"] = (lambda r: (lambda pairs: r.score(pairs)))(reranker)
    qrels = judged(corpus.qrels)
    queries = [corpus.queries[q] for q in qrels]
    rows = []

    def add(measure: str, values: dict[str, float], higher_is_better: bool) -> None:
        for name, value in values.items():
            ratio = value / values[SEED] if higher_is_better else values[SEED] / value
            rows.append({"dataset": corpus.name, "implementation": name, "measure": measure, "value": value,
                         "vs seed": ratio})

    for size in sizes:
        query = queries[size % len(queries)]
        docs = list(searcher.retrieve(query, min(size, len(corpus))))
        pairs = [(query, corpus.get(d).full_text) for d in (docs * (size // len(docs) + 1))[:size]]
        log(f"[{corpus.name}] {size} candidates × {len(implementations)} implementations × {repeats} rounds…")
        medians = _median_times({name: (lambda f: (lambda: f(pairs)))(f) for name, f in implementations.items()}, repeats)
        add(f"latency, {size} candidates (ms)", {n: t * 1000 for n, t in medians.items()}, higher_is_better=False)
        add(f"pairs/s, {size} candidates", {n: size / t for n, t in medians.items()}, higher_is_better=True)

    chosen = list(qrels)[:quality_queries]
    log(f"[{corpus.name}] nDCG@10 reranking the top {top_n} of {len(chosen)} queries with each implementation…")
    runs: dict[str, dict] = {name: {} for name in implementations}
    for qid in chosen:
        docs = list(searcher.retrieve(corpus.queries[qid], top_n))
        pairs = [(corpus.queries[qid], corpus.get(d).full_text) for d in docs]
        for name, function in implementations.items():
            scores = np.asarray(function(pairs), dtype=np.float64)
            runs[name][qid] = strictly_decreasing(sorted(zip(docs, scores), key=lambda pair: -pair[1]))
    table = score_runs({q: qrels[q] for q in chosen}, runs, ("ndcg@10",))
    add(f"nDCG@10, top {top_n}, {len(chosen)} queries", {n: float(table.loc[n, "ndcg@10"]) for n in runs},
        higher_is_better=True)

    sample = Corpus(f"{corpus.name}-sample", corpus.documents[:index_docs])
    texts = [d.full_text for d in sample.documents]
    log(f"[{corpus.name}] indexing {len(texts)} documents, seed vs RankLens…")

    def seed_index() -> None:
        import faiss

        vectors = embedder.model.encode(texts, batch_size=32, show_progress_bar=False, normalize_embeddings=True)
        faiss.IndexFlatIP(vectors.shape[1]).add(vectors)

    def ranklens_index() -> None:
        with tempfile.TemporaryDirectory() as folder:
            build_index(sample, embedder, cache_dir=Path(folder))

    medians = _median_times({SEED.replace("CrossEncoder.predict, unsorted, torch fp32", "model.encode + FAISS"): seed_index,
                             "ranklens build_index (chunked, no cache)": ranklens_index}, max(1, repeats // 2))
    index_rows = {n: len(texts) / t for n, t in medians.items()}
    first = next(iter(index_rows))
    for name, value in index_rows.items():
        rows.append({"dataset": corpus.name, "implementation": name, "measure": "indexing docs/s", "value": value,
                     "vs seed": value / index_rows[first]})
    return rows
