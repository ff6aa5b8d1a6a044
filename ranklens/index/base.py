"""The first-stage interface: what every engine that proposes candidates to the cross-encoder provides.

A first stage ranks documents for a query and says which passage earned each document its
score (dense engines score passages; a lexical engine or a run file may score whole
documents, and then the searcher picks the passage the cross-encoder reads).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

from ranklens.corpus.corpus import Corpus
from ranklens.corpus.passages import PassageTable
from ranklens.models.embedder import Embedder


class RetrievalError(ValueError):
    """A first stage that cannot be built or cannot answer; the message says why."""


@dataclass(frozen=True)
class Hit:
    """One document a first stage found, its score and, for passage indexes, which passage."""

    doc_id: str
    score: float
    passage: int | None = None  # the passage (its position in the passage table) that earned the score


@dataclass(frozen=True)
class Retrieved:
    """A first stage's hits for one query, best first, and the time spent encoding and searching."""

    hits: list[Hit]  # best first, one per document
    encode_ms: float  # embedding the query (0 when the engine needs no embedding)
    search_ms: float  # the engine's own search


class FirstStage(ABC):
    """A first stage over one corpus and its passage table."""

    name: str  # as in the registry: "faiss", "bm25", "milvus-hybrid", ...
    label: str  # for people, as a ranking's heading: "bi-encoder", "BM25", ...
    score_name: str  # what its scores are: "cosine", "BM25", "RRF", ...
    bounded: bool  # scores within [-1, 1] (cosine): the hybrid takes them as they are, else min-max per query
    corpus: Corpus
    passages: PassageTable
    key: str  # changes whenever its results could: keys caches of its results
    embedder: Embedder | None = None  # the bi-encoder that embeds its queries (None: an engine that embeds none)

    @abstractmethod
    def retrieve(self, query: str, top_n: int) -> Retrieved:
        """The top-N documents for a (non-empty, stripped) query, best first."""

    def describe(self) -> dict:
        """The settings that produced its rankings, for saved runs and reports."""
        return {"first_stage": self.name}

    def close(self) -> None:
        """Let go of connections or files (engines that hold none need not override this)."""


def best_per_document(ranked: Iterable[tuple[int, float]], passages: PassageTable, top_n: int) -> list[Hit]:
    """Documents scored by their best passage, from (passage position, score) pairs given best first."""
    best: dict[str, Hit] = {}
    for position, score in ranked:
        if position < 0:
            continue
        doc_id = passages.doc_id(position)
        if doc_id not in best:
            best[doc_id] = Hit(doc_id, float(score), int(position))
            if len(best) == top_n:
                break
    return list(best.values())


_WORD = re.compile(r"\w+")


def overlap_passage(query: str, passages: PassageTable, doc_id: str) -> int:
    """The passage of a document that shares the most words with the query (the first on ties): what the
    cross-encoder reads of a document an engine scored whole."""
    positions = passages.of_id(doc_id)
    if len(positions) <= 1:
        return positions.start
    words = set(_WORD.findall(query.lower()))
    return max(positions, key=lambda p: (len(words & set(_WORD.findall(passages.text(p).lower()))), -p))
