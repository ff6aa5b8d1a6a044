"""Search results: each candidate's scores and ranks under every ranker, the timings, and rank shifts.

The three rankers are named once, in RANKERS: `bi` (the first stage), `ce` (the
cross-encoder's reranking) and `hybrid` (the two fused); everything that needs a ranker's
score or rank field looks it up here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ranklens.ranking import fusion


@dataclass(frozen=True)
class Ranker:
    """One of the rankings a search produces, and which Candidate fields hold its score and rank."""

    key: str
    label: str
    score_field: str
    rank_field: str


RANKERS = {
    "bi": Ranker("bi", "bi-encoder", "bi_score", "bi_rank"),
    "ce": Ranker("ce", "reranked", "ce_score", "ce_rank"),
    "hybrid": Ranker("hybrid", "hybrid", "hybrid_score", "hybrid_rank"),
}
RANKER_LABELS = {key: ranker.label for key, ranker in RANKERS.items()}


@dataclass(frozen=True)
class Timings:
    """Where one search's time went, and how many pairs the cross-encoder scored or found cached."""

    embed_ms: float  # the query's embedding (0 for an engine that needs none)
    search_ms: float  # the first stage's search
    rerank_ms: float
    total_ms: float
    pairs_scored: int  # pairs the cross-encoder actually ran on (0 when all came from the cache)
    pairs_cached: int
    load_ms: float = 0.0  # loading models this search needed first (not in embed_ms or rerank_ms; 0 once loaded)


@dataclass(frozen=True)
class Candidate:
    """One candidate of a search: its text, the passage the cross-encoder read, each ranker's score and rank."""

    doc_id: str
    title: str
    text: str  # the whole document
    passage: str  # what the cross-encoder read (the best bi-encoder passage in "best" mode)
    passage_count: int  # >1: the document was chunked and the bi-encoder scored its best passage
    ce_truncated: bool  # the cross-encoder's window cut off part of the passage it read
    bi_score: float
    bi_rank: int
    ce_score: float  # raw logit
    ce_rank: int
    hybrid_score: float
    hybrid_rank: int

    def score(self, ranker: str) -> float:
        """This candidate's score under 'bi', 'ce' or 'hybrid'."""
        return getattr(self, RANKERS[ranker].score_field)

    def rank(self, ranker: str) -> int:
        """This candidate's 1-based rank under 'bi', 'ce' or 'hybrid'."""
        return getattr(self, RANKERS[ranker].rank_field)

    @property
    def coverage(self) -> str:
        """What the models saw, in words, for the result row's badge."""
        parts = []
        if self.passage_count > 1:
            parts.append(f"best of {self.passage_count} passages")
        if self.ce_truncated:
            parts.append("cross-encoder saw a truncated passage")
        return "; ".join(parts) or "whole text"


@dataclass(frozen=True)
class SearchResult:
    """One query's search: every candidate with every ranker's score and rank, the models and the timings."""

    query: str
    candidates: tuple[Candidate, ...]  # in first-stage order
    timings: Timings
    bi_model: str
    ce_model: str
    ce_fallback_reason: str | None
    alpha: float
    fusion_method: str
    ce_passages: str
    top_n: int
    reranked: bool = True  # False: the first stage alone, cross-encoder fields not filled yet
    first_stage: str = "faiss"  # the first stage's registry name
    first_label: str = "bi-encoder"  # its heading: "bi-encoder", "BM25", ...
    first_score_name: str = "cosine"
    first_bounded: bool = True  # its scores are within [-1, 1]: the hybrid takes them as they are

    def ranking(self, ranker: str) -> list[Candidate]:
        """Candidates ordered by 'bi', 'ce' or 'hybrid'."""
        return sorted(self.candidates, key=lambda c: c.rank(ranker))

    def shift(self, candidate: Candidate, ranker: str, top_k: int, baseline: str = "bi") -> fusion.Shift:
        """How `candidate` moved from the baseline ranking to `ranker`'s ('new' when it entered the top-k)."""
        return fusion.shift(candidate.rank(baseline), candidate.rank(ranker), top_k)

    def with_fusion(self, alpha: float, method: str | None = None) -> SearchResult:
        """The same candidates re-fused at another alpha (or method): arithmetic only, no model call."""
        method = method or self.fusion_method
        bi = np.array([c.bi_score for c in self.candidates])
        ce = np.array([c.ce_score for c in self.candidates])
        scores = fusion.fuse(bi, ce, alpha, method, bi_bounded=self.first_bounded)
        hybrid_ranks = fusion.ranks(scores)
        candidates = tuple(
            replace(c, hybrid_score=float(s), hybrid_rank=int(r))
            for c, s, r in zip(self.candidates, scores, hybrid_ranks)
        )
        return replace(self, candidates=candidates, alpha=alpha, fusion_method=method)


@dataclass(frozen=True)
class SideEntry:
    """A document of a second first stage shown beside the first, with its shift against the first."""

    doc_id: str
    score: float
    rank: int
    shift: fusion.Shift  # against the main result's first-stage rank ("new": outside its top-k)


@dataclass(frozen=True)
class SideRanking:
    """A second first stage's ranking of the same query, beside a result, with each document's shift."""

    name: str
    label: str
    score_name: str
    entries: tuple[SideEntry, ...]
