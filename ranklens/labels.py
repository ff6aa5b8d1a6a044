"""Labels: graded relevance judgements in SQLite, committed one by one, from any number of raters.

A judgement is (corpus, query, doc id, grade, rater, time, note), unique per
(corpus, query, doc, rater); judging again replaces the rater's earlier grade. Every call
opens its own connection and commits before it returns (WAL mode, synchronous=FULL), so a
judgement reported saved survives a killed process, and several processes or threads can
write at once. The judged document's text is stored too, so exports need no corpus.

Aggregation over raters (AGGREGATION_RULE): the mean grade when fewer than three raters
judged a pair, else the median; "can't rate" judgements are left out.
"""

from __future__ import annotations

import hashlib
import sqlite3
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import pandas as pd

from ranklens.corpus import Document
from ranklens.settings import data_dir

GRADES = {
    0: ("Poor", "not relevant: does not answer the query"),
    1: ("Fair", "related, but does not answer the query"),
    2: ("Good", "answers the query in part"),
    3: ("Perfect", "answers the query fully"),
}
MAX_GRADE = 3
AGGREGATION_RULE = (
    "mean of the raters' grades when fewer than 3 raters judged a pair, else the median; 'can't rate' left out"
)
DB_NAME = "labels.sqlite"

_SCHEMA = """
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
    PRIMARY KEY (corpus, query_id, doc_id, rater));
"""


class LabelError(ValueError):
    """A judgement or a file of judgements that cannot be stored; the message says why."""


@dataclass(frozen=True)
class Judgement:
    corpus: str
    query_id: str
    query: str
    doc_id: str
    grade: int | None  # None: the rater could not rate it
    rater: str
    note: str = ""
    judged_at: str = ""


def query_id_for(text: str, known: dict[str, str] | None = None) -> str:
    """A query's id: the corpus's own id when its text is one of the corpus's queries, else a text hash."""
    text = text.strip()
    for qid, known_text in (known or {}).items():
        if known_text.strip() == text:
            return qid
    return "q" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def default_project() -> Path:
    return data_dir() / "projects" / "default"


def aggregate(grades: Iterable[int]) -> float | None:
    """One grade for a pair from several raters' grades (AGGREGATION_RULE)."""
    values = list(grades)
    if not values:
        return None
    return statistics.fmean(values) if len(values) < 3 else float(statistics.median(values))


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


class LabelStore:
    """The judgements of one project folder: `<folder>/labels.sqlite`."""

    def __init__(self, project: str | Path) -> None:
        self.path = database_path(project)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self):
        return connect(self.path)

    def judge_many(self, items: Iterable[tuple[Judgement, Document]]) -> int:
        """Store judgements (with the documents they are about) in one transaction; on disk when this returns."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = []
        for judgement, doc in items:
            if judgement.grade is not None and judgement.grade not in GRADES:
                raise LabelError(f"grade must be one of {sorted(GRADES)} or None (can't rate), got {judgement.grade!r}")
            if not judgement.rater.strip():
                raise LabelError("a judgement needs a rater name")
            if not judgement.query.strip():
                raise LabelError("a judgement needs a query")
            if judgement.doc_id != doc.id:
                raise LabelError(f"judgement of {judgement.doc_id!r} given document {doc.id!r}")
            rows.append((judgement, doc))
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for j, doc in rows:
                    db.execute(
                        "INSERT INTO queries VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET text = excluded.text",
                        (j.corpus, j.query_id, j.query.strip()),
                    )
                    db.execute(
                        "INSERT INTO documents VALUES (?, ?, ?, ?) "
                        "ON CONFLICT DO UPDATE SET title = excluded.title, text = excluded.text",
                        (j.corpus, doc.id, doc.title, doc.text),
                    )
                    db.execute(
                        "INSERT INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                        "grade = excluded.grade, note = excluded.note, judged_at = excluded.judged_at",
                        (j.corpus, j.query_id, doc.id, j.rater.strip(), j.grade, j.note, j.judged_at or now),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(rows)

    def judge(
        self, corpus: str, query_id: str, query: str, doc: Document, grade: int | None, rater: str, note: str = ""
    ) -> None:
        """Store one judgement; it is on disk when this returns."""
        self.judge_many([(Judgement(corpus, query_id, query, doc.id, grade, rater, note), doc)])

    def forget(self, corpus: str, query_id: str, doc_id: str, rater: str) -> None:
        with self._connect() as db:
            db.execute(
                "DELETE FROM judgements WHERE corpus = ? AND query_id = ? AND doc_id = ? AND rater = ?",
                (corpus, query_id, doc_id, rater),
            )

    def judgements(
        self, corpus: str | None = None, query_id: str | None = None, rater: str | None = None
    ) -> list[Judgement]:
        sql = (
            "SELECT j.corpus, j.query_id, q.text, j.doc_id, j.grade, j.rater, j.note, j.judged_at "
            "FROM judgements j JOIN queries q ON q.corpus = j.corpus AND q.query_id = j.query_id WHERE 1 = 1"
        )
        params: list[str] = []
        for column, value in (("j.corpus", corpus), ("j.query_id", query_id), ("j.rater", rater)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY j.corpus, j.query_id, j.doc_id, j.rater", params).fetchall()
        return [Judgement(*row) for row in rows]

    def documents(self, corpus: str) -> dict[str, Document]:
        with self._connect() as db:
            rows = db.execute("SELECT doc_id, title, text FROM documents WHERE corpus = ?", (corpus,)).fetchall()
        return {doc_id: Document(id=doc_id, title=title, text=text) for doc_id, title, text in rows}

    def queries(self, corpus: str) -> dict[str, str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT query_id, text FROM queries WHERE corpus = ? ORDER BY query_id", (corpus,)
            ).fetchall()
        return dict(rows)

    def corpora(self) -> list[str]:
        with self._connect() as db:
            return [row[0] for row in db.execute("SELECT DISTINCT corpus FROM judgements ORDER BY corpus")]

    def aggregated(self, corpus: str) -> dict[str, dict[str, float]]:
        """query id -> doc id -> aggregated grade (a float, 0..3), over the raters who could rate."""
        grades: dict[tuple[str, str], list[int]] = defaultdict(list)
        for j in self.judgements(corpus):
            if j.grade is not None:
                grades[(j.query_id, j.doc_id)].append(j.grade)
        result: dict[str, dict[str, float]] = defaultdict(dict)
        for (query_id, doc_id), values in grades.items():
            result[query_id][doc_id] = aggregate(values)  # type: ignore[assignment]
        return dict(result)

    def qrels(self, corpus: str) -> dict[str, dict[str, int]]:
        """Aggregated grades rounded half up to whole grades, for TREC/BEIR qrels and for ranx."""
        return {q: {d: int(g + 0.5) for d, g in docs.items()} for q, docs in self.aggregated(corpus).items()}

    def integrity_check(self) -> str:
        with self._connect() as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0]


def agreement(judgements: Iterable[Judgement]) -> pd.DataFrame:
    """For each pair of raters: how many pairs both graded, exact agreement, and quadratic-weighted Cohen's kappa."""
    from sklearn.metrics import cohen_kappa_score

    by_rater: dict[str, dict[tuple[str, str, str], int]] = defaultdict(dict)
    for j in judgements:
        if j.grade is not None:
            by_rater[j.rater][(j.corpus, j.query_id, j.doc_id)] = j.grade
    rows = []
    for first, second in combinations(sorted(by_rater), 2):
        shared = sorted(set(by_rater[first]) & set(by_rater[second]))
        if not shared:
            continue
        a = [by_rater[first][k] for k in shared]
        b = [by_rater[second][k] for k in shared]
        exact = sum(x == y for x, y in zip(a, b)) / len(shared)
        kappa = (
            cohen_kappa_score(a, b, weights="quadratic", labels=sorted(GRADES))
            if len(set(a) | set(b)) > 1
            else float("nan")
        )
        rows.append(
            {
                "rater A": first,
                "rater B": second,
                "pairs both judged": len(shared),
                "exact agreement": round(exact, 3),
                "weighted kappa": round(float(kappa), 3),
            }
        )
    return pd.DataFrame(rows, columns=["rater A", "rater B", "pairs both judged", "exact agreement", "weighted kappa"])


def pool(rankings: Iterable[Iterable[str]], seed: str) -> list[str]:
    """The union of several rankings' documents in an order that hides every ranker's order.

    Shuffled with a seed (the query), so a rater who comes back sees the same order.
    """
    import random

    unique = sorted({doc_id for ranking in rankings for doc_id in ranking})
    random.Random(seed).shuffle(unique)
    return unique
