"""Evaluate: how good are the bi-encoder, reranked and hybrid rankings against relevance judgements.

Metrics are trec_eval's own (pytrec_eval): nDCG is `ndcg_cut`, with linear gain (the grade
itself); `mrr@10` is `recip_rank` on the top 10; recall, precision and MAP are trec_eval's.
Unjudged documents count as non-relevant, and only queries with at least one relevant
(grade > 0) judgement are evaluated, as trec_eval would report them; a query the ranking has
no result for scores 0. The tests hold these figures to ranx's.

Rankings are collected once per query (`collect`), keeping every candidate's bi-encoder
and cross-encoder scores, so the hybrid at any alpha, and a whole alpha sweep, is
arithmetic on numbers already there: no model runs after `collect`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ranklens.corpus.corpus import Qrels as QrelsDict
from ranklens.ranking import fusion
from ranklens.ranking.results import RANKER_LABELS, SearchResult
from ranklens.ranking.search import Searcher

METRICS = ("ndcg@10", "mrr@10", "recall@10", "recall@100", "map")
NDCG_GAIN = "linear gain (gain = grade), as trec_eval's ndcg_cut"
SWEEP_ALPHAS = tuple(round(a, 2) for a in np.arange(0.0, 1.0001, 0.05))
SIGNIFICANCE_LEVEL = 0.05
RERANKED_GAIN, HYBRID_GAIN = "reranked − first stage", "hybrid − first stage"

RunDict = dict[str, dict[str, float]]


def judged(qrels: QrelsDict) -> QrelsDict:
    """The queries that have at least one relevant document: the ones metrics are defined for."""
    return {qid: dict(docs) for qid, docs in qrels.items() if any(grade > 0 for grade in docs.values())}


def strictly_decreasing(ranked: Iterable[tuple[str, float]]) -> dict[str, float]:
    """(doc id, score) pairs in our ranking's order, with scores made strictly decreasing *in float32*:
    trec_eval keeps scores as float32 and breaks ties by doc id, so a tie there (bf16 logits have
    many) must be split by the smallest float32 step, leaving every other score as it is."""
    run: dict[str, float] = {}
    previous = np.float32(np.inf)
    for doc_id, score in ranked:
        value = np.float32(score)
        if value >= previous:
            value = np.nextafter(previous, np.float32(-np.inf))
        run[doc_id] = float(value)
        previous = value
    return run


def ranked_run(result: SearchResult, ranker: str) -> dict[str, float]:
    """A ranker's scores for one query, in a form trec_eval (and ranx) order as we do."""
    return strictly_decreasing((c.doc_id, c.score(ranker)) for c in result.ranking(ranker))


@dataclass
class Evaluation:
    """One search per judged query, and the qrels they are judged against."""

    results: dict[str, SearchResult]
    qrels: QrelsDict

    @property
    def labels(self) -> dict[str, str]:
        """Each ranker's name in tables: the first stage's own ("bi-encoder", "BM25", ...), "reranked", "hybrid"."""
        first = next(iter(self.results.values())).first_label if self.results else RANKER_LABELS["bi"]
        return {**RANKER_LABELS, "bi": first}

    def runs(
        self, alpha: float | None = None, method: str | None = None, rankers: Sequence[str] = tuple(RANKER_LABELS)
    ) -> dict[str, RunDict]:
        """Each ranker's run; the hybrid at `alpha` (default: the alpha the searches ran with)."""
        runs: dict[str, RunDict] = {ranker: {} for ranker in rankers}
        for qid, result in self.results.items():
            if alpha is not None or method is not None:
                result = result.with_fusion(result.alpha if alpha is None else alpha, method)
            for ranker in rankers:
                runs[ranker][qid] = ranked_run(result, ranker)
        return runs

    def table(
        self, alpha: float | None = None, method: str | None = None, metrics: Sequence[str] = METRICS
    ) -> pd.DataFrame:
        """Every ranker's metrics over the judged queries, a row per ranker (the hybrid at `alpha`, `method`)."""
        return score_runs(self.qrels, self.runs(alpha, method), metrics, self.labels)

    def per_query(self, metric: str = "ndcg@10", alpha: float | None = None, method: str | None = None) -> pd.DataFrame:
        """Each query's metric for each ranker, and the reranker's and hybrid's difference from the first stage."""
        labels = self.labels
        scores = {labels[r]: per_query_scores(self.qrels, run, metric) for r, run in self.runs(alpha, method).items()}
        frame = pd.DataFrame(scores)
        frame.insert(0, "query", [self.results[qid].query for qid in frame.index])
        frame[RERANKED_GAIN] = frame["reranked"] - frame[labels["bi"]]
        frame[HYBRID_GAIN] = frame["hybrid"] - frame[labels["bi"]]
        frame.index.name = "query id"
        return frame

    def sweep(
        self,
        alphas: Sequence[float] = SWEEP_ALPHAS,
        method: str | None = None,
        metrics: Sequence[str] = ("ndcg@10", "mrr@10"),
    ) -> pd.DataFrame:
        """Hybrid metrics as a function of alpha, from the cached scores."""
        rows = []
        for alpha in alphas:
            hybrid = self.runs(alpha, method, rankers=["hybrid"])
            rows.append({"alpha": alpha, **score_runs(self.qrels, hybrid, metrics, self.labels).iloc[0].to_dict()})
        return pd.DataFrame(rows)

    def coverage(self, k: int = 10, alpha: float | None = None) -> pd.DataFrame:
        """How many of each ranker's top-k documents have no judgement at all, over the evaluated queries."""
        rows = {}
        for ranker, run in self.runs(alpha).items():
            unjudged = [sum(doc not in self.qrels.get(qid, {}) for doc in list(docs)[:k]) for qid, docs in run.items()]
            rows[self.labels[ranker]] = {
                f"unjudged in top-{k} (mean)": float(np.mean(unjudged)) if unjudged else 0.0,
                f"share of top-{k} unjudged": float(np.sum(unjudged)) / max(1, k * len(unjudged)),
            }
        return pd.DataFrame.from_dict(rows, orient="index")


def collect(
    searcher: Searcher,
    queries: Mapping[str, str],
    qrels: QrelsDict,
    top_n: int = 100,
    alpha: float = fusion.DEFAULT_ALPHA,
    fusion_method: str = "hybrid",
    ce_passages: str = "best",
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Search every judged query once (cached cross-encoder scores are reused)."""
    relevant = judged(qrels)
    missing = [qid for qid in relevant if qid not in queries]
    if missing:
        raise ValueError(f"{len(missing)} judged queries have no text (first: {', '.join(missing[:3])})")
    if not relevant:
        raise ValueError("no query has a relevant judgement (grade > 0): nothing to evaluate")
    results = {}
    for done, qid in enumerate(relevant, start=1):
        results[qid] = searcher.search(
            queries[qid], top_n=top_n, alpha=alpha, fusion_method=fusion_method, ce_passages=ce_passages
        )
        if progress:
            progress(done, len(relevant))
    return Evaluation(results, relevant)


def collect_first_stage_runs(
    searcher: Searcher, queries: Mapping[str, str], qrels: QrelsDict, top_n: int = 100
) -> RunDict:
    """Stage 1 alone, for a fast evaluation of the first stage (no cross-encoder)."""
    return {qid: strictly_decreasing(searcher.retrieve(queries[qid], top_n).items()) for qid in judged(qrels)}


# Our metric names and trec_eval's measures; `mrr@k` is trec_eval's recip_rank on each query's top k
_TREC_MEASURES = {"ndcg": "ndcg_cut", "recall": "recall", "precision": "P", "map": "map_cut"}


def _trec_measure(metric: str) -> tuple[str, str, int | None]:
    """(measure to ask pytrec_eval for, the key its results use, the top k a run is cut to first) for a metric."""
    name, _, cut = metric.partition("@")
    k = int(cut) if cut else None
    if name == "mrr":
        return "recip_rank", "recip_rank", k
    if name == "map" and k is None:
        return "map", "map", None
    if name not in _TREC_MEASURES or k is None:
        raise ValueError(f"unknown metric {metric!r}: use ndcg@k, mrr@k, recall@k, precision@k, map or map@k")
    return f"{_TREC_MEASURES[name]}.{k}", f"{_TREC_MEASURES[name]}_{k}", None


def _measured(
    qrels: QrelsDict, run: RunDict, metrics: Sequence[str]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean and per-query scores of each metric over the queries of `qrels` (a query the run has no result for
    scores 0), by trec_eval's own code (pytrec_eval). Not ranx: its numba kernels compile for 2.5 s in every new
    process, on top of 1.5 s importing it, and `ranklens eval` and the Evaluate tab paid that each time."""
    import pytrec_eval

    judgements = {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items()}
    ranked = {q: dict(run.get(q, {})) for q in qrels}
    per_query: dict[str, dict[str, float]] = {}
    for metric in metrics:
        measure, key, cut = _trec_measure(metric)
        scored = ranked
        if cut is not None:
            scored = {q: dict(sorted(docs.items(), key=lambda item: -item[1])[:cut]) for q, docs in ranked.items()}
        found = pytrec_eval.RelevanceEvaluator(judgements, {measure}).evaluate(
            {q: docs for q, docs in scored.items() if docs}
        )
        per_query[metric] = {q: float(found[q][key]) if q in found else 0.0 for q in qrels}
    means = {m: float(np.mean(list(scores.values()))) if scores else 0.0 for m, scores in per_query.items()}
    return means, per_query


def score_runs(
    qrels: QrelsDict,
    runs: Mapping[str, RunDict],
    metrics: Sequence[str] = METRICS,
    labels: Mapping[str, str] = RANKER_LABELS,
) -> pd.DataFrame:
    """One row per ranker (named by `labels`), one column per metric, averaged over the queries with a relevant
    judgement."""
    relevant = judged(qrels)
    rows = {labels.get(ranker, ranker): _measured(relevant, run, metrics)[0] for ranker, run in runs.items()}
    return pd.DataFrame.from_dict(rows, orient="index")[list(metrics)]


def per_query_scores(qrels: QrelsDict, run: RunDict, metric: str) -> pd.Series:
    """The metric of each query with a relevant judgement, in the qrels' order."""
    relevant = judged(qrels)
    scores = _measured(relevant, run, [metric])[1][metric]
    return pd.Series([scores.get(qid, 0.0) for qid in relevant], index=list(relevant), dtype=float)


@dataclass(frozen=True)
class Significance:
    """A paired t-test of two rankers' per-query metric."""

    first: str
    second: str
    metric: str
    mean_difference: float
    p_value: float
    queries: int
    test: str = "paired t-test over queries"

    @property
    def verdict(self) -> str:
        """The result in one plain sentence, saying when it could be chance."""
        better, worse = (self.first, self.second) if self.mean_difference > 0 else (self.second, self.first)
        size = f"{abs(self.mean_difference):.3f} {self.metric}"
        if np.isnan(self.p_value):
            return f"{self.first} and {self.second} give identical {self.metric} on every query: no difference to test."
        if self.p_value < SIGNIFICANCE_LEVEL:
            return (
                f"{better} is better than {worse} by {size} on average, and over {self.queries} queries that "
                f"difference is unlikely to be chance (p = {self.p_value:.3g} < {SIGNIFICANCE_LEVEL})."
            )
        return (
            f"{better} is ahead of {worse} by {size} on average, but over {self.queries} queries that could well "
            f"be chance (p = {self.p_value:.3g} ≥ {SIGNIFICANCE_LEVEL}): no evidence either is better."
        )


def significance(per_query: pd.DataFrame, first: str, second: str, metric: str = "ndcg@10") -> Significance:
    """Paired t-test between two rankers' per-query scores (columns of `Evaluation.per_query`)."""
    differences = per_query[first].to_numpy() - per_query[second].to_numpy()
    p_value = float("nan") if np.allclose(differences, 0) else paired_t_p_value(differences)
    return Significance(first, second, metric, float(differences.mean()), p_value, len(differences))


def paired_t_p_value(differences: np.ndarray) -> float:
    """The two-sided p-value of a paired t-test on per-query differences (scipy.stats.ttest_rel's, held to it in
    the tests) from Student's t distribution alone: scipy.stats takes 0.7 s to import here, scipy.special 0.2 s."""
    from scipy.special import stdtr

    n = len(differences)
    if n < 2:
        return float("nan")
    spread = float(np.std(differences, ddof=1))
    mean = float(np.mean(differences))
    if spread == 0:
        return 0.0 if mean else float("nan")
    t = mean / (spread / np.sqrt(n))
    return float(2 * stdtr(n - 1, -abs(t)))


def trec_run(run: RunDict, name: str) -> str:
    """TREC run format: `qid Q0 docid rank score name`, best first."""
    lines = []
    for qid, docs in run.items():
        ranked = sorted(docs.items(), key=lambda item: -item[1])
        lines += [f"{qid} Q0 {doc} {rank} {score!r} {name}" for rank, (doc, score) in enumerate(ranked, start=1)]
    return "\n".join(lines) + "\n"
