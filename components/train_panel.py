"""Fine-tuning panel: training data from the labels or qrels, knobs, a background run with live progress, base vs
tuned. The run is the process's one training job (ranklens.training.jobs), so a refreshed page finds it again."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import resources
from components.model_settings import Settings
from components.project_settings import Project
from components.text import literal
from ranklens.corpus.corpus import Qrels
from ranklens.evaluation.evaluate import judged
from ranklens.index.base import FirstStage
from ranklens.models.loading import ModelError
from ranklens.training.data import LOSSES, TrainingError, TrainSettings, build_training_data, split_queries
from ranklens.training.jobs import TrainingBusy, TrainingJob, current_job, start_training
from ranklens.training.train import default_output

SOURCES = ("labels in this project", "the corpus's own qrels")
SEEN_DONE = "training_seen_done"  # the finished job this session has already refreshed the model list for


def _progress(job: TrainingJob) -> None:
    progress = job.progress
    share = progress.step / progress.total_steps if progress.total_steps else 0.0
    loss = f", loss {progress.loss:.4f}" if progress.loss is not None else ""
    steps = f"step {progress.step} of {progress.total_steps or '?'}, epoch {progress.epoch:.2f}{loss}"
    st.progress(min(1.0, share), text=f"{progress.state}: {steps} (training {literal(job.base_model)})")
    if progress.history:
        history = pd.DataFrame(progress.history)
        st.dataframe(history, hide_index=True, width="stretch")
        import altair as alt  # imported when drawn: it takes 0.2 s, and a relaunched app's first page does without it

        epochs = alt.X("epoch:O", title="epoch (0 = base model)")
        chart = (
            alt.Chart(history)
            .mark_line(point=True)
            .encode(x=epochs, y=alt.Y("held-out ndcg@10:Q", scale=alt.Scale(zero=False)))
        )
        st.altair_chart(chart, width="stretch")


def _outcome(job: TrainingJob) -> None:
    if job.error:
        st.error(f"Training failed: {literal(job.error)}")
        return
    result = job.result
    st.markdown("#### Base vs tuned, held-out queries")
    st.dataframe(result.comparison.style.format("{:.4f}"), width="stretch")
    (st.success if result.best_epoch and "better" in result.verdict else st.warning)(result.verdict)
    st.caption(
        f"Saved to {literal(str(result.model_dir))} with a model card (RANKLENS_MODEL_CARD.md); it is in the "
        "sidebar's cross-encoder list."
    )


@st.fragment(run_every=1.0)
def _watch() -> None:
    """Redraws itself every second while the job runs; the rest of the app stays usable."""
    job = current_job()
    if job is None:
        return
    _progress(job)
    if job.running:
        st.button("Cancel training", key="cancel_training", on_click=job.progress.cancel.set)
        return
    _outcome(job)
    if job.result is not None and st.session_state.get(SEEN_DONE) != job.started_at:
        st.session_state[SEEN_DONE] = job.started_at
        st.rerun(scope="app")  # the sidebar's model list is drawn outside this fragment: draw it with the new model


def _judgements(stage: FirstStage, project: Project) -> tuple[Qrels, dict[str, str], int | None]:
    corpus = stage.corpus
    labels = project.store.qrels(corpus.key)
    sources = [s for s in SOURCES if s != SOURCES[1] or corpus.qrels]
    default = 1 if corpus.qrels and not judged(labels) else 0  # the corpus's qrels rather than no labels at all
    source = st.radio(
        "Train on",
        sources,
        index=min(default, len(sources) - 1),
        horizontal=True,
        key=f"train_source|{project.name}|{corpus.key}",
    )
    if source == SOURCES[0]:
        return labels, {**corpus.queries, **project.store.queries(corpus.key)}, 3
    return corpus.qrels, corpus.queries, None


def _knobs() -> TrainSettings:
    left, right = st.columns(2)
    epochs = left.number_input("Epochs", 1, 20, 2, key="train_epochs")
    learning_rate = left.select_slider("Learning rate", [5e-6, 1e-5, 2e-5, 3e-5, 5e-5], value=2e-5, key="train_lr")
    batch_size = left.select_slider("Batch size", [4, 8, 16, 32], value=16, key="train_batch")
    loss = right.selectbox("Loss", list(LOSSES), format_func=lambda k: f"{k}: {LOSSES[k]}", key="train_loss")
    hard = right.number_input("Hard negatives per query (bi-encoder, unjudged)", 0, 20, 4, key="train_hard")
    random_negatives = right.number_input("Random negatives per query", 0, 20, 1, key="train_random")
    return TrainSettings(
        epochs=int(epochs),
        learning_rate=float(learning_rate),
        batch_size=int(batch_size),
        loss=loss,
        hard_negatives=int(hard),
        random_negatives=int(random_negatives),
    )


def render(stage: FirstStage, settings: Settings, project: Project | None) -> None:
    if project is None:
        return
    qrels, queries, scale = _judgements(stage, project)
    relevant = judged(qrels)
    st.caption(f"{len(relevant)} queries with a relevant judgement, {sum(map(len, qrels.values()))} judgements.")
    if len(relevant) < 2:
        st.info("Fine-tuning needs judgements for at least two queries: one to train on and one to hold out.")
        _watch()
        return
    knobs = _knobs()
    _, default_heldout = split_queries(list(relevant), knobs.heldout_fraction, knobs.seed)
    heldout = st.multiselect(
        "Held-out queries (never trained on; base and tuned are compared on them)",
        list(relevant),
        default=default_heldout,
        key="train_heldout",
        format_func=lambda q: f"{q}: {queries.get(q, '')[:60]}",
    )
    try:
        searcher = resources.searcher(stage, settings)
        data = build_training_data(searcher, queries, qrels, knobs, heldout=heldout, grade_scale=scale)
    except (TrainingError, ModelError) as err:
        st.warning(literal(str(err)))
        return
    st.dataframe(pd.DataFrame([data.summary()]), hide_index=True, width="stretch")
    st.caption(
        f"Starts from {literal(searcher.reranker.name)}. Targets are grade / {data.grade_scale}; negatives are "
        "the bi-encoder's top unjudged documents and random ones."
    )
    job = current_job()
    if st.button("Start fine-tuning", key="start_training", type="primary", disabled=bool(job and job.running)):
        try:
            output = default_output(project.folder, searcher.reranker.name)
            start_training(searcher, queries, data, knobs, output, project.folder)
        except TrainingBusy as err:
            st.warning(literal(str(err)))
        else:
            st.rerun()  # draws the Start button disabled while the job runs
    _watch()
