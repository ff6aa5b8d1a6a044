"""Fine-tuning panel: training data from the labels, knobs, a background run with live progress, base vs tuned."""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass

import altair as alt
import pandas as pd
import streamlit as st

from components import resources
from components.model_settings import Settings
from components.project_settings import Project
from ranklens.evaluate import judged
from ranklens.index import CorpusIndex
from ranklens.models.loading import ModelError
from ranklens.train import (
    LOSSES,
    TrainingData,
    TrainingError,
    TrainingProgress,
    TrainResult,
    TrainSettings,
    build_training_data,
    default_output,
    split_queries,
    train,
)

TRAINING = "training_job"
SOURCES = ("labels in this project", "the corpus's own qrels")


@dataclass
class Job:
    """A training run in a background thread; the page only reads it."""

    progress: TrainingProgress
    thread: threading.Thread | None = None
    result: TrainResult | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


def _run(job: Job, searcher, queries, data: TrainingData, settings: TrainSettings, output) -> None:
    try:
        job.result = train(searcher, queries, data, settings, output, job.progress)
    except Exception as err:  # noqa: BLE001 -- the page shows what went wrong; the thread must not die silently
        job.error = f"{type(err).__name__}: {err}"
        job.progress.state = "failed"
        traceback.print_exc()


@st.fragment(run_every=1.0)
def _watch() -> None:
    """Redraws itself every second while the job runs; the rest of the app stays usable."""
    job: Job | None = st.session_state.get(TRAINING)
    if job is None:
        return
    progress = job.progress
    share = progress.step / progress.total_steps if progress.total_steps else 0.0
    loss = f", loss {progress.loss:.4f}" if progress.loss is not None else ""
    st.progress(
        min(1.0, share),
        text=f"{progress.state}: step {progress.step} of {progress.total_steps or '?'}"
        f", epoch {progress.epoch:.2f}{loss}",
    )
    if progress.history:
        history = pd.DataFrame(progress.history)
        st.dataframe(history, hide_index=True, width="stretch")
        st.altair_chart(
            alt.Chart(history)
            .mark_line(point=True)
            .encode(
                x=alt.X("epoch:O", title="epoch (0 = base model)"),
                y=alt.Y("held-out ndcg@10:Q", scale=alt.Scale(zero=False)),
            ),
            width="stretch",
        )
    if job.running:
        st.button("Cancel training", key="cancel_training", on_click=progress.cancel.set)
    elif job.error:
        st.error(f"Training failed: {job.error}")
    elif job.result is not None:
        result = job.result
        st.markdown("#### Base vs tuned, held-out queries")
        st.dataframe(result.comparison.style.format("{:.4f}"), width="stretch")
        (st.success if result.best_epoch and "better" in result.verdict else st.warning)(result.verdict)
        st.caption(
            f"Saved to {result.model_dir} with a model card (RANKLENS_MODEL_CARD.md); pick it in the sidebar's "
            "cross-encoder list to search with it."
        )


def render(index: CorpusIndex, settings: Settings, project: Project | None) -> None:
    if project is None:
        return
    corpus = index.corpus
    source = st.radio(
        "Train on", [s for s in SOURCES if s != SOURCES[1] or corpus.qrels], horizontal=True, key="train_source"
    )
    if source == SOURCES[0]:
        qrels, scale = project.store.qrels(corpus.name), 3
        queries = {**corpus.queries, **project.store.queries(corpus.name)}
    else:
        qrels, scale, queries = corpus.qrels, None, corpus.queries
    relevant = judged(qrels)
    st.caption(f"{len(relevant)} queries with a relevant judgement, {sum(map(len, qrels.values()))} judgements.")
    if len(relevant) < 2:
        st.info("Fine-tuning needs judgements for at least two queries: one to train on and one to hold out.")
        return

    left, right = st.columns(2)
    epochs = left.number_input("Epochs", 1, 20, 2, key="train_epochs")
    learning_rate = left.select_slider("Learning rate", [5e-6, 1e-5, 2e-5, 3e-5, 5e-5], value=2e-5, key="train_lr")
    batch_size = left.select_slider("Batch size", [4, 8, 16, 32], value=16, key="train_batch")
    loss = right.selectbox("Loss", list(LOSSES), format_func=lambda k: f"{k}: {LOSSES[k]}", key="train_loss")
    hard = right.number_input("Hard negatives per query (bi-encoder, unjudged)", 0, 20, 4, key="train_hard")
    random_negatives = right.number_input("Random negatives per query", 0, 20, 1, key="train_random")
    knobs = TrainSettings(
        epochs=int(epochs),
        learning_rate=float(learning_rate),
        batch_size=int(batch_size),
        loss=loss,
        hard_negatives=int(hard),
        random_negatives=int(random_negatives),
    )
    _, default_heldout = split_queries(list(relevant), knobs.heldout_fraction, knobs.seed)
    heldout = st.multiselect(
        "Held-out queries (never trained on; base and tuned are compared on them)",
        list(relevant),
        default=default_heldout,
        key="train_heldout",
        format_func=lambda q: f"{q}: {queries.get(q, '')[:60]}",
    )
    job: Job | None = st.session_state.get(TRAINING)
    try:
        searcher = resources.searcher(index, settings)
        data = build_training_data(searcher, queries, qrels, knobs, heldout=heldout, grade_scale=scale)
    except (TrainingError, ModelError) as err:
        st.warning(str(err))
        return
    st.dataframe(pd.DataFrame([data.summary()]), hide_index=True, width="stretch")
    st.caption(
        f"Starts from {searcher.reranker.name}. Targets are grade / {data.grade_scale}; negatives are the "
        "bi-encoder's top unjudged documents and random ones."
    )
    if st.button("Start fine-tuning", key="start_training", type="primary", disabled=bool(job and job.running)):
        job = Job(TrainingProgress())
        output = default_output(project.store.path.parent, searcher.reranker.name)
        job.thread = threading.Thread(
            target=_run, args=(job, searcher, queries, data, knobs, output), daemon=True, name="ranklens-training"
        )
        st.session_state[TRAINING] = job
        job.thread.start()
    _watch()
