"""What keeps a shared server and its files safe: confinement, one model at a time, caches safe across threads,
and no deletion of anything RankLens did not make."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import threading
import time

import numpy as np
import pytest

from conftest import STAND_IN_CE
from ranklens.index.query_vectors import query_vector
from ranklens.labelling.projects import ProjectError, project_folder
from ranklens.models.allowed import MODEL_ROOTS_ENV, check_allowed
from ranklens.models.loading import ModelError
from ranklens.ranking.score_cache import FILE_LIMIT, FILE_LIMIT_ENV, ScoreCache, file_limit_from_env, score_key


def test_projects_are_names_under_the_home_never_paths(ranklens_home):
    assert project_folder("team-a_2") == ranklens_home / "projects" / "team-a_2"
    for hostile in ["../escape", "/etc", "a/b", "x.sqlite", "", "name with space", "a" * 65, "..", "~root"]:
        with pytest.raises(ProjectError, match="is not a project name"):
            project_folder(hostile)
    assert not (ranklens_home / "escape").exists()


def test_the_app_loads_only_hub_ids_listed_models_and_folders_under_the_roots(monkeypatch, tmp_path):
    check_allowed("cross-encoder/ms-marco-MiniLM-L-6-v2")
    check_allowed(str(STAND_IN_CE), [str(STAND_IN_CE)])
    with pytest.raises(ModelError, match=f"not a model the app may load.*{MODEL_ROOTS_ENV}"):
        check_allowed(str(STAND_IN_CE))
    with pytest.raises(ModelError):
        check_allowed("/etc")
    with pytest.raises(ModelError):
        check_allowed("../../secret-model")
    monkeypatch.setenv(MODEL_ROOTS_ENV, str(STAND_IN_CE.parent))
    check_allowed(str(STAND_IN_CE))
    with pytest.raises(ModelError):
        check_allowed(str(STAND_IN_CE.parent / ".." / ".." / "datasets"))


def test_one_forward_pass_at_a_time_across_threads(reranker, adi):
    """Two sessions reranking at once: their batches interleave, never overlap."""
    pairs = [("query", doc.full_text) for doc in adi.documents[:24]]
    spans: list[tuple[float, float]] = []
    real_forward = reranker.forward

    def timed(feed):
        started = time.perf_counter()
        out = real_forward(feed)
        spans.append((started, time.perf_counter()))
        return out

    reranker.forward = timed
    try:
        threads = [threading.Thread(target=reranker.score, args=(pairs, 4)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        reranker.forward = real_forward
    spans.sort()
    assert len(spans) == 12
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans)), "no two passes overlapped"


def _pairs_on_disk(path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]


def test_the_score_file_keeps_its_bound_and_drops_the_pairs_written_longest_ago(tmp_path):
    path = tmp_path / "scores.sqlite"
    cache = ScoreCache(path, file_limit=100)
    batches = [
        {score_key("model|torch", 192, f"query {b}", f"passage {i}"): (float(i), False) for i in range(40)}
        for b in range(5)
    ]
    for batch in batches:
        cache.put_many(batch)
    assert _pairs_on_disk(path) == 90, "trimmed to 90 % of the bound whenever it was passed"
    fresh = ScoreCache(path, file_limit=100)  # another process's view: the file alone
    assert len(fresh.get_many(batches[3])) == len(fresh.get_many(batches[4])) == 40, "the newest pairs stay"
    assert fresh.get_many([*batches[0], *batches[1]]) == {}, "the oldest went first"
    assert len(fresh.get_many(batches[2])) == 10


def test_the_score_file_bound_comes_from_the_environment_and_a_bad_one_is_named(monkeypatch):
    monkeypatch.delenv(FILE_LIMIT_ENV, raising=False)
    assert file_limit_from_env() == FILE_LIMIT
    monkeypatch.setenv(FILE_LIMIT_ENV, "5_000")
    assert file_limit_from_env() == 5000
    for bad in ("2M", "1.5", "0", "-3"):
        monkeypatch.setenv(FILE_LIMIT_ENV, bad)
        with pytest.raises(ValueError, match=f"{FILE_LIMIT_ENV} must be a whole number.*{bad!r}"):
            file_limit_from_env()


def test_a_score_file_made_before_the_bound_keeps_its_pairs_and_they_go_first(tmp_path):
    path = tmp_path / "scores.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "CREATE TABLE scores (key BLOB PRIMARY KEY, logit REAL NOT NULL, truncated INTEGER NOT NULL) WITHOUT ROWID"
        )
        db.executemany("INSERT INTO scores VALUES (?, ?, ?)", [(bytes([n]) * 20, n / 10, 0) for n in range(30)])
    cache = ScoreCache(path, file_limit=50)
    assert cache.get_many([bytes([7]) * 20]) == {bytes([7]) * 20: (0.7, False)}
    new = {score_key("model|torch", 192, "q", f"p{i}"): (1.0, True) for i in range(40)}
    cache.put_many(new)
    assert _pairs_on_disk(path) == 45
    fresh = ScoreCache(path, file_limit=50)
    assert len(fresh.get_many(new)) == 40 and len(fresh.get_many(bytes([n]) * 20 for n in range(30))) == 5


def test_the_score_cache_is_safe_under_threads_and_shared_through_its_file(tmp_path):
    cache = ScoreCache(tmp_path / "scores.sqlite", memory_limit=50)
    keys = [score_key("model|torch", 192, "q", f"passage {i}") for i in range(400)]
    errors = []

    def writer(offset: int) -> None:
        try:
            for start in range(offset, len(keys), 40):
                cache.put_many({k: (float(i), False) for i, k in enumerate(keys[start : start + 20], start)})
                found = cache.get_many(keys[start : start + 20])
                assert len(found) == len(keys[start : start + 20])
        except Exception as err:  # noqa: BLE001 -- any failure in a thread is the test's failure
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(offset,)) for offset in (0, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(cache) <= 50
    fresh = ScoreCache(tmp_path / "scores.sqlite")  # another process's view: the file
    found = fresh.get_many(keys)
    assert len(found) == 400 and np.allclose([found[k][0] for k in keys], range(400))
    assert (
        score_key("model|torch", 192, "q", "p")
        != score_key("model|torch", 128, "q", "p")
        != score_key("model|onnx", 192, "q", "p")
    ), "budget and backend are part of the key"


DAMAGED = b"not a database " * 100


def test_a_damaged_score_file_is_gone_on_without_said_once_and_left_as_it_was(tmp_path, capsys):
    path = tmp_path / "ce_scores.sqlite"
    path.write_bytes(DAMAGED)
    cache = ScoreCache(path)
    key = score_key("model|torch", 192, "q", "p")
    assert cache.get_many([key]) == {}
    cache.put_many({key: (1.5, False)})
    assert cache.get_many([key]) == {key: (1.5, False)}, "held in memory still"
    assert ScoreCache(path).get_many([key]) == {}, "a new process finds nothing: nothing could be written"
    warned = capsys.readouterr().err
    assert warned.count(f"warning: the cache file {path} cannot be used") == 1
    assert "python -m ranklens cache --clear scores" in warned
    assert path.read_bytes() == DAMAGED, "left as it was"


def test_a_damaged_query_vector_file_costs_only_the_embedding(embedder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    (tmp_path / "cache").mkdir()
    damaged = tmp_path / "cache" / "query_vectors.sqlite"
    damaged.write_bytes(DAMAGED)
    calls = embedder.calls
    for _ in range(2):
        assert query_vector(embedder, "a query beside a damaged file") == pytest.approx(
            embedder.encode(["a query beside a damaged file"]), abs=1e-6
        )
    assert embedder.calls == calls + 4, "embedded each time, as there is no file to keep it in"
    warned = capsys.readouterr().err
    assert warned.count(f"warning: the cache file {damaged} cannot be used") == 1
    assert "cache --clear query-vectors" in warned
    assert damaged.read_bytes() == DAMAGED
