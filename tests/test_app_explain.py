"""The compact comparison, the explanation, label-free agreement, the query set and the honest alpha, through
AppTest with the real models."""

from __future__ import annotations

import json
import logging
import re

import pytest
from streamlit.elements.lib import policies
from streamlit.testing.v1 import AppTest

from conftest import ROOT, STAND_IN_CE, make_project, open_tab
from ranklens.ranking.compare import agreement


@pytest.fixture(autouse=True)
def _stand_in_is_configured(monkeypatch):
    monkeypatch.setenv("RANKLENS_CE_FALLBACKS", str(STAND_IN_CE))


def start(query: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    if query:
        at.text_input(key="query").set_value(query).run()
    return at


def frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


def test_the_compact_view_shows_every_ranker_on_one_table_and_explains_a_row():
    at = start("is a python bite dangerous")
    assert not at.exception and not at.error
    table = next(f for f in frames(at) if "reranked" in f.columns and "document" in f.columns)
    assert 10 <= len(table) <= 30, "every document of any ranker's top-10, once"
    assert list(table.columns[:4]) == ["document", "bi-encoder", "reranked", "hybrid"], "the ranks first"
    assert set(table.columns) >= {"id", "first-stage score", "CE (sigmoid)", "hybrid score"}
    assert "grade" not in table.columns, "no rater named: no empty grade column"
    assert [int(r.split()[0]) for r in table["reranked"]] == sorted(int(r.split()[0]) for r in table["reranked"])
    assert any(re.search(r"(▲\d+|▼\d+|new)", r) for r in table["reranked"]), "shifts beside the ranks"
    assert at.get("vega_lite_chart"), "the rank-flow chart"
    shown = [m.value.replace("\\", "") for m in at.markdown]  # corpus words in the line are escaped
    assert any(" — " in m and "cross-encoder's score" in m for m in shown), "the one-line why"
    caption = next(c.value for c in at.caption if c.value.startswith("First stage rank"))
    assert re.match(r"First stage rank \d+, reranked 1,", caption), "the reranked top document is explained first"
    other = table.iloc[3]["id"]
    at.selectbox(key="explain_doc").set_value(other).run()
    assert not at.exception
    caption = next(c.value for c in at.caption if c.value.startswith("First stage rank"))
    ranks = re.match(r"First stage rank (\d+), reranked (\d+)", caption)
    row = table[table["id"] == other].iloc[0]
    assert int(ranks[1]) == int(row["bi-encoder"]) and int(ranks[2]) == int(row["reranked"].split()[0])


def test_the_compact_view_with_bm25_shows_every_ranking_it_compares_and_the_grade():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.session_state["first_stage"] = "bm25"
    at.session_state["compare_first_stage"] = "faiss"
    at.run()
    at.text_input(key="rater").set_value("bea").run()
    at.text_input(key="query").set_value("is a python bite dangerous").run()
    assert not at.exception and not at.error
    table = next(f for f in frames(at) if "reranked" in f.columns and "document" in f.columns)
    assert list(table.columns[:7]) == ["document", "BM25", "bi-encoder", "reranked", "hybrid", "grade", "id"]
    assert table["BM25"].dtype.kind == "i" and min(table["BM25"]) == 1, "the first stage's rank, not its score"
    compared = [r for r in table["bi-encoder"] if r]
    assert compared and all(re.fullmatch(r"\d+( (▲\d+|▼\d+|new))?", r) for r in compared), compared
    assert 0.0 <= table["first-stage score"].min() and table["first-stage score"].max() == 1.0


def test_label_free_agreement_of_the_query_matches_the_engine():
    at = start("what do pythons eat")
    shown = next(f for f in frames(at) if "RBO (p=0.9)" in f.columns)
    assert list(shown["rankings"]) == ["bi-encoder / reranked", "bi-encoder / hybrid", "reranked / hybrid"]
    result = at.session_state["search_result"].with_fusion(at.session_state["alpha"])
    first, reranked = ([c.doc_id for c in result.ranking(r)] for r in ("bi", "ce"))
    expected = agreement(first, reranked, 10)
    row = shown.iloc[0]
    assert row["overlap@10"] == expected.overlap and row["RBO (p=0.9)"] == pytest.approx(expected.rbo)
    assert row["Jaccard@10"] == pytest.approx(expected.jaccard)
    assert row["Kendall's tau"] == pytest.approx(expected.kendall_tau)
    element = next(d for d in at.dataframe if "RBO (p=0.9)" in d.value.columns)
    columns = json.loads(element.proto.columns)
    formats = {name: config["type_config"]["format"] for name, config in columns.items() if config.get("type_config")}
    assert formats == dict.fromkeys(["Jaccard@10", "RBO (p=0.9)", "Kendall's tau"], "%.3f"), (
        "three places, by the browser"
    )


@pytest.fixture
def widget_policy_warnings(monkeypatch):
    """What Streamlit's widget policies log during a test (it warns once per process: that is reset)."""
    warnings: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: warnings.append(record.getMessage())
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    policies._LOGGER.addHandler(handler)
    yield warnings
    policies._LOGGER.removeHandler(handler)


def test_the_query_set_sorts_by_disagreement_and_opens_a_row_in_search(widget_policy_warnings):
    at = open_tab(start(), "Query set")
    at.button(key="query_set_run").click().run()
    assert not at.exception and not at.error
    per_query = next(f for f in frames(at) if "RBO (first stage, reranked)" in f.columns)
    assert len(per_query) == 8 and list(per_query["RBO (first stage, reranked)"]) == sorted(
        per_query["RBO (first stage, reranked)"]
    )
    assert per_query["nDCG@10 reranked − first stage"].notna().all(), "the python corpus judges every query"
    mean = next(f for f in frames(at) if "rankings" in f.columns and "RBO (p=0.9)" in f.columns)
    assert mean.iloc[0]["RBO (p=0.9)"] == pytest.approx(per_query["RBO (first stage, reranked)"].mean(), abs=1e-9)
    wanted = per_query.iloc[0]["query"]
    assert at.selectbox(key="query_set_pick").value == wanted, "the most disagreeing query first"
    at.button(key="query_set_open").click().run()
    assert at.session_state["tab"] == "Search" and at.text_input(key="query").value == wanted
    assert not [w for w in widget_policy_warnings if "default value" in w], (
        "the opened query is not fought by a default"
    )
    assert any(c.value.startswith("First stage rank") for c in at.caption), "the Search tab is the one drawn"


def test_the_alpha_sweep_reports_a_cross_validated_alpha_and_the_button_sets_it():
    make_project("alpha")
    at = start()
    at.selectbox(key="builtin_name").set_value("negation")
    at.selectbox(key="project_name").set_value("alpha").run()
    open_tab(at, "Evaluate")
    at.button(key="run_evaluation").click().run()
    assert not at.exception and not at.error
    caption = next(c.value for c in at.caption if c.value.startswith("In-sample best nDCG@10"))
    assert "optimistic" in caption and "Cross-validated over 5 folds" in caption
    alpha = float(re.search(r"their median is alpha = (\d\.\d\d)", caption)[1])
    at.button(key="use_best_alpha").click().run()
    assert at.session_state["alpha"] == pytest.approx(alpha)
    agreement = next(f for f in frames(at) if "rankings" in f.columns and "RBO (p=0.9)" in f.columns)
    assert len(agreement) == 2, "label-free agreement over the evaluated queries too"
