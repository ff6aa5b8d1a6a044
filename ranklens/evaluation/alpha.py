"""Choosing alpha honestly: the alpha sweep's best figure is optimistic, measured on the queries it was picked on.

k-fold cross-validation over queries: for each fold, alpha is picked on the other folds and
nDCG@10 measured on the held-out fold; the cross-validated figure is the mean over every
query of its held-out nDCG@10, and the cross-validated alpha (the one "use best alpha" sets)
is the median of the folds' picks. All of it is arithmetic on scores already computed.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

import numpy as np

from ranklens.evaluation.evaluate import SWEEP_ALPHAS, Evaluation, per_query_scores

DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class AlphaChoice:
    """The best alpha on the queries themselves (optimistic) and the one cross-validated over folds of queries."""

    in_sample_alpha: float  # the sweep's best on every query: optimistic
    in_sample: float
    cross_validated_alpha: float  # the median of the folds' picks
    cross_validated: float  # mean held-out figure: what to expect on new queries
    fold_alphas: tuple[float, ...]
    folds: int
    metric: str


def _by_alpha(evaluation: Evaluation, metric: str, method: str | None) -> tuple[list[str], np.ndarray]:
    """Query ids, and each query's figure at each alpha of the sweep (alphas x queries)."""
    queries = list(evaluation.qrels)
    rows = []
    for alpha in SWEEP_ALPHAS:
        run = evaluation.runs(alpha, method, rankers=["hybrid"])["hybrid"]
        rows.append(per_query_scores(evaluation.qrels, run, metric).reindex(queries).to_numpy())
    return queries, np.array(rows)


def fold_ids(queries: list[str], folds: int, seed: int = 0) -> list[list[str]]:
    """Queries dealt into `folds` folds after a seeded shuffle (every query in exactly one)."""
    shuffled = sorted(queries)
    random.Random(seed).shuffle(shuffled)
    return [shuffled[i::folds] for i in range(folds)]


def cross_validated_alpha(
    evaluation: Evaluation,
    folds: int = DEFAULT_FOLDS,
    method: str | None = None,
    metric: str = "ndcg@10",
    seed: int = 0,
) -> AlphaChoice:
    """The in-sample best alpha and the k-fold cross-validated one for an evaluation's hybrid."""
    queries, scores = _by_alpha(evaluation, metric, method)
    return choose_alpha(queries, scores, SWEEP_ALPHAS, folds, metric, seed)


def choose_alpha(
    queries: list[str],
    scores: np.ndarray,
    alphas: list[float],
    folds: int = DEFAULT_FOLDS,
    metric: str = "ndcg@10",
    seed: int = 0,
) -> AlphaChoice:
    """`scores[a, q]`: query q's figure at alphas[a]. Folds: at most one per query, at least two."""
    if len(queries) < 2:
        raise ValueError("cross-validating alpha needs at least two judged queries")
    folds = max(2, min(folds, len(queries)))
    position = {qid: i for i, qid in enumerate(queries)}
    best_all = int(np.argmax(scores.mean(axis=1)))  # ties: the smallest alpha
    held_out = np.zeros(len(queries))
    picks = []
    for fold in fold_ids(queries, folds, seed):
        test = [position[q] for q in fold]
        train = sorted(set(range(len(queries))) - set(test))
        pick = int(np.argmax(scores[:, train].mean(axis=1)))
        picks.append(alphas[pick])
        held_out[test] = scores[pick, test]
    return AlphaChoice(
        alphas[best_all],
        float(scores[best_all].mean()),
        float(statistics.median(picks)),
        float(held_out.mean()),
        tuple(picks),
        folds,
        metric,
    )
