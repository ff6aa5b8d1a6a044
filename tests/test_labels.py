import math
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT
from ranklens.corpus.corpus import Document, query_id_for
from ranklens.labelling.labels import LabelError, LabelStore, aggregate
from ranklens.labelling.queue import active_queue
from ranklens.labelling.raters import agreement
from ranklens.ranking.results import Candidate, SearchResult, Timings

DOC = Document(id="d1", title="Pythons", text="Pythons are constrictors.")
WRITER = [sys.executable, str(ROOT / "tests" / "judgement_writer.py")]
WRITER_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def test_judgements_are_stored_replaced_and_read_back(tmp_path):
    store = LabelStore(tmp_path / "project")
    assert store.path == tmp_path / "project" / "labels.sqlite"
    store.judge("c", "q1", "python bite", DOC, 2, "ann", note="partly")
    store.judge("c", "q1", "python bite", DOC, 3, "ann")  # the same rater again replaces
    store.judge("c", "q1", "python bite", DOC, None, "bob", note="cannot tell")
    judgements = store.judgements("c")
    assert [(j.rater, j.grade, j.note) for j in judgements] == [("ann", 3, ""), ("bob", None, "cannot tell")]
    assert all(j.query == "python bite" and j.judged_at for j in judgements)
    assert store.documents("c")["d1"] == DOC
    assert store.qrels("c") == {"q1": {"d1": 3}}, "can't rate is left out of the aggregate"
    reopened = LabelStore(tmp_path / "project")
    assert reopened.judgements("c") == judgements


def test_bad_judgements_are_refused(tmp_path):
    store = LabelStore(tmp_path)
    with pytest.raises(LabelError, match="grade must be one of"):
        store.judge("c", "q", "query", DOC, 5, "ann")
    with pytest.raises(LabelError, match="needs a rater"):
        store.judge("c", "q", "query", DOC, 1, "  ")
    with pytest.raises(LabelError, match="needs a query"):
        store.judge("c", "q", " ", DOC, 1, "ann")
    assert store.judgements() == []


def test_aggregation_rule():
    assert aggregate([1, 2]) == 1.5
    assert aggregate([0, 3, 3]) == 3.0
    assert aggregate([0, 1, 2, 3]) == 1.5
    assert aggregate([]) is None


def test_qrels_round_half_up(tmp_path):
    store = LabelStore(tmp_path)
    store.judge("c", "q", "query", DOC, 1, "ann")
    store.judge("c", "q", "query", DOC, 2, "bob")
    assert store.aggregated("c") == {"q": {"d1": 1.5}} and store.qrels("c") == {"q": {"d1": 2}}


def test_agreement_between_raters(tmp_path):
    store = LabelStore(tmp_path)
    docs = [Document(id=f"d{i}", text=f"text {i}") for i in range(6)]
    for doc, a, b in zip(docs, [0, 1, 2, 3, 3, 0], [0, 1, 2, 3, 2, 1]):
        store.judge("c", "q", "query", doc, a, "ann")
        store.judge("c", "q", "query", doc, b, "bob")
    store.judge("c", "q", "query", docs[0], 0, "cy")
    table = agreement(store.judgements("c"))
    ann_bob = table[(table["rater A"] == "ann") & (table["rater B"] == "bob")].iloc[0]
    assert ann_bob["pairs both judged"] == 6 and ann_bob["exact agreement"] == pytest.approx(4 / 6, abs=1e-3)
    # quadratic weights (unweighted 0.571 and linear 0.739 on the same grades): worked out by hand,
    # 1 - sum(w * observed) / sum(w * expected) with w = (i - j)^2 / 9
    assert ann_bob["weighted kappa"] == pytest.approx(0.8667, abs=1e-3)  # the table shows three decimals
    ann_cy = table[(table["rater A"] == "ann") & (table["rater B"] == "cy")].iloc[0]
    assert ann_cy["pairs both judged"] == 1 and math.isnan(ann_cy["weighted kappa"])


def test_query_ids():
    assert query_id_for("hotel without a pool", {"n1": "hotel without a pool "}) == "n1"
    assert query_id_for("free text") == query_id_for(" free text ") != query_id_for("other text")


def test_a_killed_writer_loses_nothing_it_reported_saved(tmp_path):
    db = tmp_path / "labels.sqlite"
    LabelStore(db)
    writer = subprocess.Popen(
        [*WRITER, str(db), "killed", "100000"], cwd=ROOT, env=WRITER_ENV, stdout=subprocess.PIPE, text=True
    )
    reported = []
    for line in writer.stdout:
        reported.append(int(line.split()[1]))
        if len(reported) == 150:
            writer.send_signal(signal.SIGKILL)  # mid-stream: it is writing the next ones
            break
    writer.wait()
    reported += [int(line.split()[1]) for line in writer.stdout]  # anything it printed before dying
    assert writer.returncode == -signal.SIGKILL
    store = LabelStore(db)
    assert store.integrity_check() == "ok"
    stored = {j.doc_id for j in store.judgements("durability")}
    assert {f"killed-d{i}" for i in reported} <= stored
    assert len(stored) < 100000


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    db = tmp_path / "labels.sqlite"
    LabelStore(db)
    writers = [
        subprocess.Popen([*WRITER, str(db), name, "150"], cwd=ROOT, env=WRITER_ENV, stdout=subprocess.DEVNULL)
        for name in ("first", "second")
    ]
    assert [w.wait(timeout=300) for w in writers] == [0, 0]
    store = LabelStore(db)
    stored = {j.doc_id for j in store.judgements("durability")}
    assert stored == {f"{name}-d{i}" for name in ("first", "second") for i in range(150)}
    assert store.integrity_check() == "ok"


def test_judging_again_unchanged_rewrites_nothing(tmp_path):
    store = LabelStore(tmp_path)
    store.judge("c", "q1", "python bite", DOC, 2, "ann", note="partly")
    first = store.judgements("c")[0]
    store.judge("c", "q1", "python bite", DOC, 2, "ann", note="partly")
    assert store.judgements("c") == [first], "the same grade again keeps its time stamp"
    store.judge("c", "q1", "python bite", DOC, 2, "ann", note="partly", later=True)
    assert store.judgements("c")[0].later and store.judgements("c")[0].grade == 2


def test_a_version_0_database_is_backed_up_migrated_and_its_labels_claimed_by_matching_content(tmp_path):
    """A database from before corpora had identities: rows keyed by the corpus's name."""
    import sqlite3

    from ranklens.corpus.loading import load_builtin

    path = tmp_path / "labels.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE queries (corpus TEXT NOT NULL, query_id TEXT NOT NULL, text TEXT NOT NULL,"
            " PRIMARY KEY (corpus, query_id));"
            "CREATE TABLE documents (corpus TEXT NOT NULL, doc_id TEXT NOT NULL, title TEXT NOT NULL,"
            " text TEXT NOT NULL, PRIMARY KEY (corpus, doc_id));"
            "CREATE TABLE judgements (corpus TEXT NOT NULL, query_id TEXT NOT NULL, doc_id TEXT NOT NULL,"
            " rater TEXT NOT NULL, grade INTEGER, note TEXT NOT NULL DEFAULT '', judged_at TEXT NOT NULL,"
            " PRIMARY KEY (corpus, query_id, doc_id, rater));"
        )
        python = load_builtin("python")
        doc = python.get("snake-04")
        db.execute("INSERT INTO queries VALUES ('python', 'q3', ?)", (python.queries["q3"],))
        db.execute("INSERT INTO documents VALUES ('python', ?, ?, ?)", (doc.id, doc.title, doc.text))
        db.execute(
            "INSERT INTO judgements VALUES ('python', 'q3', ?, 'ann', 3, '', '2026-11-20T10:00:00+00:00')", (doc.id,)
        )
        db.execute("INSERT INTO queries VALUES ('upload (2 files)', 'qx', 'espresso')")
        db.execute("INSERT INTO documents VALUES ('upload (2 files)', '1', '', 'about electric cars')")
        db.execute("INSERT INTO judgements VALUES ('upload (2 files)', 'qx', '1', 'bob', 3, '', '2026-11-20T10:00:00')")
    store = LabelStore(path)
    assert (tmp_path / "labels.sqlite.v0-backup").is_file(), "the old database is copied aside first"
    assert store.corpora() == {"python": "python", "upload (2 files)": "upload (2 files)"}
    assert [found.name for found in store.legacy_labels(python) if found.claimable] == ["python"]
    assert store.adopt_same_name(python) == 1
    assert store.qrels(python.key) == {"q3": {"snake-04": 3}} and store.judgements("python") == []
    assert store.judgements(python.key)[0].judged_at == "2026-11-20T10:00:00+00:00", "kept as it was"
    assert "upload (2 files)" in store.corpora(), "an upload's name says nothing of its content: it stays apart"
    with pytest.raises(LabelError, match="cannot be moved"):
        store.adopt_legacy(python, "upload (2 files)")
    assert LabelStore(path).qrels(python.key) == {"q3": {"snake-04": 3}}, "reopening migrates nothing twice"


def test_two_uploads_with_the_same_ids_never_share_labels(tmp_path):
    from ranklens.corpus.readers import load_files

    first = load_files([("a.csv", b"id,text\n1,how to brew espresso\n2,grinding beans\n")])
    second = load_files([("b.csv", b"id,text\n1,electric cars\n2,charging stations\n")])
    assert first.key != second.key
    store = LabelStore(tmp_path)
    store.judge(first.key, "q1", "how do I brew espresso", first.get("1"), 3, "ann")
    store.judge(second.key, "q1", "how do I brew espresso", second.get("1"), 0, "ann")
    assert store.documents(first.key)["1"].text == "how to brew espresso"
    assert store.documents(second.key)["1"].text == "electric cars"
    assert store.qrels(first.key) == {"q1": {"1": 3}} and store.qrels(second.key) == {"q1": {"1": 0}}
    again = load_files([("renamed.csv", b"id,text\n2,grinding beans\n1,how to brew espresso\n")])
    assert again.key == first.key, "the same documents, in any order and under any name, are the same corpus"


def hand_made(doc_id: str, bi_score: float, bi_rank: int, ce_score: float, ce_rank: int) -> Candidate:
    return Candidate(doc_id, "", "", "", 1, False, bi_score, bi_rank, ce_score, ce_rank, 0.0, 0)


def test_the_active_queue_orders_three_hand_made_pairs_as_worked_out_by_hand():
    """top-k 2. sigmoid(0) = 0.5, sigmoid(ln 3) = 0.75, sigmoid(-ln 3) = 0.25; first-stage scores 1, 0.5, 0 scale to
    themselves. Terms (in one top-k only, shift / 2k, undecided, |scaled first - sigmoid|) and discount:
      a: first 1, reranked 2: 0 + 1/4 + 1 + 0.5 = 1.75, x 1/log2(2) = 1.75
      b: first 2, reranked 3: 1 + 1/4 + 0.5 + 0.25 = 2.0, x 1/log2(3) = 1.2619
      c: first 3, reranked 1: 1 + 2/4 + 0.5 + 0.75 = 2.75, x 1/log2(2) = 2.75"""
    candidates = (
        hand_made("a", 1.0, 1, 0.0, 2),
        hand_made("b", 0.5, 2, -math.log(3), 3),
        hand_made("c", 0.0, 3, math.log(3), 1),
    )
    result = SearchResult("q", candidates, Timings(0, 0, 0, 0, 0, 0), "bi", "ce", None, 0.5, "hybrid", "best", 3)
    queue = active_queue({"q1": result.with_fusion(0.5)}, set(), top_k=2)
    assert [(item.doc_id, round(item.priority, 4)) for item in queue] == [("c", 2.75), ("a", 1.75), ("b", 1.2619)]
    assert queue[0].reasons[0] == "in one ranker's top-k only"
    again = active_queue({"q1": result.with_fusion(0.5)}, {("q1", "c")}, top_k=2)
    assert [item.doc_id for item in again] == ["a", "b"], "a judged pair leaves the queue"
