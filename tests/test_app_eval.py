"""The evaluation panel on a built-in corpus with its qrels, through AppTest."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, STAND_IN_CE, make_project, open_tab
from ranklens.corpus.loading import load_builtin
from ranklens.evaluation.runs import RunStore


@pytest.fixture(autouse=True)
def _stand_in_is_configured(monkeypatch):
    monkeypatch.setenv("RANKLENS_CE_FALLBACKS", str(STAND_IN_CE))


def test_metrics_per_query_sweep_significance_and_saved_runs():
    folder = make_project("evaluate")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.selectbox(key="builtin_name").set_value("negation")
    at.selectbox(key="project_name").set_value("evaluate").run()
    open_tab(at, "Evaluate")
    at.selectbox(key="ce_backend").set_value("torch-bf16").run()
    assert at.checkbox(key="eval_against_fp32").value, "a lower-precision backend is measured against fp32 by default"
    at.button(key="run_evaluation").click().run()
    assert not at.exception and not at.error
    guard = next(i.value for i in at.info if i.value.startswith("Backend torch-bf16: reranked nDCG@10"))
    assert "with fp32 (onnx)" in guard and "% of fp32" in guard

    frames = [d.value for d in at.dataframe]
    metrics = next(f for f in frames if "ndcg@10" in getattr(f, "columns", []))
    assert list(metrics.index) == ["bi-encoder", "reranked", "hybrid"]
    assert list(metrics.columns) == ["ndcg@10", "mrr@10", "recall@10", "recall@100", "map"]
    assert any("linear gain" in c.value for c in at.caption)
    coverage = next(f for f in frames if "unjudged in top-10 (mean)" in getattr(f, "columns", []))
    assert len(coverage) == 3
    per_query = next(f for f in frames if "reranked − first stage" in getattr(f, "columns", []))
    assert len(per_query) == 6 and list(per_query["reranked − first stage"]) == sorted(
        per_query["reranked − first stage"]
    )

    assert at.get("vega_lite_chart"), "the sweep chart is drawn"
    best = next(c.value for c in at.caption if c.value.startswith("In-sample best nDCG@10"))
    best_alpha = float(re.search(r"their median is alpha = ([0-9.]+[0-9])", best)[1])
    at.button(key="use_best_alpha").click().run()
    assert at.session_state["alpha"] == pytest.approx(best_alpha), "the Search tab's slider is set"
    assert any("paired t-test" in i.value and "p = " in i.value for i in at.info)

    at.text_input(key="run_name").set_value("best alpha").run()
    at.button(key="save_run").click().run()
    at.session_state["alpha"] = 0.0
    at.text_input(key="run_name").set_value("reranked only").run()
    at.button(key="save_run").click().run()
    saved = RunStore(folder).list(load_builtin("negation").key)
    assert [(r.name, r.settings["alpha"]) for r in saved] == [("best alpha", best_alpha), ("reranked only", 0.0)]
    assert saved[0].settings["ce_model"] == str(STAND_IN_CE) and saved[0].settings["top_n"] == 100
    at.multiselect(key="compare_runs").set_value([r.label for r in saved]).run()
    assert any(
        f"{saved[1].label} − {saved[0].label}" in getattr(f, "columns", []) for f in (d.value for d in at.dataframe)
    )
    assert any(saved[0].label in i.value and "p = " in i.value for i in at.info)
    assert at.get("download_button")
