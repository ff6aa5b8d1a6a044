"""Query embeddings kept on disk: a query embedded once by a bi-encoder is not embedded again, in any process.

Keyed by the bi-encoder's fingerprint (weights and backend) and the query's text, in
$RANKLENS_HOME/cache/query_vectors.sqlite beside the score cache. With both, a repeated query
needs no model at all: a new process answers it from the index and the two caches without
loading the weights (ranklens.models.remembered). About 1.5 KB a query for a 384-dimension model; the file keeps
the FILE_LIMIT queries embedded last (ranklens.cache_bounds).
"""

from __future__ import annotations

import numpy as np

from ranklens.cache_bounds import Bound, written_now
from ranklens.models.embedder import Embedder
from ranklens.sqlite_cache import CACHE_FILES, cache_file, cache_key, cache_table, unless_unusable

NAME = "query-vectors"
FILE = CACHE_FILES[NAME]
FILE_LIMIT = 100_000  # queries: about 150 MB at 384 dimensions, as much as the score file's bound
BOUND = Bound("vectors", FILE_LIMIT)


def _connect():
    return cache_table(
        cache_file(FILE),
        "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL, "
        "written INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
        BOUND,
    )


def _cached(embedder: Embedder, query: str) -> np.ndarray | None:
    """The query's embedding by this bi-encoder as a (1, dimension) float32 row, where the cache holds it."""
    row = None
    with unless_unusable(cache_file(FILE), NAME), _connect() as db:
        row = db.execute(
            "SELECT vector FROM vectors WHERE key = ?", (cache_key(embedder.fingerprint, query),)
        ).fetchone()
    if row is None:
        return None
    vector = np.frombuffer(row[0], dtype=np.float32)
    return vector.reshape(1, -1).copy() if vector.size == embedder.dimension else None


def is_cached(embedder: Embedder, query: str) -> bool:
    """Whether `query_vector` would find the query's embedding in the cache (and so need no model)."""
    return _cached(embedder, query) is not None


def query_vector(embedder: Embedder, query: str) -> np.ndarray:
    """The query's unit-length embedding as a (1, dimension) float32 row: from the cache, else embedded and kept."""
    cached = _cached(embedder, query)
    if cached is not None:
        return cached
    vector = embedder.encode([query])
    with unless_unusable(cache_file(FILE), NAME), _connect() as db:
        db.execute(
            "INSERT OR REPLACE INTO vectors (key, vector, written) VALUES (?, ?, ?)",
            (cache_key(embedder.fingerprint, query), vector.astype(np.float32).tobytes(), written_now()),
        )
        BOUND.added(db, 1)
    return vector
