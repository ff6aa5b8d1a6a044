"""Labels: graded relevance judgements from any number of raters, kept in the project database.

A judgement is (corpus, query, doc id, grade, rater, time, note, judge-later mark), unique per
(corpus, query, doc, rater); judging again replaces the rater's earlier grade. `corpus` is the
corpus's identity (`Corpus.key`, from its content), never its name, so two corpora never share
labels. The judged document's text is stored too, so exports need no corpus.

Aggregation over raters (AGGREGATION_RULE): the mean grade when fewer than three raters
judged a pair, else the median; "can't rate" judgements are left out.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ranklens.corpus.corpus import Corpus, Document
from ranklens.labelling.projects import DEFAULT_PROJECT, project_folder
from ranklens.labelling.store import connect, database_path, now, open_database, transaction

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


class LabelError(ValueError):
    """A judgement or a file of judgements that cannot be stored; the message says why."""


@dataclass(frozen=True)
class Judgement:
    """One rater's judgement of one (query, document) pair, with the text judged."""

    corpus: str  # the corpus's key (Corpus.key)
    query_id: str
    query: str
    doc_id: str
    grade: int | None  # None: the rater could not rate it
    rater: str
    note: str = ""
    judged_at: str = ""
    later: bool = False  # the rater marked it "judge later"


@dataclass(frozen=True)
class LegacyLabels:
    """Judgements from before corpora had identities, keyed by a corpus name, that a loaded corpus could claim."""

    name: str
    judgements: int
    documents: int
    matching: int  # of those documents, how many the loaded corpus has with the same title and text

    @property
    def claimable(self) -> bool:
        """Whether every document judged under the old name matches this corpus."""
        return self.documents > 0 and self.matching == self.documents


def default_project() -> Path:
    """The folder of the default project."""
    return project_folder(DEFAULT_PROJECT)


def aggregate(grades: Iterable[int]) -> float | None:
    """One grade for a pair from several raters' grades (AGGREGATION_RULE)."""
    values = list(grades)
    if not values:
        return None
    return statistics.fmean(values) if len(values) < 3 else float(statistics.median(values))


def _check(judgement: Judgement, doc: Document) -> None:
    if judgement.grade is not None and judgement.grade not in GRADES:
        raise LabelError(f"grade must be one of {sorted(GRADES)} or None (can't rate), got {judgement.grade!r}")
    if not judgement.rater.strip():
        raise LabelError("a judgement needs a rater name")
    if not judgement.query.strip():
        raise LabelError("a judgement needs a query")
    if judgement.doc_id != doc.id:
        raise LabelError(f"judgement of {judgement.doc_id!r} given document {doc.id!r}")


class LabelStore:
    """The judgements of one project folder: `<folder>/labels.sqlite`."""

    def __init__(self, project: str | Path) -> None:
        self.path = database_path(project)
        open_database(self.path)

    def register(self, corpus: Corpus) -> None:
        """Remember a corpus's name and size under its key, so exports and pickers can show names."""
        with connect(self.path) as db:
            db.execute(
                "INSERT INTO corpora (corpus, name, documents, legacy, first_seen) VALUES (?, ?, ?, 0, ?) "
                "ON CONFLICT DO UPDATE SET name = excluded.name, documents = excluded.documents",
                (corpus.key, corpus.name, len(corpus), now()),
            )

    def judge_many(self, items: Iterable[tuple[Judgement, Document]]) -> int:
        """Store judgements (with the documents they are about) in one transaction; on disk when this returns.

        Judging a pair again with the same grade, note and mark changes nothing, not even the time.
        """
        stamp = now()
        rows = list(items)
        for judgement, doc in rows:
            _check(judgement, doc)
        with transaction(self.path) as db:
            for j, doc in rows:
                db.execute(
                    "INSERT INTO queries VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET text = excluded.text",
                    (j.corpus, j.query_id, j.query.strip()),
                )
                # a corpus key names fixed content, so a stored text is never overwritten
                db.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (j.corpus, doc.id, doc.title, doc.text),
                )
                db.execute(
                    "INSERT INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                    "grade = excluded.grade, note = excluded.note, judged_at = excluded.judged_at, "
                    "later = excluded.later WHERE grade IS NOT excluded.grade OR note IS NOT excluded.note "
                    "OR later IS NOT excluded.later",
                    (
                        j.corpus,
                        j.query_id,
                        doc.id,
                        j.rater.strip(),
                        j.grade,
                        j.note,
                        j.judged_at or stamp,
                        int(j.later),
                    ),
                )
        return len(rows)

    def judge(
        self,
        corpus: str,
        query_id: str,
        query: str,
        doc: Document,
        grade: int | None,
        rater: str,
        note: str = "",
        later: bool = False,
    ) -> None:
        """Store one judgement; it is on disk when this returns."""
        self.judge_many([(Judgement(corpus, query_id, query, doc.id, grade, rater, note, later=later), doc)])

    def forget(self, corpus: str, query_id: str, doc_id: str, rater: str) -> None:
        """Delete one rater's judgement of one pair."""
        with connect(self.path) as db:
            db.execute(
                "DELETE FROM judgements WHERE corpus = ? AND query_id = ? AND doc_id = ? AND rater = ?",
                (corpus, query_id, doc_id, rater),
            )

    def judgements(
        self, corpus: str | None = None, query_id: str | None = None, rater: str | None = None
    ) -> list[Judgement]:
        """Every judgement matching the given corpus key, query id and rater (None: any)."""
        sql = (
            "SELECT j.corpus, j.query_id, q.text, j.doc_id, j.grade, j.rater, j.note, j.judged_at, j.later "
            "FROM judgements j JOIN queries q ON q.corpus = j.corpus AND q.query_id = j.query_id WHERE 1 = 1"
        )
        params: list[str] = []
        for column, value in (("j.corpus", corpus), ("j.query_id", query_id), ("j.rater", rater)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        with connect(self.path) as db:
            rows = db.execute(sql + " ORDER BY j.corpus, j.query_id, j.doc_id, j.rater", params).fetchall()
        return [Judgement(*row[:8], later=bool(row[8])) for row in rows]

    def documents(self, corpus: str) -> dict[str, Document]:
        """The judged documents' stored texts, by id."""
        with connect(self.path) as db:
            rows = db.execute("SELECT doc_id, title, text FROM documents WHERE corpus = ?", (corpus,)).fetchall()
        return {doc_id: Document(id=doc_id, title=title, text=text) for doc_id, title, text in rows}

    def queries(self, corpus: str) -> dict[str, str]:
        """The judged queries' texts, by id."""
        with connect(self.path) as db:
            rows = db.execute(
                "SELECT query_id, text FROM queries WHERE corpus = ? ORDER BY query_id", (corpus,)
            ).fetchall()
        return dict(rows)

    def corpora(self) -> dict[str, str]:
        """Corpus key -> name, for every corpus with judgements (legacy names map to themselves)."""
        with connect(self.path) as db:
            rows = db.execute(
                "SELECT DISTINCT j.corpus, coalesce(c.name, j.corpus) FROM judgements j "
                "LEFT JOIN corpora c ON c.corpus = j.corpus ORDER BY 2, 1"
            ).fetchall()
        return dict(rows)

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
        """SQLite's own integrity check of the database: 'ok' when sound."""
        with connect(self.path) as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0]

    def legacy_labels(self, corpus: Corpus) -> list[LegacyLabels]:
        """Name-keyed judgements from before corpora had identities, and how many of their documents this
        corpus has with the very same title and text."""
        with connect(self.path) as db:
            names = [row[0] for row in db.execute("SELECT corpus FROM corpora WHERE legacy = 1 ORDER BY corpus")]
            found = []
            for name in names:
                count = db.execute("SELECT count(*) FROM judgements WHERE corpus = ?", (name,)).fetchone()[0]
                docs = db.execute("SELECT doc_id, title, text FROM documents WHERE corpus = ?", (name,)).fetchall()
                matching = sum(
                    doc_id in corpus and (corpus.get(doc_id).title, corpus.get(doc_id).text) == (title, text)
                    for doc_id, title, text in docs
                )
                if count:
                    found.append(LegacyLabels(name, count, len(docs), matching))
        return found

    def adopt_legacy(self, corpus: Corpus, name: str) -> int:
        """Re-key the legacy judgements stored under `name` to this corpus's key, in one transaction; only when
        every document they judge is in this corpus with the same text. Returns how many were adopted."""
        legacy = next((found for found in self.legacy_labels(corpus) if found.name == name), None)
        if legacy is None or not legacy.claimable:
            raise LabelError(
                f"the judgements stored as {name!r} judge documents this corpus does not have "
                "(or has with other text): they cannot be moved to it"
            )
        self.register(corpus)
        with transaction(self.path) as db:
            for table in ("queries", "documents", "judgements"):  # rows made under the new key since stay as they are
                db.execute(
                    f"INSERT OR IGNORE INTO {table} SELECT ?, {_after_corpus(db, table)} FROM {table} WHERE corpus = ?",
                    (corpus.key, name),
                )
                db.execute(f"DELETE FROM {table} WHERE corpus = ?", (name,))
            db.execute("UPDATE runs SET corpus = ? WHERE corpus = ?", (corpus.key, name))
            db.execute("DELETE FROM corpora WHERE corpus = ?", (name,))
        return legacy.judgements

    def adopt_same_name(self, corpus: Corpus) -> int:
        """Adopt the legacy judgements stored under this corpus's own name (built-in corpora, BEIR folders),
        when their documents all match; the migration's automatic step. Returns how many were adopted."""
        return sum(
            self.adopt_legacy(corpus, found.name)
            for found in self.legacy_labels(corpus)
            if found.name == corpus.name and found.claimable
        )


def _after_corpus(db, table: str) -> str:
    """The columns of `table` after `corpus`, in order, for copying its rows under another key."""
    columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    return ", ".join(column for column in columns if column != "corpus")
