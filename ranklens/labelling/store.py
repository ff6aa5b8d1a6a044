"""The project database: one SQLite file per project, its schema, its migrations, and how to connect.

Every call opens its own connection (WAL mode, synchronous=FULL), so a write reported done
survives a killed process and several processes or threads can write at once. The schema
version is SQLite's `user_version`; a database of an older version is copied aside
(`labels.sqlite.v0-backup`) and migrated in one transaction the first time it is opened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

SCHEMA_VERSION = 1
DB_NAME = "labels.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS corpora (
    corpus TEXT PRIMARY KEY, name TEXT NOT NULL, documents INTEGER,
    legacy INTEGER NOT NULL DEFAULT 0,  -- 1: keyed by a name, from before corpora had identities
    first_seen TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS queries (
    corpus TEXT NOT NULL, query_id TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (corpus, query_id));
CREATE TABLE IF NOT EXISTS documents (
    corpus TEXT NOT NULL, doc_id TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (corpus, doc_id));
CREATE TABLE IF NOT EXISTS judgements (
    corpus TEXT NOT NULL, query_id TEXT NOT NULL, doc_id TEXT NOT NULL, rater TEXT NOT NULL,
    grade INTEGER CHECK (grade IS NULL OR grade BETWEEN 0 AND 3),  -- NULL: can't rate
    note TEXT NOT NULL DEFAULT '', judged_at TEXT NOT NULL,
    later INTEGER NOT NULL DEFAULT 0,  -- 1: the rater marked it "judge later"
    PRIMARY KEY (corpus, query_id, doc_id, rater));
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, corpus TEXT NOT NULL,
    created_at TEXT NOT NULL, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_rankings (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, query_id TEXT NOT NULL,
    doc_id TEXT NOT NULL, rank INTEGER NOT NULL, score REAL NOT NULL,
    PRIMARY KEY (run_id, query_id, doc_id));
"""


def now() -> str:
    """The time stamps the database keeps: UTC, to the second, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def database_path(project: str | Path) -> Path:
    """A project folder's database (a path ending in .sqlite or .db is the database itself)."""
    folder = Path(project).expanduser()
    path = folder if folder.suffix in (".sqlite", ".db") else folder / DB_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection of its own for each call: never shared across threads, closed when done."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=30000")
        yield db
    finally:
        db.close()


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection inside BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
    with connect(path) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _migrate_v0(db: sqlite3.Connection) -> None:
    """Before version 1, rows were keyed by the corpus's name; those names stay, marked legacy, until a
    corpus whose documents match claims them (ranklens.labelling.labels.LabelStore.adopt_legacy)."""
    if "later" not in _columns(db, "judgements"):
        db.execute("ALTER TABLE judgements ADD COLUMN later INTEGER NOT NULL DEFAULT 0")
    names = {
        row[0]
        for table in ("judgements", "documents", "queries", "runs")
        for row in db.execute(f"SELECT DISTINCT corpus FROM {table}")
    }
    db.executemany(
        "INSERT OR IGNORE INTO corpora (corpus, name, legacy, first_seen) VALUES (?, ?, 1, ?)",
        [(name, name, now()) for name in sorted(names)],
    )


def open_database(path: Path) -> None:
    """Create the schema, or bring an older database up to SCHEMA_VERSION (after a backup copy)."""
    with connect(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        had_tables = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'judgements'").fetchone()[0]
        if had_tables and version < SCHEMA_VERSION:
            backup = path.with_name(f"{path.name}.v{version}-backup")
            if not backup.exists():
                with sqlite3.connect(backup) as copy:
                    db.backup(copy)
    with transaction(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated meanwhile
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"{path} was written by a newer RankLens (schema {version})")
        if version < SCHEMA_VERSION:
            for statement in SCHEMA.split(";"):  # executescript would commit the transaction first
                if statement.strip():
                    db.execute(statement)
            if had_tables and version == 0:
                _migrate_v0(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
