"""Saved runs: a ranker's ranking for every evaluated query, with every knob that produced it.

Kept in the project's database beside the labels, so that runs made today can be compared
with runs made last week against the same (or newer) judgements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ranklens.labelling.store import connect, database_path, now, open_database, transaction


@dataclass(frozen=True)
class SavedRun:
    """An evaluation run kept in the project, with the settings it ran with."""

    run_id: int
    name: str
    corpus: str
    created_at: str
    settings: dict

    @property
    def label(self) -> str:
        """How a picker shows it."""
        return f"#{self.run_id} {self.name}"


class RunStore:
    """The saved runs of one project, in its database (`corpus` is the corpus's key)."""

    def __init__(self, project: str | Path) -> None:
        self.path = database_path(project)
        open_database(self.path)

    def save(self, name: str, corpus: str, settings: dict, run: dict[str, dict[str, float]]) -> int:
        """Store a run (query id -> doc id -> score) in one transaction; returns its id."""
        if not name.strip():
            raise ValueError("a saved run needs a name")
        rankings = [
            (qid, doc_id, rank, score)
            for qid, docs in run.items()
            for rank, (doc_id, score) in enumerate(sorted(docs.items(), key=lambda item: -item[1]), start=1)
        ]
        with transaction(self.path) as db:
            cursor = db.execute(
                "INSERT INTO runs (name, corpus, created_at, settings) VALUES (?, ?, ?, ?)",
                (name.strip(), corpus, now(), json.dumps(settings, sort_keys=True)),
            )
            run_id = int(cursor.lastrowid)
            db.executemany("INSERT INTO run_rankings VALUES (?, ?, ?, ?, ?)", [(run_id, *row) for row in rankings])
        return run_id

    def list(self, corpus: str | None = None) -> list[SavedRun]:
        """The saved runs (of one corpus key, or all), oldest first."""
        sql = "SELECT run_id, name, corpus, created_at, settings FROM runs"
        params: tuple = ()
        if corpus is not None:
            sql += " WHERE corpus = ?"
            params = (corpus,)
        with connect(self.path) as db:
            rows = db.execute(sql + " ORDER BY run_id", params).fetchall()
        return [SavedRun(run_id, name, c, created, json.loads(settings)) for run_id, name, c, created, settings in rows]

    def load(self, run_id: int) -> dict[str, dict[str, float]]:
        """A saved run as query id -> doc id -> score, best first per query."""
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
        """Remove a saved run and its rankings."""
        with connect(self.path) as db:
            db.execute("DELETE FROM run_rankings WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
