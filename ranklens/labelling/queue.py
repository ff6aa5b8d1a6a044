"""Judging queues: the order in which a rater is shown (query, document) pairs to judge.

The blind order shuffles a query's pooled candidates so that no ranker's order sways the
judgement; it is the default, for unbiased judging. The active order ranks the unjudged
pairs of every query by how much a judgement can change a decision (ACTIVE_RULE): judging
where the rankers disagree tells them apart sooner, at the price of a sample that is no
longer blind to the rankers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ranklens.ranking.fusion import sigmoid
from ranklens.ranking.results import Candidate, SearchResult

ACTIVE_RULE = (
    "Pairs from any ranker's top-k, most useful first: priority = (1 if the document is in one of the first "
    "stage's and the reranked top-k but not the other) + (rank shift between the two, over 2k, at most 1) + "
    "(how undecided the cross-encoder is: 1 − |2·sigmoid(logit) − 1|) + (|first-stage score scaled to the "
    "query's candidates − sigmoid(logit)|), times the nDCG discount 1 / log2(1 + the better of the two ranks)."
)
# What each term is called when it is a reason a pair is next: words only, no scores or ranks, so the queue
# never tells the rater what a ranker thought.
REASONS = {
    "exclusive": "in one ranker's top-k only",
    "shift": "the rankers place it far apart",
    "undecided": "the cross-encoder is undecided",
    "disagree": "the first stage and the cross-encoder disagree",
}
REASON_SHARE = 0.25  # a term at least this big is named as a reason


@dataclass(frozen=True)
class QueueItem:
    """One pair to judge, its priority and, in words, why it comes where it does."""

    query_id: str
    query: str
    doc_id: str
    priority: float
    reasons: tuple[str, ...]


def pool(rankings: Iterable[Iterable[str]], seed: str) -> list[str]:
    """The union of several rankings' documents in an order that hides every ranker's order.

    Shuffled with a seed (the query), so a rater who comes back sees the same order.
    """
    unique = sorted({doc_id for ranking in rankings for doc_id in ranking})
    random.Random(seed).shuffle(unique)
    return unique


def priority_terms(candidate: Candidate, top_k: int, first_scaled: float) -> dict[str, float]:
    """The four terms of ACTIVE_RULE for one candidate (before the discount)."""
    in_first, in_reranked = candidate.bi_rank <= top_k, candidate.ce_rank <= top_k
    probability = float(sigmoid(candidate.ce_score))
    return {
        "exclusive": 1.0 if in_first != in_reranked else 0.0,
        "shift": min(abs(candidate.bi_rank - candidate.ce_rank), 2 * top_k) / (2 * top_k),
        "undecided": 1.0 - abs(2.0 * probability - 1.0),
        "disagree": abs(first_scaled - probability),
    }


def discount(candidate: Candidate) -> float:
    """nDCG's position discount at the better of the pair's two ranks: a pair near the top matters more."""
    return 1.0 / math.log2(1 + min(candidate.bi_rank, candidate.ce_rank))


def _scaled_first_scores(result: SearchResult) -> dict[str, float]:
    scores = np.array([c.bi_score for c in result.candidates], dtype=np.float64)
    low, high = (float(scores.min()), float(scores.max())) if len(scores) else (0.0, 1.0)
    span = high - low
    return {c.doc_id: (c.bi_score - low) / span if span > 0 else 1.0 for c in result.candidates}


def active_queue(
    results: Mapping[str, SearchResult], judged: Collection[tuple[str, str]], top_k: int = 10
) -> list[QueueItem]:
    """Every unjudged (query id, doc id) pair of any ranker's top-k over `results` (query id -> result), by
    ACTIVE_RULE's priority, highest first (ties: query id, then doc id)."""
    judged = set(judged)
    items = []
    for query_id, result in results.items():
        scaled = _scaled_first_scores(result)
        for candidate in pooled(result, top_k):
            if (query_id, candidate.doc_id) in judged:
                continue
            terms = priority_terms(candidate, top_k, scaled[candidate.doc_id])
            named = sorted((t for t in terms if terms[t] >= REASON_SHARE), key=lambda t: -terms[t])
            reasons = tuple(REASONS[t] for t in named) or (REASONS[max(terms, key=lambda t: terms[t])],)
            priority = discount(candidate) * sum(terms.values())
            items.append(QueueItem(query_id, result.query, candidate.doc_id, priority, reasons))
    return sorted(items, key=lambda item: (-item.priority, item.query_id, item.doc_id))


def blind_queue(
    results: Mapping[str, SearchResult], judged: Collection[tuple[str, str]], top_k: int = 10, seed: int = 0
) -> list[QueueItem]:
    """The same pairs as the active queue in a seeded random order over all queries: the baseline."""
    judged = set(judged)
    pairs = sorted(
        (q, r.query, c.doc_id) for q, r in results.items() for c in pooled(r, top_k) if (q, c.doc_id) not in judged
    )
    random.Random(seed).shuffle(pairs)
    return [QueueItem(q, text, d, 0.0, ()) for q, text, d in pairs]


def pooled(result: SearchResult, top_k: int) -> list[Candidate]:
    """The candidates in any ranker's top-k."""
    shown = {c.doc_id for ranker in ("bi", "ce", "hybrid") for c in result.ranking(ranker)[:top_k]}
    return [c for c in result.candidates if c.doc_id in shown]
