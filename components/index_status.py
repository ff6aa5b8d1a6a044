"""Index panel: builds the corpus's first stage with a progress bar (or loads it from the disk cache at once),
and says what it costs in accuracy: an approximate index's recall against the flat one, a bi-encoder backend's
cosine with fp32."""

from __future__ import annotations

import time

import streamlit as st

from components import resources
from components.model_settings import Settings
from components.text import literal
from ranklens.backends.registry import MIN_INDEX_COSINE
from ranklens.corpus.corpus import Corpus
from ranklens.index.base import FirstStage, RetrievalError
from ranklens.index.dense import ann_recall, recall_queries
from ranklens.index.passage_tokens import fill_passage_tokens
from ranklens.models.embedder import embedding_agreement
from ranklens.models.loading import ModelError

AGREEMENT_SAMPLE = 32  # passages embedded twice to measure a backend against fp32; about a second
RECALL_AT = 100


@st.cache_data(show_spinner="Measuring the bi-encoder backend against torch fp32…")
def _agreement(stage_key: str, bi_model: str, bi_backend: str, _texts: list[str]) -> tuple[float, float]:
    return embedding_agreement(resources.embedder(bi_model, bi_backend), resources.embedder(bi_model), _texts)


@st.cache_data(show_spinner="Measuring the approximate index's recall against the flat index…")
def _recall(stage_key: str, flat_key: str, _stage: FirstStage, _flat: FirstStage) -> tuple[float, int]:
    queries = recall_queries(_stage.embeddings)
    return ann_recall(_stage, _flat, queries, RECALL_AT), len(queries)


def _build(corpus: Corpus, settings: Settings) -> FirstStage:
    bar = st.empty()

    def report(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Indexing: passage {done} of {total}")

    def report_tokens(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Tokenizing passages for the cross-encoder: {done} of {total}")

    try:
        stage = resources.first_stage(corpus, settings, progress=report)
        fill_passage_tokens(stage, settings.ce_model, report_tokens)  # once per index: a lookup after that
        return stage
    finally:
        bar.empty()


def _caption(stage: FirstStage, settings: Settings, seconds: float) -> None:
    embeddings = getattr(stage, "embeddings", None)
    if embeddings is not None:
        how = "loaded from the disk cache" if embeddings.from_cache else "embedded"
        made = f"{how} in {embeddings.seconds:.1f} s with {literal(settings.bi_model)} ({stage.embedder.backend})"
    else:
        made = f"ready in {seconds:.1f} s"
    st.caption(
        f"Index: {len(stage.corpus)} documents, {len(stage.passages)} passages ({made}) · first stage "
        f"**{literal(stage.label)}** ({stage.name})"
    )


def _accuracy(stage: FirstStage, corpus: Corpus, settings: Settings) -> None:
    if stage.name in ("faiss-hnsw", "faiss-ivf"):
        flat = resources.first_stage(corpus, settings, name="faiss")
        recall, queries = _recall(stage.key, flat.key, stage, flat)
        st.caption(
            f"{stage.name} recall@{RECALL_AT} against the flat index: {recall:.3f} over {queries} queries "
            "(approximate search: documents the exact search finds and this one misses)"
        )
    embedder = resources.embedder(settings.bi_model, settings.bi_backend)
    if embedder.backend_note:
        st.warning(literal(embedder.backend_note))
    elif embedder.backend != "torch" and getattr(stage, "embeddings", None) is not None:
        texts = stage.passages.texts(range(min(AGREEMENT_SAMPLE, len(stage.passages))))
        lowest, mean = _agreement(stage.key, settings.bi_model, settings.bi_backend, texts)
        measured = (
            f"Bi-encoder backend {embedder.backend}: cosine with torch fp32 embeddings of the first "
            f"{len(texts)} passages, lowest {lowest:.4f}, mean {mean:.4f}"
        )
        if lowest < MIN_INDEX_COSINE:
            st.warning(
                f"{measured}, under {MIN_INDEX_COSINE}: this index may retrieve other documents than fp32's. "
                "torch or torch-bf16 keep the embeddings."
            )
        else:
            st.caption(measured + ".")


def render(corpus: Corpus, settings: Settings) -> FirstStage | None:
    """The corpus's first stage, built (or loaded) for the sidebar's settings; None when it cannot be."""
    started = time.perf_counter()
    try:
        stage = _build(corpus, settings)
    except (ModelError, RetrievalError, OSError) as err:
        st.error(f"The first stage cannot be built: {literal(str(err))}")
        return None
    _caption(stage, settings, time.perf_counter() - started)
    _accuracy(stage, corpus, settings)
    return stage
