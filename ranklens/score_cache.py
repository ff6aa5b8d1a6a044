"""The cross-encoder score cache: a (query, passage) pair scored once is never scored again, in any process.

Keyed by the model's fingerprint (which names its weights and backend), the token budget,
the query and the passage, so any change to one of them scores afresh. Kept in memory (an
LRU of MEMORY_LIMIT pairs) in front of a SQLite file under $RANKLENS_HOME/cache that the app,
the CLI, evaluations and the query-set view share. Safe to use from several threads. A file
that cannot be used (damaged, a read-only home) is gone on without, and said once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ranklens.cache_bounds import Bound, written_now
from ranklens.lru import Lru
from ranklens.settings import data_dir

MEMORY_LIMIT = 200_000
# The file's bound in pairs (about 80 bytes each on disk, its index included: ~160 MB), about 20 000 queries of 100
# candidates; past it the pairs written longest ago go. RANKLENS_SCORE_CACHE_PAIRS sets another.
FILE_LIMIT = 2_000_000
FILE_LIMIT_ENV = "RANKLENS_SCORE_CACHE_PAIRS"
Score = tuple[float, bool]  # (raw logit, whether the model's window cut the pair short)
# Each SQLite cache by its name in `ranklens cache` and the app's cache panel, and its file under $RANKLENS_HOME/cache
CACHE_FILES = {
    "scores": "ce_scores.sqlite",
    "passage-tokens": "passage_tokens.sqlite",
    "query-vectors": "query_vectors.sqlite",
    "explanations": "explanations.sqlite",
}
NAME = "scores"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS scores (key BLOB PRIMARY KEY, logit REAL NOT NULL, "
    "truncated INTEGER NOT NULL, written INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
)


def cache_key(*parts: str) -> bytes:
    """A 20-byte key for a list of strings (each ended by a NUL byte, so that no two lists share a key)."""
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.digest()


def score_key(model: str, budget: int, query: str, passage: str) -> bytes:
    """The cache key of one pair under one model (fingerprint, backend included) and token budget."""
    return cache_key(model, str(budget), query, passage)


def connect_cache(path: Path) -> sqlite3.Connection:
    """A connection to a cache file that several processes read and write at once (WAL, autocommit)."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # what a crash loses is only computed again
    return db


_unusable: dict[Path, str] = {}  # each cache file found unusable in this process, and why


@contextlib.contextmanager
def unless_unusable(path: Path, name: str) -> Iterator[None]:
    """Reads or writes of a cache file, skipped where the file cannot be used (not a database, damaged, a read-only
    home, locked past the timeout): a cache only saves work, so the work goes on without it. Said once per file and
    process on stderr, with the command that makes it anew (`name`: its name in ranklens.caches); the file is left
    as it was."""
    try:
        yield
    except (OSError, sqlite3.Error) as err:
        if path not in _unusable:
            _unusable[path] = str(err)
            print(
                f"warning: the cache file {path} cannot be used ({err}); going on without it. "
                f"`python -m ranklens cache --clear {name}` makes it anew.",
                file=sys.stderr,
            )


def unusable_files() -> dict[Path, str]:
    """The cache files this process went on without, and why (for a page to say so)."""
    return dict(_unusable)


def forget_unusable(path: Path) -> None:
    """After a cache file is cleared (a damaged one removed): use it again, and say so again if it fails."""
    _unusable.pop(path, None)


_tables_made: set[Path] = set()
_tables_lock = threading.Lock()


def cache_file(filename: str) -> Path:
    """$RANKLENS_HOME/cache/FILENAME."""
    return data_dir() / "cache" / filename


def cache_table(path: Path, schema: str, bound: Bound) -> sqlite3.Connection:
    """A connection to the cache file `path`, its tables made by `schema` (CREATE TABLE IF NOT EXISTS ...
    statements) and its bounded table prepared at the first connection of this process that succeeds: a file that
    could not be used (damaged) and was cleared since is made anew at the next one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect_cache(path)
    with _tables_lock:
        if path not in _tables_made:
            db.executescript(schema)
            bound.prepare(db)
            _tables_made.add(path)
    return db


def key_chunks(keys: Sequence[bytes]) -> Iterator[tuple[str, list[bytes]]]:
    """`keys` 500 at a time (SQLite's limit on bound parameters), each chunk with its `key IN (?, ...)` clause."""
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        yield f"key IN ({','.join('?' * len(chunk))})", chunk


def rows_by_key(db: sqlite3.Connection, select: str, keys: Sequence[bytes]) -> Iterator[tuple]:
    """The rows of `select` (a SELECT with no WHERE, from a table keyed by `key`) for `keys`."""
    for clause, chunk in key_chunks(keys):
        yield from db.execute(f"{select} WHERE {clause}", chunk)


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
