"""Evaluate: nDCG@10, MRR@10 and Recall@100 of the bi-encoder, reranked and hybrid rankings.

Metrics come from ranx. Its `ndcg` uses linear gain (the grade itself), as trec_eval does;
documents without a judgement count as non-relevant.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import pandas as pd
from ranx import Qrels, Run, evaluate

from ranklens import fusion
from ranklens.corpus import Qrels as QrelsDict
from ranklens.search import Searcher

METRICS = ("ndcg@10", "mrr@10", "recall@100")
NDCG_GAIN = "linear gain (trec_eval's ndcg: gain = grade)"
RANKER_LABELS = {"bi": "bi-encoder", "ce": "reranked", "hybrid": "hybrid"}

RunDict = dict[str, dict[str, float]]


def collect_runs(
    searcher: Searcher,
    queries: Mapping[str, str],
    top_n: int = 100,
    rerank: bool = True,
    alpha: float = fusion.DEFAULT_ALPHA,
    fusion_method: str = "hybrid",
    ce_passages: str = "best",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, RunDict]:
    """Each ranker's run (query id -> doc id -> score) over the given queries."""
    runs: dict[str, RunDict] = {ranker: {} for ranker in (RANKER_LABELS if rerank else ["bi"])}
    for done, (qid, text) in enumerate(queries.items(), start=1):
        if rerank:
            result = searcher.search(text, top_n=top_n, alpha=alpha, fusion_method=fusion_method, ce_passages=ce_passages)
            for ranker in runs:
                runs[ranker][qid] = result.scores(ranker)
        else:
            runs["bi"][qid] = searcher.retrieve(text, top_n=top_n)
        if progress:
            progress(done, len(queries))
    return runs


def score_runs(qrels: QrelsDict, runs: Mapping[str, RunDict], metrics: tuple[str, ...] = METRICS) -> pd.DataFrame:
    """One row per ranker, one column per metric, averaged over the judged queries."""
    ranx_qrels = Qrels({qid: dict(docs) for qid, docs in qrels.items()})
    rows = {}
    for ranker, run in runs.items():
        with warnings.catch_warnings():
            # ranx's own numba kernels cast its uint64 counters; harmless and not ours to fix
            warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
            scores = evaluate(ranx_qrels, Run({qid: dict(docs) for qid, docs in run.items()}), list(metrics), make_comparable=True)
        rows[RANKER_LABELS.get(ranker, ranker)] = scores if isinstance(scores, dict) else {metrics[0]: scores}
    return pd.DataFrame.from_dict(rows, orient="index")[list(metrics)]
