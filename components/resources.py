"""Models and searchers, loaded once per process behind st.cache_resource."""

from __future__ import annotations

import streamlit as st

from ranklens.index import CorpusIndex
from ranklens.models import Embedder, Reranker, load_embedder, load_reranker
from ranklens.search import Searcher


@st.cache_resource(show_spinner="Loading the bi-encoder…")
def embedder(name: str) -> Embedder:
    return load_embedder(name)


@st.cache_resource(show_spinner="Loading the cross-encoder (an ONNX backend is exported once, then cached)…")
def reranker(name: str, backend: str = "torch") -> Reranker:
    return load_reranker(name, backend=backend)


@st.cache_resource(max_entries=8)
def searcher(index_key: str, bi_model: str, ce_model: str, _index: CorpusIndex, backend: str = "torch") -> Searcher:
    """One searcher per index, models and backend, so its cross-encoder score cache outlives reruns and sessions."""
    return Searcher(_index, embedder(bi_model), reranker(ce_model, backend))
