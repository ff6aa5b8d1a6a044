"""Fine-tuning from the app: labels in a project, a background job a refreshed page finds again, the tuned
model in the picker, and no second training while one runs."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from components.model_settings import short_name
from conftest import ROOT, STAND_IN_CE, make_project, open_tab
from ranklens.corpus.loading import load_builtin
from ranklens.labelling.labels import Judgement, LabelStore
from ranklens.training.jobs import TrainingBusy, current_job, start_training
from ranklens.training.train import tuned_models


@pytest.fixture(autouse=True)
def _stand_in_is_configured(monkeypatch):
    monkeypatch.setenv("RANKLENS_CE_FALLBACKS", str(STAND_IN_CE))


def open_project(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.selectbox(key="project_name").set_value(name).run()
    return open_tab(at, "Fine-tune")


def test_train_from_labels_refresh_finds_the_job_and_the_tuned_model_is_offered():
    folder = make_project("training")
    corpus = load_builtin("python")
    LabelStore(folder).judge_many(
        (Judgement(corpus.key, qid, corpus.queries[qid], doc_id, grade, "ann"), corpus.get(doc_id))
        for qid, docs in corpus.qrels.items()
        for doc_id, grade in docs.items()
    )
    at = open_project("training")
    assert at.radio(key=f"train_source|training|{corpus.key}").value == "labels in this project"
    at.number_input(key="train_epochs").set_value(3)  # long enough to be found running by a second session
    at.select_slider(key="train_batch").set_value(4).run()
    summary = next(d.value for d in at.dataframe if "training pairs" in getattr(d.value, "columns", []))
    assert summary["train queries"].iloc[0] + summary["held-out queries"].iloc[0] == 8
    at.button(key="start_training").click().run()
    job = current_job()
    assert job is not None and job.running

    refreshed = open_project("training")  # a reload: a new session finds the running job
    assert refreshed.button(key="start_training").disabled, "no second start while one runs"
    assert any(b.key == "cancel_training" for b in refreshed.button), "and it can cancel the job it found"
    with pytest.raises(TrainingBusy, match="already running"):
        start_training(None, {}, None, None, folder / "models" / "other", folder)

    seen_progress = []
    deadline = time.time() + 600
    while time.time() < deadline and job.running:
        refreshed.run()
        seen_progress += [p.proto.text for p in refreshed.get("progress") if "step" in p.proto.text]
        time.sleep(2)
    assert job.error is None, job.error
    refreshed.run()
    assert any(text.startswith(("training", "evaluating", "done")) for text in seen_progress)
    assert any("Base vs tuned" in m.value for m in refreshed.markdown)
    assert any("held-out queries" in s.value for s in [*refreshed.success, *refreshed.warning])
    made = [str(path) for path in tuned_models(folder)]
    assert len(made) == 1 and made[0].startswith(str(folder / "models"))
    assert short_name(made[0]) in refreshed.selectbox(key="ce_model").options, "offered without another reload"
    refreshed.selectbox(key="ce_model").set_value(made[0]).run()
    assert not refreshed.exception and not refreshed.error
