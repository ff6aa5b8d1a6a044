"""Embeddings: a corpus's passages and their bi-encoder vectors, cached on disk.

The cache key is the corpus content, the model's weights (and backend) and the chunk
settings, so a relaunch on the same corpus loads from disk instead of re-embedding, and any
change to one of them embeds afresh. The vectors are read memory-mapped; every FAISS index
(`ranklens.index.dense`) and Milvus collection is built from them.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ranklens import cachedir
from ranklens.corpus.chunking import ChunkSettings, chunk_documents
from ranklens.corpus.corpus import Corpus
from ranklens.corpus.passages import PassageTable
from ranklens.models.embedder import Embedder
from ranklens.progress import OnProgress
from ranklens.settings import data_dir

FORMAT_VERSION = 2
EMBED_BATCH = 128  # passages per progress step: small enough for a smooth bar, large enough to stay fast


@dataclass
class CorpusEmbeddings:
    """A corpus cut into passages and their bi-encoder vectors, under the cache key they were stored with."""

    corpus: Corpus
    passages: PassageTable
    vectors: np.ndarray  # float32, one unit-length row per passage (memory-mapped when loaded from disk)
    model_name: str
    settings: ChunkSettings
    key: str
    folder: Path  # where it is cached; FAISS indexes built from it are cached beside
    from_cache: bool
    seconds: float

    @property
    def doc_count(self) -> int:
        """Documents in the corpus."""
        return len(self.corpus)

    @property
    def passage_count(self) -> int:
        """Passages embedded."""
        return len(self.passages)


def _key(parts: list[str]) -> str:
    return hashlib.sha256("\n".join([str(FORMAT_VERSION), *parts]).encode("utf-8")).hexdigest()[:24]


def cache_key(corpus: Corpus, embedder: Embedder, settings: ChunkSettings) -> str:
    """The embeddings' cache folder name: corpus content, model weights and backend, chunk settings."""
    return _key([corpus.content_hash(), embedder.fingerprint, json.dumps(asdict(settings), sort_keys=True)])


def chunk_settings(embedder: Embedder) -> ChunkSettings:
    """Passages as long as the bi-encoder's window."""
    return ChunkSettings(max_tokens=embedder.max_tokens)


def corpus_passages(corpus: Corpus, embedder: Embedder, settings: ChunkSettings | None = None) -> PassageTable:
    """The corpus's passages alone (the bi-encoder's tokenizer, no embedding), cached on disk: what a lexical
    first stage needs for the cross-encoder to read."""
    settings = settings or chunk_settings(embedder)
    parts = [corpus.content_hash(), embedder.name, json.dumps(asdict(settings), sort_keys=True), "passages"]
    path = data_dir() / "passages" / f"{_key(parts)}.npz"
    try:
        return PassageTable.load(path, corpus.documents)
    except (OSError, ValueError, KeyError):
        passages = chunk_documents(corpus.documents, embedder.tokenizer, settings)
    staging = cachedir.staging_folder(path.with_suffix(""))
    try:
        passages.save(staging / "passages.npz")
        (staging / "passages.npz").replace(path)
    finally:
        cachedir.discard(staging)
    return passages


def embed_passages(passages: PassageTable, embedder: Embedder, progress: OnProgress | None = None) -> np.ndarray:
    """Unit-length vectors of every passage, EMBED_BATCH at a time, reporting progress after each batch."""
    vectors = np.zeros((len(passages), embedder.dimension), dtype=np.float32)
    for start in range(0, len(passages), EMBED_BATCH):
        stop = min(start + EMBED_BATCH, len(passages))
        vectors[start:stop] = embedder.encode(passages.texts(range(start, stop)))
        if progress:
            progress(stop, len(passages))
    return vectors


def _load(folder: Path, corpus: Corpus) -> tuple[PassageTable, np.ndarray] | None:
    try:
        passages = PassageTable.load(folder / "passages.npz", corpus.documents)
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    except (OSError, ValueError, KeyError):
        return None
    return (passages, vectors) if vectors.shape[0] == len(passages) else None


def _save(folder: Path, passages: PassageTable, vectors: np.ndarray) -> None:
    """Written aside and swapped in whole, so a crash never leaves half a cache and a damaged one is replaced."""
    staging = cachedir.staging_folder(folder)
    try:
        passages.save(staging / "passages.npz")
        np.save(staging / "vectors.npy", vectors)
        cachedir.install(staging, folder)
    except BaseException:
        cachedir.discard(staging)
        raise


def embed_corpus(
    corpus: Corpus,
    embedder: Embedder,
    settings: ChunkSettings | None = None,
    cache_dir: Path | None = None,
    progress: OnProgress | None = None,
) -> CorpusEmbeddings:
    """The corpus's passages and vectors: from the disk cache when present, else embedded (reporting progress)."""
    started = time.perf_counter()
    settings = settings or chunk_settings(embedder)
    key = cache_key(corpus, embedder, settings)
    folder = (cache_dir or data_dir() / "indexes") / key
    cached = _load(folder, corpus) if folder.is_dir() else None
    if cached is None:
        passages = chunk_documents(corpus.documents, embedder.tokenizer, settings)
        _save(folder, passages, embed_passages(passages, embedder, progress))
        cached = _load(folder, corpus)
        from_cache = False
    else:
        from_cache = True
        if progress:
            progress(len(cached[0]), len(cached[0]))
    passages, vectors = cached
    seconds = time.perf_counter() - started
    return CorpusEmbeddings(corpus, passages, vectors, embedder.name, settings, key, folder, from_cache, seconds)
