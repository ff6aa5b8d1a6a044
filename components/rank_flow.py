"""Rank-flow chart: one line per document from its first-stage rank to its reranked rank and its hybrid rank,
coloured by how it moved; hovering shows the title and scores, clicking a point explains the document."""

from __future__ import annotations

import streamlit as st

from components.compact_view import EXPLAIN_DOC
from ranklens.ranking.results import SearchResult
from ranklens.reports.charts import PICK, rank_flow, rank_flow_data

KEY = "rank_flow"


def _picked() -> None:
    picked = st.session_state[KEY].selection.get(PICK) or []
    if picked:
        st.session_state[EXPLAIN_DOC] = picked[0]["doc_id"]


def render(result: SearchResult, top_k: int, height: int = 300) -> None:
    """The chart, about `height` pixels high (the table's beside it), axis and legend included."""
    frame = rank_flow_data(result, top_k)
    if frame.empty:
        return
    spec = rank_flow(top_k, max(200, height - 70))
    st.vega_lite_chart(frame, spec, width="stretch", on_select=_picked, selection_mode=PICK, key=KEY)
    st.caption(
        f"Each line is a document of some ranker's top-{top_k}: green moved up when reranked, red down, blue "
        f"came from below the first stage's top-{top_k} (drawn at {top_k + 1}). Click a point to explain it."
    )
