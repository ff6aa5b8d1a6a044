"""A first stage of two first stages: BM25 and the bi-encoder fused by reciprocal-rank fusion (RRF).

score(d) = sum over the two rankings of 1 / (RRF_K + rank of d); a document one engine did not
return adds nothing from it. The passage read is the dense engine's, when it found the document.
"""

from __future__ import annotations

import time

from ranklens.index.base import FirstStage, Hit, Retrieved

RRF_K = 60
DEPTH = 2  # each engine is asked for DEPTH x top-N, so a document ranked low by one can still enter


class FusedRetriever(FirstStage):
    """BM25 and the dense first stage fused by reciprocal rank."""

    name = "bm25+faiss"
    label = "BM25 + bi-encoder (RRF)"
    score_name = "RRF"
    bounded = True

    def __init__(self, dense: FirstStage, lexical: FirstStage) -> None:
        self.dense, self.lexical = dense, lexical
        self.embedder = dense.embedder
        self.corpus, self.passages = dense.corpus, dense.passages
        self.key = f"rrf|{dense.key}|{lexical.key}"

    def retrieve(self, query: str, top_n: int) -> Retrieved:
        """The top-N of the RRF fusion of both first stages' deeper lists."""
        dense = self.dense.retrieve(query, top_n * DEPTH)
        lexical = self.lexical.retrieve(query, top_n * DEPTH)
        started = time.perf_counter()
        scores: dict[str, float] = {}
        passage: dict[str, int | None] = {}
        for ranking in (dense.hits, lexical.hits):
            for rank, hit in enumerate(ranking, start=1):
                scores[hit.doc_id] = scores.get(hit.doc_id, 0.0) + 1.0 / (RRF_K + rank)
                passage.setdefault(hit.doc_id, hit.passage)
        best = sorted(scores, key=lambda doc_id: -scores[doc_id])[:top_n]
        hits = [Hit(doc_id, scores[doc_id], passage[doc_id]) for doc_id in best]
        fused_ms = (time.perf_counter() - started) * 1000
        return Retrieved(hits, dense.encode_ms, dense.search_ms + lexical.search_ms + fused_ms)

    def describe(self) -> dict:
        """Both first stages and the fusion, for captions and reports."""
        return {
            "first_stage": self.name,
            "rrf_k": RRF_K,
            "dense": self.dense.describe(),
            "lexical": self.lexical.describe(),
        }
