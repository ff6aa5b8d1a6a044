"""Labelling in the app: one click per judgement, saved at once, there after a refresh."""

from __future__ import annotations

import pytest
from conftest import ROOT, STAND_IN_CE
from streamlit.testing.v1 import AppTest

from ranklens.labels import LabelStore


@pytest.fixture(autouse=True)
def _stand_in_is_configured(monkeypatch):
    monkeypatch.setenv("RANKLENS_CE_FALLBACKS", str(STAND_IN_CE))


def open_as(project, rater: str, query: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.text_input(key="project_dir").set_value(str(project))
    at.text_input(key="rater").set_value(rater)
    if query:
        at.text_input(key="query").set_value(query)
    return at.run()


def test_labels_in_the_results_view_survive_a_refresh(tmp_path):
    project = tmp_path / "project"
    at = open_as(project, "ann", "is a python bite dangerous")
    shown = {
        place: {b.key.split("|")[-1] for b in at.button_group if b.key.startswith(f"grade|{place}|")}
        for place in ("bi", "ce", "hybrid")
    }
    in_every_column = sorted(shown["bi"] & shown["ce"] & shown["hybrid"])
    assert len(in_every_column) >= 4, shown
    picks = dict(zip(in_every_column[:4], ["Perfect", "Good", "Poor", "Can't rate"]))
    for doc_id, grade in picks.items():
        at.button_group(key=f"grade|ce|python|q3|{doc_id}").set_value(grade)
        at.run()
    assert not at.exception
    # the same documents' controls in the other columns show the grade too
    for doc_id, grade in picks.items():
        for place in ("bi", "hybrid"):
            assert at.button_group(key=f"grade|{place}|python|q3|{doc_id}").value == grade

    stored = {j.doc_id: j.grade for j in LabelStore(project).judgements("python", "q3", "ann")}
    assert stored == {
        doc_id: {"Perfect": 3, "Good": 2, "Poor": 0, "Can't rate": None}[g] for doc_id, g in picks.items()
    }

    refreshed = open_as(project, "ann", "is a python bite dangerous")  # a new session: nothing in session state
    for doc_id, grade in picks.items():
        assert refreshed.button_group(key=f"grade|ce|python|q3|{doc_id}").value == grade
    other_rater = open_as(project, "bob", "is a python bite dangerous")
    assert all(other_rater.button_group(key=f"grade|ce|python|q3|{d}").value is None for d in picks)


def test_focused_labelling_walks_the_pool(tmp_path):
    project = tmp_path / "project"
    at = open_as(project, "cy", "what do pythons eat")
    progress = at.get("progress")[0].proto.text
    assert progress.startswith("0 of ")
    total = int(progress.split(" of ")[1].split()[0])
    assert 10 <= total <= 30, "the union of three top-10s"
    at.text_input(key=next(t.key for t in at.text_input if t.key.startswith("note|"))).set_value("about diet")
    at.button(key="focus|Perfect").click().run()
    at.button(key="focus|Poor").click().run()
    at.button(key="focus|Fair").click().run()
    assert at.get("progress")[0].proto.text.startswith("3 of ")
    judgements = LabelStore(project).judgements("python", "q5", "cy")
    assert sorted(j.grade for j in judgements) == [0, 1, 3]
    assert [j.note for j in judgements if j.grade == 3] == ["about diet"]


def test_labels_tab_exports_and_imports(tmp_path):
    project = tmp_path / "project"
    at = open_as(project, "dee")
    at.radio(key="import_kind").set_value("TREC or BEIR qrels")
    at.file_uploader(key="import_file").set_value(("python.qrels", b"q1 0 prog-01 3\nq1 0 snake-04 0\n", "text/plain"))
    at.run()
    at.button(key="import_run").click().run()
    assert any("Imported 2 judgements" in s.value for s in at.success)
    at.run()
    assert {b.key for b in at.get("download_button")} >= {f"export_{f}" for f in ("pairs-csv", "qrels", "beir", "raw")}
    at.file_uploader(key="import_file").set_value(("bad.qrels", b"q1 0 no-such-doc 3\n", "text/plain"))
    at.run()
    at.button(key="import_run").click().run()
    assert any("Nothing imported" in e.value for e in at.error)
    assert LabelStore(project).qrels("python") == {"q1": {"prog-01": 3, "snake-04": 0}}
