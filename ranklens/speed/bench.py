"""Speed: the seed's code path against RankLens's backends, reranking and indexing, medians of interleaved rounds.

The app's throughput panel and `bench/rerank_speed.py` both build their tables from here.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from itertools import cycle, islice
from pathlib import Path

from ranklens.models.embedder import Embedder
from ranklens.models.reranker import DEFAULT_CE_BATCH, Reranker
from ranklens.settings import data_dir

DEFAULT_SIZES = (10, 100, 1000)
SEED = "tutorial's code (CrossEncoder.predict, unsorted, torch fp32)"
SEED_INDEX = "tutorial's code (model.encode + FAISS)"

Rows = list[dict]


def bench_folder() -> Path:
    """$RANKLENS_HOME/bench: where the benches write, their scratch folders included."""
    folder = data_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def seed_reranker(name: str):
    """The tutorial's reranking, as its TwoStageSearch does it: a CrossEncoder called on the pairs as they come."""
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(name)
    return lambda pairs: model.predict(pairs, batch_size=32, show_progress_bar=False)


def seed_index(model, texts: Sequence[str]):
    """The tutorial's `index_documents`: whole documents encoded (cut at the window) into a flat FAISS index."""
    import faiss

    vectors = model.encode(list(texts), batch_size=32, show_progress_bar=False, normalize_embeddings=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def ranklens_reranker(reranker: Reranker, batch_size: int = DEFAULT_CE_BATCH) -> Callable:
    """RankLens's reranking as a function of the pairs, for the speed tables."""
    return lambda pairs: reranker.score(pairs, batch_size)


def median_times(
    functions: dict[str, Callable[[], object]], repeats: int, progress: Callable[[int, int], None] | None = None
) -> dict[str, float]:
    """Median wall time of each function, the functions interleaved in every round so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    steps, done = len(functions) * (repeats + 1), 0
    for round_number in range(repeats + 1):  # round 0 warms up: first calls allocate and JIT
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            if round_number:
                times[name].append(time.perf_counter() - started)
            done += 1
            if progress:
                progress(done, steps)
    return {name: statistics.median(values) for name, values in times.items()}


def _rows(dataset: str, measure: str, values: dict[str, float], baseline: str, higher_is_better: bool) -> Rows:
    return [
        {
            "dataset": dataset,
            "implementation": name,
            "measure": measure,
            "value": value,
            "vs tutorial": value / values[baseline] if higher_is_better else values[baseline] / value,
        }
        for name, value in values.items()
    ]


def _offset_progress(progress: Callable[[int, int], None], step: int, steps: int) -> Callable[[int, int], None]:
    """Reports step `step` of `steps` as its share of the whole."""
    return lambda done, total: progress(step * total + done, steps * total)


def candidate_pairs(query: str, passages: Sequence[str], size: int) -> list[tuple[str, str]]:
    """`size` (query, passage) pairs, the passages repeated where there are fewer."""
    return [(query, passage) for passage in islice(cycle(passages), size)]


def with_achieved_rates(rows: Rows, size: int, flops: float, precisions: dict[str, str]) -> Rows:
    """`rows`, each latency row of `size` candidates given the GFLOP/s its implementation reached, from the
    reranking's FLOPs, and the precision it computes in (`precisions`: implementation -> fp32, bf16 or int8). The
    rows given are copied, not changed."""
    measure = f"latency, {size} candidates (ms)"
    return [
        {**row, "GFLOP/s": flops / (row["value"] / 1000) / 1e9, "precision": precisions[row["implementation"]]}
        if row["measure"] == measure and row["implementation"] in precisions
        else row
        for row in rows
    ]


def with_peak_shares(rows: Rows, peaks: dict[str, float | None]) -> Rows:
    """`rows`, each one with an achieved rate (with_achieved_rates) given its share of the matmul peak of its
    precision: how close to this machine's limit it runs (ranklens.speed.peak). The rows given are copied, not changed."""
    return [
        {**row, "share of peak": row["GFLOP/s"] / peaks[row["precision"]]}
        if "GFLOP/s" in row and peaks.get(row["precision"])
        else row
        for row in rows
    ]


def rerank_speed(
    implementations: dict[str, Callable],
    query: str,
    passages: Sequence[str],
    sizes: Sequence[int],
    repeats: int,
    dataset: str = "",
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> Rows:
    """Latency and pairs/s of reranking N candidates (the passages repeat where there are fewer), for each N;
    the first implementation is the baseline the ratios are against."""
    if not passages:
        raise ValueError("the speed comparison needs at least one passage")
    baseline = next(iter(implementations))
    rows: Rows = []
    for step, size in enumerate(sizes):
        pairs = candidate_pairs(query, passages, size)
        if log:
            log(f"[{dataset}] {size} candidates × {len(implementations)} implementations × {repeats} rounds…")
        report = _offset_progress(progress, step, len(sizes)) if progress else None
        medians = median_times({n: partial(f, pairs) for n, f in implementations.items()}, repeats, report)
        rows += _rows(
            dataset,
            f"latency, {size} candidates (ms)",
            {n: t * 1000 for n, t in medians.items()},
            baseline,
            higher_is_better=False,
        )
        rows += _rows(
            dataset,
            f"pairs/s, {size} candidates",
            {n: size / t for n, t in medians.items()},
            baseline,
            higher_is_better=True,
        )
    return rows


def index_speed(
    embedders: dict[str, Embedder],
    texts: Sequence[str],
    repeats: int,
    dataset: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Rows:
    """Documents per second: the seed's `index_documents` (encode whole documents, truncated, into a flat FAISS
    index) with the first embedder, against RankLens's `embed_corpus` + FAISS (chunked, no cache) with each."""

    from ranklens.corpus.corpus import Corpus, Document
    from ranklens.index.dense import DenseRetriever
    from ranklens.index.embeddings import embed_corpus

    sample = Corpus(f"{dataset}-sample", [Document(id=str(i), title="", text=t) for i, t in enumerate(texts)])
    plain = next(iter(embedders.values()))

    def ranklens_index(embedder: Embedder) -> Callable[[], None]:
        def run() -> None:
            with tempfile.TemporaryDirectory(prefix="index-", dir=bench_folder()) as folder:
                DenseRetriever(embed_corpus(sample, embedder, cache_dir=Path(folder)), embedder)

        return run

    functions = {
        SEED_INDEX: lambda: seed_index(plain.model, texts),
        **{f"ranklens index, {name} (chunked, no cache)": ranklens_index(e) for name, e in embedders.items()},
    }
    medians = median_times(functions, repeats, progress)
    return _rows(
        dataset, "indexing docs/s", {n: len(texts) / t for n, t in medians.items()}, SEED_INDEX, higher_is_better=True
    )


def _quality_rows(
    corpus,
    searcher,
    implementations: dict[str, Callable],
    qrels,
    quality_queries: int,
    top_n: int,
    log: Callable[[str], None],
) -> Rows:
    """nDCG@10 of each implementation reranking the first stage's top-N of the judged queries, against the seed's."""
    import numpy as np

    from ranklens.evaluation.evaluate import score_runs, strictly_decreasing

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
    return _rows(
        corpus.name,
        f"nDCG@10, top {top_n}, {len(chosen)} queries",
        {n: float(table.loc[n, "ndcg@10"]) for n in runs},
        SEED,
        higher_is_better=True,
    )


def _index_rows(
    corpus,
    embedder: Embedder,
    bi_model: str,
    bi_backends: Sequence[str],
    repeats: int,
    index_docs: int,
    log: Callable[[str], None],
) -> Rows:
    """Indexing speed of the seed's way and each bi-encoder backend, and each backend's cosine with fp32."""
    from ranklens.models.embedder import embedding_agreement
    from ranklens.models.loading import load_embedder

    rows: Rows = []
    texts = [d.full_text for d in corpus.documents[:index_docs]]
    embedders = {"torch": embedder}
    for backend in bi_backends:
        if backend != "torch":
            embedders[backend] = load_embedder(bi_model, backend=backend, notify=log)
    log(f"[{corpus.name}] indexing {len(texts)} documents, the tutorial's code vs RankLens ({', '.join(embedders)})…")
    rows += index_speed(embedders, texts, repeats, corpus.name)
    for name, other in embedders.items():
        if name != "torch":
            lowest, _ = embedding_agreement(other, embedder, texts)
            rows.append(
                {
                    "dataset": corpus.name,
                    "implementation": f"ranklens bi-encoder {other.backend}",
                    "measure": "lowest cosine with fp32 embeddings",
                    "value": lowest,
                    "vs tutorial": float("nan"),
                }
            )
    return rows


def speed_benchmark(
    dataset_dir: str,
    ce_model: str,
    bi_model: str,
    backends: Sequence[str],
    sizes: Sequence[int],
    repeats: int,
    quality_queries: int,
    top_n: int = 100,
    index_docs: int = 200,
    bi_backends: Sequence[str] = ("torch",),
    log: Callable[[str], None] = print,
) -> Rows:
    """Rows of (dataset, implementation, measure, value, ratio to the seed) for one dataset; the latency rows also
    give the GFLOP/s each implementation reached and its precision, for with_peak_shares."""
    from ranklens.corpus.beir import load_beir
    from ranklens.evaluation.evaluate import judged
    from ranklens.index.dense import DenseRetriever
    from ranklens.index.embeddings import embed_corpus
    from ranklens.models.loading import load_embedder, load_reranker
    from ranklens.ranking.search import Searcher
    from ranklens.speed.peak import precision_of, reranker_flops

    corpus = load_beir(dataset_dir)
    embedder = load_embedder(bi_model)
    log(f"[{corpus.name}] index (cached after the first run)…")
    searcher = Searcher(DenseRetriever(embed_corpus(corpus, embedder), embedder), None)
    base = load_reranker(ce_model)  # the configured fallback, where the default cannot be had
    resolved = base.name
    implementations: dict[str, Callable] = {SEED: seed_reranker(resolved)}
    precisions = {SEED: "fp32"}
    for backend in backends:
        reranker = load_reranker(resolved, fallbacks=[], backend=backend, notify=log)
        implementations[f"ranklens {reranker.backend}"] = ranklens_reranker(reranker)
        precisions[f"ranklens {reranker.backend}"] = precision_of(reranker.backend)
    qrels = judged(corpus.qrels)
    queries = [corpus.queries[q] for q in qrels]
    rows: Rows = []
    for size in sizes:
        query = queries[size % len(queries)]
        docs = list(searcher.retrieve(query, min(size, len(corpus))))
        passages = [corpus.get(d).full_text for d in docs]
        measured = rerank_speed(implementations, query, passages, [size], repeats, corpus.name, log=log)
        flops = reranker_flops(base, candidate_pairs(query, passages, size))
        rows += with_achieved_rates(measured, size, flops, precisions)

    rows += _quality_rows(corpus, searcher, implementations, qrels, quality_queries, top_n, log)
    rows += _index_rows(corpus, embedder, bi_model, bi_backends, repeats, index_docs, log)
    return rows
