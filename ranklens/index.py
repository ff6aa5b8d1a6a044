"""Index: embed passages with the bi-encoder into a FAISS inner-product index, cached on disk.

The cache key is the corpus content, the model's weights and the chunk settings, so a
relaunch on the same corpus loads from disk instead of re-embedding, and any change to
one of the three builds afresh.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from ranklens import cachedir
from ranklens.chunking import ChunkSettings, Passage, chunk_documents
from ranklens.corpus import Corpus
from ranklens.models.embedder import Embedder
from ranklens.progress import OnProgress
from ranklens.settings import data_dir

FORMAT_VERSION = 1
EMBED_BATCH = 128  # passages per progress step: small enough for a smooth bar, large enough to stay fast


@dataclass
class CorpusIndex:
    corpus: Corpus
    passages: list[Passage]
    faiss_index: faiss.Index
    model_name: str
    settings: ChunkSettings
    key: str
    from_cache: bool
    seconds: float

    @property
    def doc_count(self) -> int:
        return len(self.corpus)

    @property
    def passage_count(self) -> int:
        return len(self.passages)


def cache_key(corpus: Corpus, embedder: Embedder, settings: ChunkSettings) -> str:
    parts = [
        str(FORMAT_VERSION),
        corpus.content_hash(),
        embedder.fingerprint,
        json.dumps(asdict(settings), sort_keys=True),
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:24]


def _embed(passages: list[Passage], embedder: Embedder, progress: OnProgress | None) -> np.ndarray:
    vectors = np.zeros((len(passages), embedder.dimension), dtype=np.float32)
    for start in range(0, len(passages), EMBED_BATCH):
        batch = passages[start : start + EMBED_BATCH]
        vectors[start : start + len(batch)] = embedder.encode([p.text for p in batch])
        if progress:
            progress(start + len(batch), len(passages))
    return vectors


def _save(folder: Path, faiss_index: faiss.Index, passages: list[Passage]) -> None:
    """Written aside and swapped in whole, so a crash never leaves half an index and a damaged one is replaced."""
    staging = cachedir.staging_folder(folder)
    try:
        faiss.write_index(faiss_index, str(staging / "index.faiss"))
        rows = [[p.doc_id, p.number, p.of, p.text] for p in passages]
        (staging / "passages.json").write_text(json.dumps(rows), encoding="utf-8")
        cachedir.install(staging, folder)
    except BaseException:
        cachedir.discard(staging)
        raise


def _load(folder: Path) -> tuple[faiss.Index, list[Passage]] | None:
    try:
        faiss_index = faiss.read_index(str(folder / "index.faiss"))
        rows = json.loads((folder / "passages.json").read_text(encoding="utf-8"))
    except (OSError, RuntimeError, ValueError):
        return None
    passages = [Passage(doc_id=d, number=n, of=o, text=t) for d, n, o, t in rows]
    return (faiss_index, passages) if faiss_index.ntotal == len(passages) else None


def build_index(
    corpus: Corpus,
    embedder: Embedder,
    settings: ChunkSettings | None = None,
    cache_dir: Path | None = None,
    progress: OnProgress | None = None,
) -> CorpusIndex:
    """The corpus's index: from the disk cache when present, else embedded (reporting progress) and cached."""
    started = time.perf_counter()
    settings = settings or ChunkSettings(max_tokens=embedder.max_tokens)
    key = cache_key(corpus, embedder, settings)
    folder = (cache_dir or data_dir() / "indexes") / key
    cached = _load(folder) if folder.is_dir() else None
    if cached is not None:
        faiss_index, passages = cached
        if progress:
            progress(len(passages), len(passages))
        return CorpusIndex(
            corpus, passages, faiss_index, embedder.name, settings, key, True, time.perf_counter() - started
        )
    passages = chunk_documents(corpus.documents, embedder.tokenizer, settings)
    vectors = _embed(passages, embedder, progress)
    faiss_index = faiss.IndexFlatIP(vectors.shape[1])
    faiss_index.add(vectors)
    _save(folder, faiss_index, passages)
    return CorpusIndex(
        corpus, passages, faiss_index, embedder.name, settings, key, False, time.perf_counter() - started
    )
