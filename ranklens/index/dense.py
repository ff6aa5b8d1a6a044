"""Dense first stages: FAISS over the bi-encoder's passage vectors, exact (flat) or approximate (HNSW, IVF).

A document is scored by its best passage. The approximate indexes are built from the same
cached vectors and cached beside them; their recall@N against the flat index is measured on
real queries (`ann_recall`), so approximation is never silent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import faiss
import numpy as np

from ranklens import cachedir, inference
from ranklens.index.base import FirstStage, Retrieved, best_per_document
from ranklens.index.embeddings import CorpusEmbeddings
from ranklens.index.query_vectors import query_vector
from ranklens.models.embedder import Embedder

KINDS = {"faiss": "flat", "faiss-hnsw": "hnsw", "faiss-ivf": "ivf"}
LABELS = {"flat": "bi-encoder", "hnsw": "bi-encoder (HNSW)", "ivf": "bi-encoder (IVF)"}


@dataclass(frozen=True)
class AnnSettings:
    """Knobs of the approximate indexes: HNSW's M (links per node, a build setting) and efSearch (candidates
    kept while searching); IVF's nlist (cells; 0 = about the square root of the passage count, a build setting)
    and nprobe (cells searched)."""

    hnsw_m: int = 32
    ef_search: int = 128
    ef_construction: int = 80
    nlist: int = 0
    nprobe: int = 16

    def cells(self, passages: int) -> int:
        """IVF's number of cells for this many passages: nlist, or about √N (at least 39 passages per cell)."""
        return self.nlist or max(1, min(passages // 39, round(math.sqrt(passages))))  # FAISS wants 39 points a cell


def build_faiss(kind: str, vectors: np.ndarray, settings: AnnSettings) -> faiss.Index:
    """A FAISS index of one kind ('flat', 'hnsw', 'ivf') over unit vectors, for inner-product search."""
    dimension = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = settings.ef_construction
    else:
        cells = settings.cells(len(vectors))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, cells, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 256 * cells), replace=False)
        index.train(np.ascontiguousarray(vectors[np.sort(sample)]))  # trained on a sample
    for start in range(0, len(vectors), 65_536):  # from the memory-mapped vectors, a slice at a time
        index.add(np.ascontiguousarray(vectors[start : start + 65_536]))
    return index


def _file_name(kind: str, settings: AnnSettings, passages: int) -> str:
    if kind == "hnsw":
        return f"hnsw-M{settings.hnsw_m}-efc{settings.ef_construction}.faiss"
    if kind == "ivf":
        return f"ivf-nlist{settings.cells(passages)}.faiss"
    return "flat.faiss"


def faiss_index(embeddings: CorpusEmbeddings, kind: str, settings: AnnSettings | None = None) -> faiss.Index:
    """The FAISS index of one kind over the embeddings, loaded from beside them or built and saved there."""
    settings = settings or AnnSettings()
    path = embeddings.folder / _file_name(kind, settings, embeddings.passage_count)
    try:
        index = faiss.read_index(str(path))
        if index.ntotal == embeddings.passage_count:
            return _tuned(index, settings)
    except RuntimeError:
        pass  # absent or damaged: build it again
    index = build_faiss(kind, embeddings.vectors, settings)
    staging = cachedir.staging_folder(path.with_suffix(""))
    try:
        faiss.write_index(index, str(staging / path.name))
        (staging / path.name).replace(path)
    finally:
        cachedir.discard(staging)
    return _tuned(index, settings)


def _tuned(index: faiss.Index, settings: AnnSettings) -> faiss.Index:
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = settings.ef_search
    elif isinstance(index, faiss.IndexIVF):
        index.nprobe = settings.nprobe
    return index


def search_passages(index: faiss.Index, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, passage positions) of the k best passages for each query vector, one search at a time."""
    with inference.LOCK:
        return index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)


class DenseRetriever(FirstStage):
    """The bi-encoder's ranking through one FAISS index over the corpus's passage vectors."""

    bounded = True
    score_name = "cosine"

    def __init__(
        self, embeddings: CorpusEmbeddings, embedder: Embedder, name: str = "faiss", settings: AnnSettings | None = None
    ) -> None:
        self.name, self.kind = name, KINDS[name]
        self.label = LABELS[self.kind]
        self.settings = settings or AnnSettings()
        self.embeddings, self.embedder = embeddings, embedder
        self.corpus, self.passages = embeddings.corpus, embeddings.passages
        self.index = faiss_index(embeddings, self.kind, self.settings)
        search_knob = {"hnsw": f"ef{self.settings.ef_search}", "ivf": f"probe{self.settings.nprobe}"}.get(self.kind, "")
        self.key = f"{name}|{embeddings.key}|{_file_name(self.kind, self.settings, len(self.passages))}|{search_knob}"

    def retrieve(self, query: str, top_n: int) -> Retrieved:
        """The top-N documents by the best cosine of any of their passages."""
        started = time.perf_counter()
        vector = query_vector(self.embedder, query)
        encoded = time.perf_counter()
        hits = self.retrieve_vector(vector, top_n)
        return Retrieved(hits, (encoded - started) * 1000, (time.perf_counter() - encoded) * 1000)

    def retrieve_vector(self, vector: np.ndarray, top_n: int):
        """Documents for an already embedded query; looks deeper while several passages of one document took
        places of the top-N."""
        total = self.index.ntotal
        k = min(total, top_n)
        while True:
            scores, positions = search_passages(self.index, vector, k)
            hits = best_per_document(zip(positions[0], scores[0]), self.passages, top_n)
            if len(hits) >= top_n or k >= total:
                return hits
            k = min(total, k * 2)

    def describe(self) -> dict:
        """The index and its knobs, for captions and reports."""
        return {
            "first_stage": self.name,
            "bi_model": self.embedder.name,
            "bi_backend": self.embedder.backend,
            **({} if self.kind == "flat" else {"ann": vars(self.settings)}),
        }


def ann_recall(approximate: DenseRetriever, exact: DenseRetriever, queries: list[str], n: int = 100) -> float:
    """The share of the flat index's top-n documents that the approximate index also returns, over `queries`."""
    if not queries:
        return float("nan")
    vectors = exact.embedder.encode(queries)
    found = []
    for vector in vectors:
        truth = {hit.doc_id for hit in exact.retrieve_vector(vector[None, :], n)}
        approx = {hit.doc_id for hit in approximate.retrieve_vector(vector[None, :], n)}
        found.append(len(truth & approx) / max(1, len(truth)))
    return float(np.mean(found))


def recall_queries(embeddings: CorpusEmbeddings, count: int = 50) -> list[str]:
    """Queries to measure recall with: the corpus's own queries, else the first words of sampled passages."""
    queries = list(embeddings.corpus.queries.values())[:count]
    if queries:
        return queries
    rng = np.random.default_rng(0)
    picks = rng.choice(len(embeddings.passages), min(count, len(embeddings.passages)), replace=False)
    return [" ".join(embeddings.passages.text(int(p)).split()[:12]) for p in picks]
