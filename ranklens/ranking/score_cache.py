"""The cross-encoder score cache: a (query, passage) pair scored once is never scored again, in any process.

Keyed by the model's fingerprint (which names its weights and backend), the token budget,
the query and the passage, so any change to one of them scores afresh. Kept in memory (an
LRU of MEMORY_LIMIT pairs) in front of a SQLite file under $RANKLENS_HOME/cache that the app,
the CLI, evaluations and the query-set view share. Safe to use from several threads. A file
that cannot be used (damaged, a read-only home) is gone on without, and said once.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from ranklens.cache_bounds import Bound, written_now
from ranklens.lru import Lru
from ranklens.sqlite_cache import CACHE_FILES, cache_file, cache_key, cache_table, rows_by_key, unless_unusable

MEMORY_LIMIT = 200_000
# The file's bound in pairs (about 80 bytes each on disk, its index included: ~160 MB), about 20 000 queries of 100
# candidates; past it the pairs written longest ago go. RANKLENS_SCORE_CACHE_PAIRS sets another.
FILE_LIMIT = 2_000_000
FILE_LIMIT_ENV = "RANKLENS_SCORE_CACHE_PAIRS"
Score = tuple[float, bool]  # (raw logit, whether the model's window cut the pair short)
NAME = "scores"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS scores (key BLOB PRIMARY KEY, logit REAL NOT NULL, "
    "truncated INTEGER NOT NULL, written INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
)


def score_key(model: str, budget: int, query: str, passage: str) -> bytes:
    """The cache key of one pair under one model (fingerprint, backend included) and token budget."""
    return cache_key(model, str(budget), query, passage)


class ScoreCache:
    """Scores by key, in memory and (when `path` is given) on disk, the file holding at most `file_limit` pairs: past
    it, the pairs written longest ago are removed (ranklens.cache_bounds)."""

    def __init__(
        self, path: Path | None = None, memory_limit: int = MEMORY_LIMIT, file_limit: int = FILE_LIMIT
    ) -> None:
        self.path = path
        self.file_limit = file_limit
        self._memory: Lru[bytes, Score] = Lru(memory_limit)
        self._bound = Bound("scores", file_limit)
        if path is not None:
            with unless_unusable(path, NAME), self._connect():
                pass  # the file and its table, made now

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        return cache_table(self.path, SCHEMA, self._bound)

    def get_many(self, keys: Iterable[bytes]) -> dict[bytes, Score]:
        """The cached scores among `keys` (missing keys are absent from the result)."""
        wanted = list(dict.fromkeys(keys))
        found = self._memory.get_many(wanted)
        rest = [key for key in wanted if key not in found]
        if rest and self.path is not None:
            with unless_unusable(self.path, NAME), self._connect() as db:
                for key, logit, cut in rows_by_key(db, "SELECT key, logit, truncated FROM scores", rest):
                    found[bytes(key)] = (float(logit), bool(cut))
            self._memory.put_many({key: found[key] for key in rest if key in found})
        return found

    def put_many(self, scores: dict[bytes, Score]) -> None:
        """Store scores in memory and on disk."""
        self._memory.put_many(scores)
        if self.path is not None and scores:
            written = written_now()
            with unless_unusable(self.path, NAME), self._connect() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO scores (key, logit, truncated, written) VALUES (?, ?, ?, ?)",
                    [(key, logit, int(cut), written) for key, (logit, cut) in scores.items()],
                )
                self._bound.added(db, len(scores))

    def __len__(self) -> int:
        return len(self._memory)


_shared: dict[Path, ScoreCache] = {}
_shared_lock = threading.Lock()


def shared_score_cache() -> ScoreCache:
    """The process's cache on $RANKLENS_HOME/cache/ce_scores.sqlite (one object per file)."""
    path = cache_file(CACHE_FILES[NAME])
    with _shared_lock:
        if path not in _shared:
            _shared[path] = ScoreCache(path, file_limit=file_limit_from_env())
        return _shared[path]


def file_limit_from_env() -> int:
    """The score file's bound: $RANKLENS_SCORE_CACHE_PAIRS when set, else FILE_LIMIT; a value that is not a whole
    number of at least 1 is refused, naming the variable, before any file is touched."""
    configured = os.environ.get(FILE_LIMIT_ENV, "").strip()
    if not configured:
        return FILE_LIMIT
    try:
        limit = int(configured.replace("_", ""))
    except ValueError:
        limit = 0
    if limit < 1:
        raise ValueError(
            f"{FILE_LIMIT_ENV} must be a whole number of pairs, at least 1 (for example 2000000), not {configured!r}"
        )
    return limit


def forget_in_memory() -> None:
    """Drop the scores this process holds in memory in front of its files: after a file is emptied, what was in it
    is scored afresh here as in a new process."""
    with _shared_lock:
        for cache in _shared.values():
            cache._memory.clear()
