"""The first stages by name, their settings, and how each is built for a corpus.

`faiss` (exact, embedded) is the default; the others are for big corpora (`faiss-hnsw`,
`faiss-ivf`, Milvus), for the lexical baseline (`bm25`, and `bm25+faiss` fusing both), and
for a ranking made elsewhere (`run`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ranklens.corpus.corpus import Corpus
from ranklens.index.base import FirstStage, RetrievalError
from ranklens.index.dense import AnnSettings, DenseRetriever
from ranklens.index.embeddings import corpus_passages, embed_corpus
from ranklens.index.lexical import BM25Retriever, BM25Settings
from ranklens.index.milvus import MilvusRetriever, MilvusSettings
from ranklens.models.embedder import Embedder
from ranklens.progress import OnProgress

FIRST_STAGES = {
    "faiss": "bi-encoder, exact inner product over every passage (FAISS flat)",
    "faiss-hnsw": "bi-encoder, approximate: FAISS HNSW graph",
    "faiss-ivf": "bi-encoder, approximate: FAISS IVF cells",
    "bm25": "BM25 (bm25s), lexical",
    "bm25+faiss": "BM25 and the bi-encoder fused by reciprocal-rank fusion",
    "milvus": "bi-encoder vectors in Milvus (Milvus Lite file, or a server by URI)",
    "milvus-bm25": "Milvus's full-text BM25",
    "milvus-hybrid": "Milvus hybrid search: dense and BM25 by Milvus's RRF ranker",
    "run": "a run file from any engine (TREC or CSV), reranked here",
}
DEFAULT_FIRST_STAGE = "faiss"
NEEDS_EMBEDDINGS = {"faiss", "faiss-hnsw", "faiss-ivf", "bm25+faiss", "milvus", "milvus-bm25", "milvus-hybrid"}


@dataclass(frozen=True)
class FirstStageSettings:
    """Which first stage, and the knobs of each kind."""

    name: str = DEFAULT_FIRST_STAGE
    ann: AnnSettings = field(default_factory=AnnSettings)
    bm25: BM25Settings = field(default_factory=BM25Settings)
    milvus: MilvusSettings = field(default_factory=MilvusSettings)
    run_file: Path | None = None

    def __post_init__(self) -> None:
        if self.name not in FIRST_STAGES:
            raise RetrievalError(f"unknown first stage {self.name!r}; choose from {', '.join(FIRST_STAGES)}")
        if self.name == "run" and self.run_file is None:
            raise RetrievalError("the run first stage needs a run file (--run FILE)")


def build_first_stage(
    settings: FirstStageSettings, corpus: Corpus, embedder: Embedder, progress: OnProgress | None = None
) -> FirstStage:
    """The first stage named by `settings` over `corpus`; `progress` hears the embedding (and Milvus ingestion)."""
    name = settings.name
    if name in NEEDS_EMBEDDINGS:
        embeddings = embed_corpus(corpus, embedder, progress=progress)
        if name.startswith("faiss"):
            return DenseRetriever(embeddings, embedder, name, settings.ann)
        if name.startswith("milvus"):
            return MilvusRetriever(embeddings, embedder, name, settings.milvus, progress)
        dense = DenseRetriever(embeddings, embedder, "faiss", settings.ann)
        from ranklens.index.fused import FusedRetriever

        return FusedRetriever(dense, BM25Retriever(corpus, embeddings.passages, settings.bm25))
    passages = corpus_passages(corpus, embedder)
    if name == "bm25":
        return BM25Retriever(corpus, passages, settings.bm25)
    from ranklens.index.runfile import RunRetriever

    return RunRetriever(corpus, passages, settings.run_file)
