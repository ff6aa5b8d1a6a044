"""The caches beside the scores keep their bounds on disk: the query vectors and the explanations (the passage token
ids: tests/test_pair_tokens.py; the scores: tests/test_reliability.py)."""

from __future__ import annotations

import contextlib
import sqlite3

import numpy as np
import pytest

from ranklens.cache_bounds import Bound
from ranklens.corpus.loading import load_builtin
from ranklens.index import query_vectors
from ranklens.index.query_vectors import query_vector
from ranklens.ranking import explain as explaining
from ranklens.ranking.explain import explain
from ranklens.sqlite_cache import cache_key


def _rows(path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_the_query_vector_file_keeps_its_bound_and_the_newest_queries(embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    monkeypatch.setattr(query_vectors, "BOUND", Bound("vectors", 10))
    queries = [f"bounded query number {n}" for n in range(25)]
    made = [query_vector(embedder, query) for query in queries]
    assert _rows(tmp_path / "cache" / "query_vectors.sqlite", "vectors") == 9, "trimmed to 90 % whenever passed"
    calls = embedder.calls
    kept = [query_vector(embedder, query) for query in queries[-9:]]
    assert embedder.calls == calls, "the nine written last were read back"
    assert all(np.array_equal(a, b) for a, b in zip(kept, made[-9:]))
    assert query_vector(embedder, queries[0]) == pytest.approx(made[0], abs=1e-6)
    assert embedder.calls == calls + 1, "the one written first went: embedded again"


def test_a_query_vector_file_made_before_the_bound_keeps_its_vectors_and_they_go_first(embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    monkeypatch.setattr(query_vectors, "BOUND", Bound("vectors", 6))
    old = [f"a query embedded before the bound {n}" for n in range(5)]
    (tmp_path / "cache").mkdir()
    with contextlib.closing(sqlite3.connect(tmp_path / "cache" / "query_vectors.sqlite")) as db, db:
        db.execute("CREATE TABLE vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL) WITHOUT ROWID")
        db.executemany(
            "INSERT INTO vectors VALUES (?, ?)",
            [(cache_key(embedder.fingerprint, q), embedder.encode([q]).astype(np.float32).tobytes()) for q in old],
        )
    calls = embedder.calls
    query_vector(embedder, old[2])
    assert embedder.calls == calls, "read from the old file"
    new = [f"a query embedded after the bound {n}" for n in range(4)]
    for query in new:
        query_vector(embedder, query)
    assert _rows(tmp_path / "cache" / "query_vectors.sqlite", "vectors") == 5
    calls = embedder.calls
    for query in new:
        query_vector(embedder, query)
    assert embedder.calls == calls, "the new ones stay; the old ones, written at no known time, went first"
    with contextlib.closing(sqlite3.connect(tmp_path / "cache" / "query_vectors.sqlite")) as db:
        left = db.execute("SELECT COUNT(*) FROM vectors WHERE written = 0").fetchone()[0]
    assert left == 1, "one old query of five was left"


def test_the_explanation_file_keeps_its_bound(reranker, embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    monkeypatch.setattr(explaining, "BOUND", Bound("explanations", 2))
    doc = load_builtin("negation").get("hotel-02")
    queries = [f"a hotel explained under a bound of two, {n}" for n in range(3)]
    for query in queries:
        explain(reranker, embedder, query, doc.id, doc.full_text, words=8)
    assert _rows(tmp_path / "cache" / "explanations.sqlite", "explanations") == 1, "trimmed to 90 % of 2"
    explaining.forget_in_memory()  # what a new process starts without
    calls = reranker.calls
    explain(reranker, embedder, queries[-1], doc.id, doc.full_text, words=8)
    assert reranker.calls == calls, "the newest is read back"
    explain(reranker, embedder, queries[0], doc.id, doc.full_text, words=8)
    assert reranker.calls == calls + 1, "the oldest went: explained again"
