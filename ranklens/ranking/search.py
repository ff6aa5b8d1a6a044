"""Search: stage 1 from any first stage (ranklens.index), stage 2 the cross-encoder on those N candidates.

The cross-encoder reads the passage that earned a document its first-stage score ("best"),
or every passage of the document, keeping the maximum ("max"). Cross-encoder scores are
cached per (model, budget, query, passage) in memory and on disk (ranklens.ranking.score_cache), so
running a query again, in this process or another, costs no model call, and changing alpha
only re-sorts numbers already in the result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ranklens.index.base import FirstStage, RetrievalError
from ranklens.index.query_vectors import is_cached
from ranklens.models.embedder import Embedder
from ranklens.models.reranker import DEFAULT_CE_BATCH, Reranker
from ranklens.progress import OnProgress
from ranklens.ranking import fusion
from ranklens.ranking.results import Candidate, SearchResult, SideEntry, SideRanking, Timings
from ranklens.ranking.score_cache import ScoreCache, score_key, shared_score_cache

DEFAULT_TOP_N = 100
CE_PASSAGE_MODES = ("best", "max")


class SearchError(ValueError):
    """A query that cannot be run; the message says why."""


def _check_query(query: str, top_n: int) -> None:
    if not query.strip():
        raise SearchError("the query is empty: type what you are looking for")
    if top_n < 1:
        raise SearchError(f"top-N must be at least 1, got {top_n}")


def load_ahead(query: str, embedder: Embedder | None, reranker: Reranker | None) -> threading.Thread | None:
    """Load both models on a thread while the caller loads the index, where a search of `query` will need them (its
    vector is not cached); the search then waits only for what is left. Returns the thread, if one started."""
    models = [model for model in (embedder, reranker) if model is not None and not model.runnable]
    if not models or embedder is None or not query.strip() or is_cached(embedder, query.strip()):
        return None

    def load() -> None:
        for model in models:
            try:
                model.load_ahead()
            except Exception:  # noqa: BLE001 - the search's own load meets the same failure and says what it is
                return

    thread = threading.Thread(target=load, name="ranklens-load-ahead", daemon=True)
    thread.start()
    return thread


@dataclass
class Searcher:
    """The two stages together: a first stage, optionally a cross-encoder, and the score cache between them."""

    first: FirstStage
    reranker: Reranker | None = None  # None: retrieval only
    ce_batch_size: int = DEFAULT_CE_BATCH
    score_cache: ScoreCache | None = None  # None: the process's cache on disk, shared with every other searcher
    ce_max_tokens: int | None = None  # the cross-encoder's token budget per pair; None: the model's window

    def __post_init__(self) -> None:
        if self.score_cache is None:
            self.score_cache = shared_score_cache()

    @property
    def corpus(self):
        """The corpus the first stage searches."""
        return self.first.corpus

    @property
    def passages(self):
        """The first stage's passages (what the cross-encoder reads)."""
        return self.first.passages

    def _retrieved(self, query: str, top_n: int):
        _check_query(query, top_n)
        try:
            return self.first.retrieve(query.strip(), top_n)
        except RetrievalError as err:
            raise SearchError(str(err)) from err

    def retrieve(self, query: str, top_n: int = DEFAULT_TOP_N) -> dict[str, float]:
        """Stage 1 alone: the first stage's top-N documents and their scores, best first."""
        return {hit.doc_id: hit.score for hit in self._retrieved(query, top_n).hits}

    def _score_keys(self, query: str, passages: Sequence[str]) -> list[bytes]:
        assert self.reranker is not None
        model, budget = self.reranker.fingerprint, self.reranker.budget(self.ce_max_tokens)
        return [score_key(model, budget, query, passage) for passage in passages]

    def all_scores_cached(self, first: SearchResult, ce_passages: str = "best") -> bool:
        """Whether reranking these candidates would find every cross-encoder score in the cache (and so call no
        model: the app then draws the finished page at once)."""
        if self.reranker is None or ce_passages not in CE_PASSAGE_MODES:
            return False
        assert self.score_cache is not None
        flat = [text for group in self._groups(first, ce_passages) for text in group]
        keys = self._score_keys(first.query, flat)
        return len(self.score_cache.get_many(keys)) == len(set(keys))

    def _cross_scores(
        self, query: str, passages: Sequence[str], progress: OnProgress | None = None
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Logits and truncation flags for (query, passage) pairs, from the cache where possible."""
        assert self.reranker is not None and self.score_cache is not None
        budget = self.reranker.budget(self.ce_max_tokens)
        keys = self._score_keys(query, passages)
        passage_of = dict(zip(keys, passages))
        found = self.score_cache.get_many(passage_of)
        missing = [key for key in passage_of if key not in found]
        if missing:
            pairs = [(query, passage_of[key]) for key in missing]
            logits, truncated = self.reranker.score_with_truncation(
                pairs, batch_size=self.ce_batch_size, progress=progress, max_tokens=budget
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

    def _candidate(self, hit, rank: int) -> Candidate:
        """A first-stage hit as a candidate, ranked by the first stage in every column until reranked."""
        doc = self.corpus.get(hit.doc_id)
        return Candidate(
            doc_id=hit.doc_id,
            title=doc.title,
            text=doc.text,
            passage=self.passages.text(hit.passage),
            passage_count=len(self.passages.of_id(hit.doc_id)),
            ce_truncated=False,
            bi_score=hit.score,
            bi_rank=rank,
            ce_score=float("nan"),
            ce_rank=rank,
            hybrid_score=hit.score,
            hybrid_rank=rank,
        )

    def _loading_ms(self) -> float:
        """Time its models have spent loading so far (those left on disk load at the first call that needs them)."""
        return sum(model.load_ms for model in (self.first.embedder, self.reranker) if model is not None)

    def first_stage(self, query: str, top_n: int = DEFAULT_TOP_N) -> SearchResult:
        """The first stage's top-N as a result of its own (`reranked` False), to show while the cross-encoder runs."""
        started, loading = time.perf_counter(), self._loading_ms()
        retrieved = self._retrieved(query, top_n)
        loaded_ms = self._loading_ms() - loading
        scores = np.array([hit.score for hit in retrieved.hits], dtype=np.float64)
        ranks = fusion.ranks(scores)
        candidates = [self._candidate(hit, int(rank)) for hit, rank in zip(retrieved.hits, ranks)]
        elapsed = (time.perf_counter() - started) * 1000
        timings = Timings(
            embed_ms=retrieved.encode_ms - loaded_ms,
            search_ms=retrieved.search_ms,
            rerank_ms=0.0,
            total_ms=elapsed,
            pairs_scored=0,
            pairs_cached=0,
            load_ms=loaded_ms,
        )
        first = self.first
        return SearchResult(
            query=query.strip(),
            candidates=tuple(candidates),
            timings=timings,
            bi_model=getattr(getattr(first, "embedder", None), "name", ""),
            ce_model="",
            ce_fallback_reason=None,
            alpha=1.0,
            fusion_method="hybrid",
            ce_passages="",
            top_n=top_n,
            reranked=False,
            first_stage=first.name,
            first_label=first.label,
            first_score_name=first.score_name,
            first_bounded=first.bounded,
        )

    def _groups(self, first: SearchResult, ce_passages: str) -> list[list[str]]:
        if ce_passages == "best":
            return [[c.passage] for c in first.candidates]
        return [self.passages.texts(self.passages.of_id(c.doc_id)) for c in first.candidates]

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
        started, loading = time.perf_counter(), self._loading_ms()
        groups = self._groups(first, ce_passages)
        flat = [text for group in groups for text in group]
        logits, truncated, scored = self._cross_scores(first.query, flat, progress)
        reranked = time.perf_counter()
        loaded_ms = self._loading_ms() - loading
        best = _best_of_groups(logits, groups)
        candidates = _rescored(first, flat, best, logits, truncated, alpha, fusion_method)
        timings = replace(
            first.timings,
            rerank_ms=(reranked - started) * 1000 - loaded_ms,
            total_ms=first.timings.total_ms + (time.perf_counter() - started) * 1000,
            pairs_scored=scored,
            pairs_cached=len(flat) - scored,
            load_ms=first.timings.load_ms + loaded_ms,
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
        """Both stages: the first stage's top-N reranked by the cross-encoder, and the hybrid at `alpha`."""
        if self.reranker is None:
            raise SearchError("no cross-encoder is loaded: only retrieval is available")
        return self.rerank(self.first_stage(query, top_n), alpha, fusion_method, ce_passages, progress)


def _rescored(
    first: SearchResult,
    flat: list[str],
    best: list[int],
    logits: np.ndarray,
    truncated: np.ndarray,
    alpha: float,
    fusion_method: str,
) -> tuple[Candidate, ...]:
    """The first stage's candidates with the cross-encoder's scores of their best passages, and the hybrid."""
    ce_array = logits[best] if best else np.zeros(0)
    ce_ranks = fusion.ranks(ce_array)
    bi_scores = np.array([c.bi_score for c in first.candidates], dtype=np.float64)
    hybrid = fusion.fuse(bi_scores, ce_array, alpha, fusion_method, bi_bounded=first.first_bounded)
    hybrid_ranks = fusion.ranks(hybrid)
    return tuple(
        replace(
            c,
            passage=flat[best[i]],
            ce_truncated=bool(truncated[best[i]]),
            ce_score=float(ce_array[i]),
            ce_rank=int(ce_ranks[i]),
            hybrid_score=float(hybrid[i]),
            hybrid_rank=int(hybrid_ranks[i]),
        )
        for i, c in enumerate(first.candidates)
    )


def _best_of_groups(logits: np.ndarray, groups: list[list[str]]) -> list[int]:
    """For each document's group of passages (laid end to end in `logits`), the position of its best-scored one."""
    best, offset = [], 0
    for group in groups:
        best.append(offset + int(np.argmax(logits[offset : offset + len(group)])))
        offset += len(group)
    return best


def side_ranking(result: SearchResult, other: FirstStage, top_k: int) -> SideRanking:
    """Another first stage's top-k for the result's query, each document's shift against the result's first-stage
    rank (outside its top-k: "new")."""
    try:
        hits = other.retrieve(result.query, top_k).hits
    except RetrievalError as err:
        raise SearchError(str(err)) from err
    first_rank = {c.doc_id: c.bi_rank for c in result.candidates}
    entries = tuple(
        SideEntry(hit.doc_id, hit.score, rank, fusion.shift(first_rank.get(hit.doc_id, top_k + 1), rank, top_k))
        for rank, hit in enumerate(hits, start=1)
    )
    return SideRanking(other.name, other.label, other.score_name, entries)
