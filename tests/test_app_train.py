"""Fine-tuning from the app: labels in a database, a background run with progress, the model in the picker."""

from __future__ import annotations

import time

import pytest
from conftest import ROOT, STAND_IN_CE
from streamlit.testing.v1 import AppTest

from ranklens.corpus import load_builtin
from ranklens.labels import Judgement, LabelStore


@pytest.fixture(autouse=True)
def _stand_in_is_configured(monkeypatch):
    monkeypatch.setenv("RANKLENS_CE_FALLBACKS", str(STAND_IN_CE))


def test_train_from_labels_see_progress_and_pick_the_tuned_model(tmp_path):
    project = tmp_path / "project"
    corpus = load_builtin("python")
    LabelStore(project).judge_many(
        (Judgement("python", qid, corpus.queries[qid], doc_id, grade, "ann"), corpus.get(doc_id))
        for qid, docs in corpus.qrels.items()
        for doc_id, grade in docs.items()
    )

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.text_input(key="project_dir").set_value(str(project)).run()
    at.number_input(key="train_epochs").set_value(1).run()
    summary = next(d.value for d in at.dataframe if "training pairs" in getattr(d.value, "columns", []))
    assert summary["train queries"].iloc[0] + summary["held-out queries"].iloc[0] == 8
    at.button(key="start_training").click().run()

    seen_progress = []
    deadline = time.time() + 600
    while time.time() < deadline:
        at.run()
        seen_progress += [p.proto.text for p in at.get("progress") if "step" in p.proto.text]
        if any("Base vs tuned" in m.value for m in at.markdown) or at.error:
            break
        time.sleep(2)
    assert not at.error, [e.value for e in at.error]
    assert any(text.startswith(("training", "evaluating", "done")) for text in seen_progress)
    assert any("held-out queries" in (s.value if hasattr(s, "value") else "") for s in [*at.success, *at.warning])
    at.run()
    options = at.selectbox(key="ce_model").options
    tuned = [o for o in options if "-tuned-" in o]
    assert len(tuned) == 1 and tuned[0].startswith(str(project / "models"))
    at.selectbox(key="ce_model").set_value(tuned[0]).run()
    assert not at.exception
    assert any(tuned[0].replace("-", "\\-").replace(".", "\\.") in c.value or tuned[0] in c.value for c in at.caption)
