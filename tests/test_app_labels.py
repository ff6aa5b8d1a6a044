"""Labelling in the app: one click per judgement, saved at once, there after a refresh, written only by a click."""

from __future__ import annotations

import uuid

import pytest
from streamlit.testing.v1 import AppTest

from components.text import literal
from conftest import ROOT, STAND_IN_CE, make_project, open_tab
from ranklens.corpus.corpus import query_id_for
from ranklens.corpus.loading import load_builtin
from ranklens.labelling.export import export_text
from ranklens.labelling.labels import LabelStore
from ranklens.labelling.queue import active_queue

PYTHON = load_builtin("python")
QUERY = "is a python bite dangerous"


@pytest.fixture(autouse=True)
def _stand_in_is_configured(monkeypatch):
    monkeypatch.setenv("RANKLENS_CE_FALLBACKS", str(STAND_IN_CE))


@pytest.fixture
def project():
    name = f"t-{uuid.uuid4().hex[:8]}"
    return name, make_project(name)


def open_as(project_name: str, rater: str, query: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["results_view"] = "cards"  # a grade control per column: the copies must not fire at each other
    at.run()
    at.selectbox(key="project_name").set_value(project_name)
    at.text_input(key="rater").set_value(rater)
    if query:
        at.text_input(key="query").set_value(query)
    return at.run()


def controls(at: AppTest, place: str, doc_id: str | None = None) -> list:
    prefix = f"grade|{place}|"
    return [
        b for b in at.button_group if b.key.startswith(prefix) and (doc_id is None or b.key.split("|")[4] == doc_id)
    ]


def control(at: AppTest, place: str, doc_id: str):
    found = controls(at, place, doc_id)
    assert len(found) == 1, [b.key for b in found]
    return found[0]


def focus_button(at: AppTest, name: str):
    """The Label tab's control `name` for the pair on screen: its key names the pair, and the controls of the pairs
    shown just before it (hidden) come after it."""
    return next(b for b in at.button if b.key.startswith(f"focus|{name}|"))


def snapshot(folder) -> list:
    return LabelStore(folder).judgements()


def test_labels_in_the_results_view_survive_a_refresh(project):
    name, folder = project
    at = open_as(name, "ann", QUERY)
    shown = {place: {b.key.split("|")[4] for b in controls(at, place)} for place in ("bi", "ce", "hybrid")}
    in_every_column = sorted(shown["bi"] & shown["ce"] & shown["hybrid"])
    assert len(in_every_column) >= 4, shown
    picks = dict(zip(in_every_column[:4], ["Perfect", "Good", "Poor", "Can't rate"]))
    for doc_id, grade in picks.items():
        control(at, "ce", doc_id).set_value(grade)
        at.run()
    assert not at.exception
    for doc_id, grade in picks.items():  # the same documents' controls in the other columns show the grade too
        for place in ("bi", "hybrid"):
            assert control(at, place, doc_id).value == grade
    stored = {j.doc_id: j.grade for j in LabelStore(folder).judgements(PYTHON.key, "q3", "ann")}
    assert stored == {
        doc_id: {"Perfect": 3, "Good": 2, "Poor": 0, "Can't rate": None}[g] for doc_id, g in picks.items()
    }

    refreshed = open_as(name, "ann", QUERY)  # a new session: nothing in session state
    for doc_id, grade in picks.items():
        assert control(refreshed, "ce", doc_id).value == grade
    other_rater = open_as(name, "bob", QUERY)
    assert all(control(other_rater, "ce", d).value is None for d in picks)


def test_a_grade_is_written_only_by_a_click_on_it(project):
    name, folder = project
    at = open_as(name, "ann", QUERY)
    doc_id = next(b.key.split("|")[4] for b in controls(at, "bi"))
    control(at, "bi", doc_id).set_value("Good")
    at.run()
    before = snapshot(folder)
    assert [(j.doc_id, j.grade) for j in before] == [(doc_id, 2)]
    at.run()  # a plain rerun
    at.slider(key="alpha").set_value(0.2).run()  # the hybrid column re-sorts: its copy of the control is redrawn
    at.text_input(key="query").set_value(QUERY + " ").run()  # the query retyped
    at.text_input(key="query").set_value(QUERY).run()
    reloaded = open_as(name, "ann", QUERY)  # a reload
    reloaded.run()
    assert snapshot(folder) == before, "nothing was written or deleted, not even a time stamp"
    assert control(reloaded, "ce", doc_id).value == "Good"
    control(reloaded, "hybrid", doc_id).set_value(None)  # clicking the selected grade again is a click: it forgets
    reloaded.run()
    assert snapshot(folder) == []


def test_two_sessions_labelling_different_uploads_lose_and_mix_nothing(project):
    name, folder = project
    espresso = b"id,text\n1,How to brew espresso at home with a moka pot\n2,Grinding coffee beans\n"
    cars = b"id,text\n1,Electric cars and their batteries\n2,Charging stations on motorways\n"

    def upload_and_search(data: bytes, file_name: str, rater: str) -> AppTest:
        at = open_as(name, rater)
        at.radio(key="corpus_mode").set_value("Upload").run()
        at.file_uploader(key="upload_files").set_value((file_name, data, "text/csv")).run()
        at.button(key="load_upload").click().run()
        at.text_input(key="query").set_value("how do I brew espresso").run()
        return at

    first, second = upload_and_search(espresso, "a.csv", "ann"), upload_and_search(cars, "b.csv", "bob")
    control(first, "bi", "1").set_value("Perfect")
    control(second, "bi", "1").set_value("Poor")
    first.run()
    second.run()
    store = LabelStore(folder)
    keys = {key: corpus_name for key, corpus_name in store.corpora().items()}
    assert sorted(keys.values()) == ["a.csv", "b.csv"], keys
    by_name = {corpus_name: key for key, corpus_name in keys.items()}
    assert store.documents(by_name["a.csv"])["1"].text.startswith("How to brew espresso")
    assert store.documents(by_name["b.csv"])["1"].text.startswith("Electric cars")
    query_id = query_id_for("how do I brew espresso")
    assert [(j.rater, j.query_id, j.doc_id, j.grade) for j in store.judgements(by_name["a.csv"])] == [
        ("ann", query_id, "1", 3)
    ]
    assert [(j.rater, j.query_id, j.doc_id, j.grade) for j in store.judgements(by_name["b.csv"])] == [
        ("bob", query_id, "1", 0)
    ]


def test_a_bad_upload_that_used_to_crash_is_refused_and_the_corpus_stays(project):
    name, _ = project
    at = open_as(name, "ann")
    at.radio(key="corpus_mode").set_value("Upload").run()
    deep = b'{"_id": "1", "text": "x", "m": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    for file_name, data in [
        ("lone.jsonl", b'{"_id": "1", "text": 42}\n'),
        ("deep.jsonl", deep),
        ("surrogate.txt", b"bad \xed\xa0\x80 bytes"),
    ]:
        at.file_uploader(key="upload_files").set_value((file_name, data, "application/octet-stream")).run()
        at.button(key="load_upload").click().run()
        assert not at.exception
        assert any(file_name in e.value.replace("\\", "") for e in at.error), [e.value for e in at.error]
        assert any("Still using" in c.value and "python" in c.value for c in at.caption)
    at.text_input(key="query").set_value(QUERY).run()
    assert controls(at, "bi"), "the previous corpus still searches and labels"


def test_focused_labelling_walks_the_pool(project):
    name, folder = project
    at = open_tab(open_as(name, "cy", "what do pythons eat"), "Label")
    progress = at.get("progress")[0].proto.text
    assert progress.startswith("0 of ")
    total = int(progress.split(" of ")[1].split()[0])
    assert 10 <= total <= 30, "the union of three top-10s"
    at.text_input(key=next(t.key for t in at.text_input if t.key.startswith("note|"))).set_value("about diet")
    focus_button(at, "Perfect").click().run()
    focus_button(at, "Poor").click().run()
    focus_button(at, "Fair").click().run()
    assert at.get("progress")[0].proto.text.startswith("3 of ")
    judgements = LabelStore(folder).judgements(PYTHON.key, "q5", "cy")
    assert sorted(j.grade for j in judgements) == [0, 1, 3]
    assert [j.note for j in judgements if j.grade == 3] == ["about diet"]


def shown_doc(at: AppTest) -> str:
    caption = next(c.value for c in at.caption if c.value.startswith("Pair "))
    return caption.split(" · document ")[1].split(" · ")[0].replace("\\", "")


def test_a_key_that_reaches_a_pair_the_page_moved_past_grades_that_pair_and_says_so(project):
    """A key pressed while the page still shows pair N, arriving after the server moved on, presses pair N's
    control, which the server keeps (hidden) for one more run: the grade goes to N, the position stays at N + 1."""
    name, folder = project
    at = open_tab(open_as(name, "lou", "what do pythons eat"), "Label")
    first = shown_doc(at)
    focus_button(at, "Good").click().run()
    second = shown_doc(at)
    assert second != first
    late = at.button(key=f"focus|Poor|{PYTHON.key}|q5|{first}")  # the control of the pair the page still showed
    late.click().run()
    assert not at.exception
    grades = {j.doc_id: j.grade for j in LabelStore(folder).judgements(PYTHON.key, "q5", "lou")}
    assert grades == {first: 0}, "the pair the key named, and no other"
    assert shown_doc(at) == second, "the late key does not move the page again"
    warning = next(w.value for w in at.warning if "regraded" in w.value)
    assert warning.startswith("Pair 1 regraded from Good to Poor"), warning
    at.button(key="label_undo_regrade").click().run()
    assert {j.doc_id: j.grade for j in LabelStore(folder).judgements(PYTHON.key, "q5", "lou")} == {first: 2}
    assert not any("regraded" in w.value for w in at.warning)

    at.button(key=f"focus|Good|{PYTHON.key}|q5|{first}").click().run()
    assert not any("regraded" in w.value for w in at.warning), "the same grade again changes nothing to say"
    focus_button(at, "Fair").click().run()
    assert {j.doc_id: j.grade for j in LabelStore(folder).judgements(PYTHON.key, "q5", "lou")} == {first: 2, second: 1}


def test_labels_tab_exports_and_imports(project):
    name, folder = project
    at = open_tab(open_as(name, "dee"), "Labels & export")
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
    assert LabelStore(folder).qrels(PYTHON.key) == {"q1": {"prog-01": 3, "snake-04": 0}}


def test_judge_later_is_stored_and_round_trips_through_the_raw_export(project):
    name, folder = project
    at = open_tab(open_as(name, "ida", "what do pythons eat"), "Label")
    focus_button(at, "Judge later").click().run()
    focus_button(at, "Good").click().run()
    assert ", 1 for later" in at.get("progress")[0].proto.text
    marked = [j for j in LabelStore(folder).judgements(PYTHON.key, "q5", "ida") if j.later]
    assert len(marked) == 1 and marked[0].grade is None, "marked, not graded"
    assert LabelStore(folder).qrels(PYTHON.key) == {"q5": {next(j.doc_id for j in snapshot(folder) if j.grade): 2}}

    raw = export_text(LabelStore(folder), PYTHON.key, "raw")
    other_name, other = f"{name}-copy", make_project(f"{name}-copy")
    copy = open_tab(open_as(other_name, "ida"), "Labels & export")
    copy.radio(key="import_kind").set_value("raw judgement export")
    copy.file_uploader(key="import_file").set_value(("judgements.csv", raw.encode("utf-8"), "text/csv"))
    copy.run()
    copy.button(key="import_run").click().run()
    assert not copy.exception and not copy.error
    assert [(j.doc_id, j.grade, j.later) for j in snapshot(other)] == [
        (j.doc_id, j.grade, j.later) for j in snapshot(folder)
    ]


def test_the_label_tab_shows_the_active_queue_in_its_order(project):
    name, _ = project
    at = open_as(name, "jo")
    at.session_state["tab"] = "Label"
    at.session_state["label_order"] = "active"
    at.run()
    at.button(key="build_queue").click().run()
    assert not at.exception and not at.error
    results = at.session_state["query_set_results"]
    # the rule itself is held to hand-worked figures in tests/test_labels.py; here, the tab shows its order
    expected = [(item.priority, item.query_id, item.doc_id) for item in active_queue(results, set(), 10)]
    first = expected[0]
    caption = next(c.value for c in at.caption if c.value.startswith("Pair 1 of"))
    assert caption == f"Pair 1 of {len(expected)} · document {literal(first[2])} · query"
    assert f"**{literal(results[first[1]].query)}**" in [m.value for m in at.markdown], "its query is shown"
    assert any(m.value == f"##### {literal(PYTHON.get(first[2]).title)}" for m in at.markdown), "the top pair first"
    focus_button(at, "Fair").click().run()
    second = expected[1]
    assert any(m.value == f"##### {literal(PYTHON.get(second[2]).title)}" for m in at.markdown), "then the next"
    assert any(c.value.startswith("Next because: ") for c in at.caption), "why it is next, in words"
    assert not any(ch.isdigit() for c in at.caption if c.value.startswith("Next because") for ch in c.value)
