"""Search: stage 1 bi-encoder top-N from FAISS, stage 2 cross-encoder reranking of those N.

A document is scored by its best passage with the bi-encoder; the cross-encoder scores
that passage ("best") or every passage of the document, keeping the maximum ("max").
Cross-encoder scores are cached per (model, budget, query, passage) in memory and on disk
(ranklens.score_cache), so running a query again, in this process or another, costs no
model call, and changing alpha only re-sorts numbers already in the result.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ranklens import fusion, inference
from ranklens.index import CorpusIndex
from ranklens.models.embedder import Embedder
from ranklens.models.reranker import DEFAULT_CE_BATCH, Reranker
from ranklens.progress import OnProgress
from ranklens.results import Candidate, SearchResult, Timings
from ranklens.score_cache import ScoreCache, score_key, shared_score_cache

DEFAULT_TOP_N = 100
CE_PASSAGE_MODES = ("best", "max")


class SearchError(ValueError):
    """A query that cannot be run; the message says why."""


def _check_query(query: str, top_n: int) -> None:
    if not query.strip():
        raise SearchError("the query is empty: type what you are looking for")
    if top_n < 1:
        raise SearchError(f"top-N must be at least 1, got {top_n}")


@dataclass
class Searcher:
    index: CorpusIndex
    embedder: Embedder
    reranker: Reranker | None = None  # None: retrieval only
    ce_batch_size: int = DEFAULT_CE_BATCH
    score_cache: ScoreCache | None = None  # None: the process's cache on disk, shared with every other searcher

    def __post_init__(self) -> None:
        if self.score_cache is None:
            self.score_cache = shared_score_cache()
        self._passages_of: dict[str, list[int]] = defaultdict(list)
        for position, passage in enumerate(self.index.passages):
            self._passages_of[passage.doc_id].append(position)

    def retrieve(self, query: str, top_n: int = DEFAULT_TOP_N) -> dict[str, float]:
        """Stage 1 alone: the bi-encoder's top-N documents and their scores, best first."""
        _check_query(query, top_n)
        return {doc_id: score for doc_id, score, _ in self._retrieve(self.embedder.encode([query.strip()]), top_n)}

    def _retrieve(self, query_vector: np.ndarray, top_n: int) -> list[tuple[str, float, int]]:
        """(doc id, best passage score, best passage position) for the top-N documents."""
        total = self.index.faiss_index.ntotal
        k = min(total, top_n)
        while True:
            with inference.LOCK:
                scores, positions = self.index.faiss_index.search(query_vector, k)
            best: dict[str, tuple[float, int]] = {}
            for score, position in zip(scores[0], positions[0]):
                if position < 0:
                    continue
                doc_id = self.index.passages[position].doc_id
                if doc_id not in best:  # FAISS returns passages best first
                    best[doc_id] = (float(score), int(position))
            if len(best) >= top_n or k >= total:
                break
            k = min(total, k * 2)  # several passages of one document took places: look deeper
        return [(doc_id, score, position) for doc_id, (score, position) in list(best.items())[:top_n]]

    def _cross_scores(
        self, query: str, passages: Sequence[str], progress: OnProgress | None = None
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Logits and truncation flags for (query, passage) pairs, from the cache where possible."""
        assert self.reranker is not None and self.score_cache is not None
        model, budget = self.reranker.fingerprint, self.reranker.max_tokens
        keys = [score_key(model, budget, query, passage) for passage in passages]
        passage_of = dict(zip(keys, passages))
        found = self.score_cache.get_many(passage_of)
        missing = [key for key in passage_of if key not in found]
        if missing:
            pairs = [(query, passage_of[key]) for key in missing]
            logits, truncated = self.reranker.score_with_truncation(
                pairs, batch_size=self.ce_batch_size, progress=progress
            )
            scored = {key: (float(logit), bool(cut)) for key, logit, cut in zip(missing, logits, truncated)}
            self.score_cache.put_many(scored)
            found.update(scored)
        values = [found[key] for key in keys]
        return (
            np.array([v[0] for v in values], dtype=np.float64),
            np.array([v[1] for v in values], dtype=bool),
            len(missing),
        )

    def first_stage(self, query: str, top_n: int = DEFAULT_TOP_N) -> SearchResult:
        """The bi-encoder's top-N as a result of its own (`reranked` False), to show while the cross-encoder runs."""
        _check_query(query, top_n)
        query = query.strip()
        started = time.perf_counter()
        query_vector = self.embedder.encode([query])
        embedded = time.perf_counter()
        hits = self._retrieve(query_vector, top_n)
        retrieved = time.perf_counter()
        bi_scores = np.array([score for _, score, _ in hits])
        bi_ranks = fusion.ranks(bi_scores)
        candidates = []
        for (doc_id, bi_score, position), bi_rank in zip(hits, bi_ranks):
            doc = self.index.corpus.get(doc_id)
            passage = self.index.passages[position]
            candidates.append(
                Candidate(
                    doc_id=doc_id,
                    title=doc.title,
                    text=doc.text,
                    passage=passage.text,
                    passage_count=passage.of,
                    ce_truncated=False,
                    bi_score=bi_score,
                    bi_rank=int(bi_rank),
                    ce_score=float("nan"),
                    ce_rank=int(bi_rank),
                    hybrid_score=bi_score,
                    hybrid_rank=int(bi_rank),
                )
            )
        timings = Timings(
            embed_ms=(embedded - started) * 1000,
            faiss_ms=(retrieved - embedded) * 1000,
            rerank_ms=0.0,
            total_ms=(retrieved - started) * 1000,
            pairs_scored=0,
            pairs_cached=0,
        )
        return SearchResult(
            query=query,
            candidates=tuple(candidates),
            timings=timings,
            bi_model=self.embedder.name,
            ce_model="",
            ce_fallback_reason=None,
            alpha=1.0,
            fusion_method="hybrid",
            ce_passages="",
            top_n=top_n,
            reranked=False,
        )

    def rerank(
        self,
        first: SearchResult,
        alpha: float = fusion.DEFAULT_ALPHA,
        fusion_method: str = "hybrid",
        ce_passages: str = "best",
        progress: OnProgress | None = None,
    ) -> SearchResult:
        """Stage 2 over a first stage's candidates. `progress(done, total)` hears after each cross-encoder
        batch; an exception raised there (a newer query in the app) stops the remaining batches."""
        if self.reranker is None:
            raise SearchError("no cross-encoder is loaded: only retrieval is available")
        if ce_passages not in CE_PASSAGE_MODES:
            raise SearchError(f"ce_passages must be one of {CE_PASSAGE_MODES}, got {ce_passages!r}")
        started = time.perf_counter()
        if ce_passages == "best":
            groups = [[c.passage] for c in first.candidates]
        else:
            groups = [[self.index.passages[p].text for p in self._passages_of[c.doc_id]] for c in first.candidates]
        flat = [text for group in groups for text in group]
        logits, truncated, scored = self._cross_scores(first.query, flat, progress)
        reranked = time.perf_counter()

        ce_scores, ce_truncated, ce_passage = [], [], []
        offset = 0
        for group in groups:
            best = offset + int(np.argmax(logits[offset : offset + len(group)]))
            ce_scores.append(logits[best])
            ce_truncated.append(bool(truncated[best]))
            ce_passage.append(flat[best])
            offset += len(group)
        bi_scores = np.array([c.bi_score for c in first.candidates])
        ce_array = np.array(ce_scores)
        ce_ranks = fusion.ranks(ce_array)
        hybrid = fusion.fuse(bi_scores, ce_array, alpha, fusion_method)
        hybrid_ranks = fusion.ranks(hybrid)
        candidates = tuple(
            replace(
                c,
                passage=ce_passage[i],
                ce_truncated=ce_truncated[i],
                ce_score=float(ce_array[i]),
                ce_rank=int(ce_ranks[i]),
                hybrid_score=float(hybrid[i]),
                hybrid_rank=int(hybrid_ranks[i]),
            )
            for i, c in enumerate(first.candidates)
        )
        finished = time.perf_counter()
        timings = replace(
            first.timings,
            rerank_ms=(reranked - started) * 1000,
            total_ms=first.timings.total_ms + (finished - started) * 1000,
            pairs_scored=scored,
            pairs_cached=len(flat) - scored,
        )
        return replace(
            first,
            candidates=candidates,
            timings=timings,
            ce_model=self.reranker.name,
            ce_fallback_reason=self.reranker.fallback_reason,
            alpha=alpha,
            fusion_method=fusion_method,
            ce_passages=ce_passages,
            reranked=True,
        )

    def search(
        self,
        query: str,
        top_n: int = DEFAULT_TOP_N,
        alpha: float = fusion.DEFAULT_ALPHA,
        fusion_method: str = "hybrid",
        ce_passages: str = "best",
        progress: OnProgress | None = None,
    ) -> SearchResult:
        if self.reranker is None:
            raise SearchError("no cross-encoder is loaded: only retrieval is available")
        return self.rerank(self.first_stage(query, top_n), alpha, fusion_method, ce_passages, progress)
