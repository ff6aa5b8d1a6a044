"""Bounds on the SQLite caches under $RANKLENS_HOME/cache: a table keeps at most so many rows, and past that the rows
written longest ago go, so that no cache grows without end however long RankLens is used.

A bounded table has a `written` column (nanoseconds since the epoch, indexed), set at every write; a table made before
the bound gets the column, its rows counting as the oldest. Counting a table's rows reads a whole index, so a process
counts them at its first write and then only once it has written a tenth of the bound since it last counted; a trim
leaves KEEP_AFTER_TRIM of the bound, so that the next one is many writes away. Rows other processes wrote count too:
they are in the file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable

KEEP_AFTER_TRIM = 0.9


def written_now() -> int:
    """The value of a row's `written` column when it is written now."""
    return time.time_ns()


class Bound:
    """At most `limit` rows in one table keyed by `key`; `on_trim(db)` runs after rows were removed (for what was
    recorded about them elsewhere)."""

    def __init__(self, table: str, limit: int, on_trim: Callable[[sqlite3.Connection], None] | None = None) -> None:
        self.table = table
        self.limit = limit
        self.on_trim = on_trim
        self._written = limit  # count the rows at the first write
        self._lock = threading.Lock()

    def prepare(self, db: sqlite3.Connection) -> None:
        """Give the table its `written` column where a file made before the bound lacks it, and its index."""
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({self.table})")}
        if "written" not in columns:
            with contextlib.suppress(sqlite3.OperationalError):  # another process added it meanwhile
                db.execute(f"ALTER TABLE {self.table} ADD COLUMN written INTEGER NOT NULL DEFAULT 0")
        db.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_by_age ON {self.table} (written)")

    def added(self, db: sqlite3.Connection, rows: int) -> int:
        """After `rows` rows were written through `db`: the table trimmed where it has passed its bound; how many rows
        were removed."""
        with self._lock:
            self._written += rows
            if self._written < max(self.limit // 10, 1):
                return 0
            self._written = 0
            count = db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]
            if count <= self.limit:
                return 0
            drop = count - int(self.limit * KEEP_AFTER_TRIM)
            db.execute(
                f"DELETE FROM {self.table} WHERE key IN (SELECT key FROM {self.table} ORDER BY written LIMIT ?)",
                (drop,),
            )
            if self.on_trim is not None:
                self.on_trim(db)
            return drop
