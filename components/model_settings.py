"""Sidebar panel: which models, and the search knobs."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ranklens.models import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, configured_fallbacks
from ranklens.search import DEFAULT_TOP_N


@dataclass(frozen=True)
class Settings:
    bi_model: str
    ce_model: str
    top_n: int
    top_k: int
    ce_passages: str


def render() -> Settings:
    st.subheader("Models")
    bi_model = st.selectbox("Bi-encoder (retrieval)", [DEFAULT_BI_ENCODER], accept_new_options=True, key="bi_model",
                            help="A hub id or a local folder; type to use another")
    ce_model = st.selectbox("Cross-encoder (reranking)", [DEFAULT_CROSS_ENCODER, *configured_fallbacks()],
                            accept_new_options=True, key="ce_model", help="A hub id or a local folder; type to use another")
    st.subheader("Search")
    top_n = st.number_input("Candidates to rerank (top-N)", 1, 1000, DEFAULT_TOP_N, step=10, key="top_n")
    top_k = st.number_input("Rows to show (top-k)", 1, 100, 10, key="top_k")
    ce_passages = st.radio("Cross-encoder reads", ["best", "max"], horizontal=True, key="ce_passages",
                           format_func={"best": "best passage", "max": "all passages (max)"}.get,
                           help="For chunked documents: the bi-encoder's best passage, or every passage keeping the best")
    return Settings(bi_model, ce_model, int(top_n), int(top_k), ce_passages)
