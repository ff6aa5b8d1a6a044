"""Saved runs: a ranker's ranking for every evaluated query, with every knob that produced it.

Kept in the project's database beside the labels, so that runs made today can be compared
with runs made last week against the same (or newer) judgements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ranklens.labels import connect, database_path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, corpus TEXT NOT NULL,
    created_at TEXT NOT NULL, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_rankings (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, query_id TEXT NOT NULL,
    doc_id TEXT NOT NULL, rank INTEGER NOT NULL, score REAL NOT NULL,
    PRIMARY KEY (run_id, query_id, doc_id));
"""


@dataclass(frozen=True)
class SavedRun:
    run_id: int
    name: str
    corpus: str
    created_at: str
    settings: dict

    @property
    def label(self) -> str:
        return f"#{self.run_id} {self.name}"


class RunStore:
    def __init__(self, project: str | Path) -> None:
        self.path = database_path(project)
        with connect(self.path) as db:
            db.executescript(_SCHEMA)

    def save(self, name: str, corpus: str, settings: dict, run: dict[str, dict[str, float]]) -> int:
        """Store a run (query id -> doc id -> score) in one transaction; returns its id."""
        if not name.strip():
            raise ValueError("a saved run needs a name")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with connect(self.path) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                cursor = db.execute(
                    "INSERT INTO runs (name, corpus, created_at, settings) VALUES (?, ?, ?, ?)",
                    (name.strip(), corpus, now, json.dumps(settings, sort_keys=True)),
                )
                run_id = int(cursor.lastrowid)
                db.executemany(
                    "INSERT INTO run_rankings VALUES (?, ?, ?, ?, ?)",
                    [
                        (run_id, qid, doc_id, rank, score)
                        for qid, docs in run.items()
                        for rank, (doc_id, score) in enumerate(sorted(docs.items(), key=lambda item: -item[1]), start=1)
                    ],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return run_id

    def list(self, corpus: str | None = None) -> list[SavedRun]:
        sql = "SELECT run_id, name, corpus, created_at, settings FROM runs"
        params: tuple = ()
        if corpus is not None:
            sql += " WHERE corpus = ?"
            params = (corpus,)
        with connect(self.path) as db:
            rows = db.execute(sql + " ORDER BY run_id", params).fetchall()
        return [SavedRun(run_id, name, c, created, json.loads(settings)) for run_id, name, c, created, settings in rows]

    def load(self, run_id: int) -> dict[str, dict[str, float]]:
        with connect(self.path) as db:
            rows = db.execute(
                "SELECT query_id, doc_id, score FROM run_rankings WHERE run_id = ? ORDER BY query_id, rank", (run_id,)
            ).fetchall()
        if not rows:
            raise KeyError(f"no saved run #{run_id}")
        run: dict[str, dict[str, float]] = {}
        for qid, doc_id, score in rows:
            run.setdefault(qid, {})[doc_id] = score
        return run

    def delete(self, run_id: int) -> None:
        with connect(self.path) as db:
            db.execute("DELETE FROM run_rankings WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
