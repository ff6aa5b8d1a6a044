"""Training data: judged queries split into train and held-out, training pairs with mined negatives, and the
held-out figures every model is measured by.

Graded judgements become targets in 0..1 (grade / grade scale); each training query also gets
hard negatives (the bi-encoder's top documents that were not judged) and random negatives.
Queries are split, never pairs, so no held-out query is ever trained on.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ranklens.corpus.corpus import Qrels
from ranklens.evaluation.evaluate import judged, score_runs
from ranklens.ranking import fusion
from ranklens.ranking.search import Searcher

LOSSES = {
    "bce": "binary cross-entropy on (query, passage, target) pairs",
    "listnet": "ListNet: a listwise loss over each query's judged and negative passages",
}
HELDOUT_METRICS = ("ndcg@10", "mrr@10")


class TrainingError(ValueError):
    """Training that cannot start (too little data, say); the message says what is missing."""


@dataclass(frozen=True)
class TrainSettings:
    """Fine-tuning's knobs: epochs, learning rate, batch size, warm-up and negatives per query."""

    epochs: int = 3
    learning_rate: float = 2e-5
    batch_size: int = 16
    warmup_ratio: float = 0.1
    hard_negatives: int = 4
    random_negatives: int = 1
    heldout_fraction: float = 0.2
    heldout_candidates: int = 30  # how deep the bi-encoder list is that base and tuned rerank on held-out queries
    loss: str = "bce"
    seed: int = 12
    max_length: int = 192


@dataclass
class TrainingData:
    """Training pairs from the train queries, and the held-out queries' candidates and judgements."""

    train_queries: list[str]
    heldout_queries: list[str]
    pairs: list[tuple[str, str, float]]  # (query, passage, target)
    heldout_candidates: dict[str, dict[str, float]]  # query id -> doc id -> bi-encoder score
    heldout_qrels: Qrels
    grade_scale: int

    def summary(self) -> dict[str, int]:
        """Counts for the page: queries, pairs, positives."""
        positives = sum(target > 0 for _, _, target in self.pairs)
        return {
            "train queries": len(self.train_queries),
            "held-out queries": len(self.heldout_queries),
            "training pairs": len(self.pairs),
            "positives": positives,
            "negatives": len(self.pairs) - positives,
        }


def split_queries(query_ids: list[str], heldout_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """A seeded split by query: every query lands on exactly one side."""
    shuffled = sorted(query_ids)
    random.Random(seed).shuffle(shuffled)
    heldout = max(1, round(len(shuffled) * heldout_fraction))
    if len(shuffled) - heldout < 1:
        raise TrainingError(f"{len(shuffled)} judged queries cannot be split into train and held-out: judge more")
    return sorted(shuffled[heldout:]), sorted(shuffled[:heldout])


def build_training_data(
    searcher: Searcher,
    queries: Mapping[str, str],
    qrels: Qrels,
    settings: TrainSettings,
    heldout: list[str] | None = None,
    grade_scale: int | None = None,
) -> TrainingData:
    """Training pairs for the train queries and fixed candidate lists for the held-out ones.

    `heldout` overrides the seeded split; `grade_scale` is the grade that means "perfect"
    (3 for RankLens labels; by default the highest grade in the qrels).
    """
    relevant = judged(qrels)
    if heldout is None:
        train_ids, heldout_ids = split_queries(list(relevant), settings.heldout_fraction, settings.seed)
    else:
        heldout_ids = sorted(set(heldout) & set(relevant))
        train_ids = sorted(set(relevant) - set(heldout_ids))
    if not train_ids or not heldout_ids:
        raise TrainingError("training needs at least one judged query on each side of the split")
    scale = grade_scale or max(g for docs in qrels.values() for g in docs.values())
    rng = random.Random(settings.seed)
    corpus = searcher.corpus
    all_ids = [doc.id for doc in corpus.documents]
    pairs: list[tuple[str, str, float]] = []
    for qid in train_ids:
        query, judgements = queries[qid], qrels[qid]
        for doc_id, grade in judgements.items():
            if doc_id in corpus:
                pairs.append((query, corpus.get(doc_id).full_text, min(1.0, max(0, grade) / scale)))
        retrieved = searcher.retrieve(query, settings.hard_negatives + len(judgements) + 5)
        hard = [d for d in retrieved if d not in judgements][: settings.hard_negatives]
        unjudged = [d for d in all_ids if d not in judgements and d not in hard]
        chosen = hard + rng.sample(unjudged, min(settings.random_negatives, len(unjudged)))
        pairs += [(query, corpus.get(doc_id).full_text, 0.0) for doc_id in chosen]
    candidates = {qid: searcher.retrieve(queries[qid], settings.heldout_candidates) for qid in heldout_ids}
    return TrainingData(train_ids, heldout_ids, pairs, candidates, {q: relevant[q] for q in heldout_ids}, scale)


def heldout_figures(
    predict: Callable[[list[tuple[str, str]]], np.ndarray],
    data: TrainingData,
    searcher: Searcher,
    queries: Mapping[str, str],
    alpha: float = fusion.DEFAULT_ALPHA,
) -> pd.DataFrame:
    """nDCG@10 and MRR@10 of a cross-encoder's reranking, and of the hybrid, on the held-out candidate lists."""
    corpus = searcher.corpus
    reranked, hybrid = {}, {}
    for qid, candidates in data.heldout_candidates.items():
        doc_ids = list(candidates)
        logits = np.asarray(predict([(queries[qid], corpus.get(d).full_text) for d in doc_ids]), dtype=np.float64)
        blended = fusion.fuse(np.array([candidates[d] for d in doc_ids]), logits, alpha)
        reranked[qid] = {d: float(s) for d, s in zip(doc_ids, logits)}
        hybrid[qid] = {d: float(s) for d, s in zip(doc_ids, blended)}
    return score_runs(data.heldout_qrels, {"reranked": reranked, "hybrid": hybrid}, HELDOUT_METRICS)
