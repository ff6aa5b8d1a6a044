"""Models and searchers, loaded once per process behind st.cache_resource."""

from __future__ import annotations

import streamlit as st

from components.model_settings import Settings
from ranklens.index import CorpusIndex
from ranklens.models.embedder import Embedder
from ranklens.models.loading import load_embedder, load_reranker
from ranklens.models.reranker import Reranker
from ranklens.search import Searcher


@st.cache_resource(show_spinner="Loading the bi-encoder (an ONNX or OpenVINO backend is exported once, then cached)…")
def embedder(name: str, backend: str = "torch") -> Embedder:
    return load_embedder(name, backend=backend)


@st.cache_resource(
    show_spinner="Loading the cross-encoder (an ONNX or OpenVINO backend is exported once, then cached)…"
)
def reranker(name: str, backend: str = "torch") -> Reranker:
    return load_reranker(name, backend=backend)


@st.cache_resource(max_entries=8)
def _searcher(
    index_key: str, bi_model: str, bi_backend: str, ce_model: str, backend: str, ce_batch: int, _index: CorpusIndex
) -> Searcher:
    return Searcher(_index, embedder(bi_model, bi_backend), reranker(ce_model, backend), ce_batch_size=ce_batch)


def searcher(index: CorpusIndex, settings: Settings, backend: str | None = None) -> Searcher:
    """One searcher per index, models, backends and batch size, so its cross-encoder score cache outlives reruns
    and sessions. `backend` overrides the cross-encoder backend (torch fp32 for an agreement check)."""
    return _searcher(
        index.key,
        settings.bi_model,
        settings.bi_backend,
        settings.ce_model,
        backend or settings.backend,
        settings.ce_batch,
        index,
    )
