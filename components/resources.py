"""Models, first stages and searchers, built once per process and shared by every session."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

import streamlit as st

from components.model_settings import Settings
from ranklens.corpus.corpus import Corpus
from ranklens.index.base import FirstStage
from ranklens.index.registry import build_first_stage
from ranklens.models.embedder import Embedder
from ranklens.models.loading import load_embedder, load_reranker
from ranklens.models.reranker import Reranker
from ranklens.progress import OnProgress
from ranklens.ranking.search import Searcher

MAX_STAGES = 6


@st.cache_resource(show_spinner="Loading the bi-encoder…")
def embedder(name: str, backend: str = "torch") -> Embedder:
    return load_embedder(name, backend=backend)


@st.cache_resource(show_spinner="Loading the cross-encoder…")
def reranker(name: str, backend: str = "torch") -> Reranker:
    return load_reranker(name, backend=backend)


# First stages are kept in a plain process-wide cache rather than st.cache_resource: building one reports its
# progress to a bar the page drew, which st.cache_resource forbids inside a cached function.
_stages: OrderedDict[tuple, FirstStage] = OrderedDict()
_stages_lock = threading.Lock()


def first_stage(
    corpus: Corpus, settings: Settings, name: str | None = None, progress: OnProgress | None = None
) -> FirstStage:
    """The corpus's first stage for these settings (`name`: another engine with the same knobs): built once, with
    `progress` hearing the embedding, then shared by every session."""
    stage = settings.first if name is None else replace(settings.first, name=name)
    key = (corpus.content_hash(), stage, settings.bi_model, settings.bi_backend)
    with _stages_lock:
        if key in _stages:
            _stages.move_to_end(key)
            return _stages[key]
    built = build_first_stage(stage, corpus, embedder(settings.bi_model, settings.bi_backend), progress)
    with _stages_lock:
        _stages[key] = built
        while len(_stages) > MAX_STAGES:
            _stages.popitem(last=False)[1].close()
    return built


@st.cache_resource(max_entries=8)
def _searcher(
    first_key: str, ce_model: str, backend: str, ce_batch: int, ce_max_tokens: int | None, _first: FirstStage
) -> Searcher:
    return Searcher(_first, reranker(ce_model, backend), ce_batch_size=ce_batch, ce_max_tokens=ce_max_tokens)


def searcher(first: FirstStage, settings: Settings, backend: str | None = None) -> Searcher:
    """One searcher per first stage, cross-encoder, backend, batch size and token budget. `backend` overrides the
    cross-encoder backend (fp32 for an agreement check)."""
    return _searcher(
        first.key, settings.ce_model, backend or settings.backend, settings.ce_batch, settings.ce_max_tokens, first
    )
