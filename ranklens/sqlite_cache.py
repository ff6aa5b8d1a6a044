"""What every SQLite cache under $RANKLENS_HOME/cache shares: the files by name, 20-byte keys, connections that
several processes use at once, bounded tables, and going on without a file that cannot be used.

The score cache, the passages' token ids, the query vectors and the explanations are built on these.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from ranklens.cache_bounds import Bound
from ranklens.settings import data_dir

# Each SQLite cache by its name in `ranklens cache` and the app's cache panel, and its file under $RANKLENS_HOME/cache
CACHE_FILES = {
    "scores": "ce_scores.sqlite",
    "passage-tokens": "passage_tokens.sqlite",
    "query-vectors": "query_vectors.sqlite",
    "explanations": "explanations.sqlite",
}


def cache_key(*parts: str) -> bytes:
    """A 20-byte key for a list of strings (each ended by a NUL byte, so that no two lists share a key)."""
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.digest()


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
