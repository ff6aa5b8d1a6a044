"""Rank-flow chart: one line per document from its first-stage rank to its reranked rank and its hybrid rank,
coloured by how it moved; hovering shows the title and scores, clicking a line explains the document."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from components.compact_view import EXPLAIN_DOC
from components.text import shorten
from ranklens.results import SearchResult

STAGES = ["first stage", "reranked", "hybrid"]
COLOURS = {"up": "#2e7d32", "down": "#c62828", "new": "#1565c0", "same": "#9e9e9e"}
KEY = "rank_flow"


def movement(first_rank: int, reranked_rank: int, top_k: int) -> str:
    if first_rank > top_k:
        return "new"
    return "up" if reranked_rank < first_rank else "down" if reranked_rank > first_rank else "same"


def data(result: SearchResult, top_k: int) -> pd.DataFrame:
    """Long form: a row per document and stage, ranks past the top-k drawn at top-k + 1 ("below")."""
    shown = {c.doc_id for r in ("bi", "ce", "hybrid") for c in result.ranking(r)[:top_k]}
    rows = []
    for c in (c for c in result.candidates if c.doc_id in shown):
        move = movement(c.bi_rank, c.ce_rank, top_k)
        for stage, rank, score in zip(
            STAGES, (c.bi_rank, c.ce_rank, c.hybrid_rank), (c.bi_score, c.ce_score, c.hybrid_score)
        ):
            rows.append(
                {
                    "doc_id": c.doc_id,
                    "title": shorten(c.title or c.text, 80),
                    "stage": stage,
                    "rank": rank,
                    "drawn at": min(rank, top_k + 1),
                    "score": score,
                    "movement": move,
                }
            )
    return pd.DataFrame(rows)


def chart(frame: pd.DataFrame, top_k: int, height: int = 300) -> alt.LayerChart:
    pick = alt.selection_point(fields=["doc_id"], name="pick", on="click")
    colour = alt.Color(
        "movement:N",
        scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values())),
        legend=alt.Legend(orient="bottom", title=None),
    )
    base = alt.Chart(frame).encode(
        x=alt.X("stage:N", sort=STAGES, title=None, axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y(
            "drawn at:Q",
            scale=alt.Scale(domain=[top_k + 1, 1]),
            title="rank",
            axis=alt.Axis(values=list(range(1, top_k + 1)), tickMinStep=1),
        ),
        detail="doc_id:N",
        color=colour,
        tooltip=["title:N", "stage:N", "rank:Q", alt.Tooltip("score:Q", format=".3f"), "doc_id:N"],
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
    )
    lines = base.mark_line(strokeWidth=3)
    points = base.mark_circle(size=120).add_params(pick)
    return (lines + points).properties(height=height)


def _picked() -> None:
    picked = st.session_state[KEY].selection.get("pick") or []
    if picked:
        st.session_state[EXPLAIN_DOC] = picked[0]["doc_id"]


def render(result: SearchResult, top_k: int, height: int = 300) -> None:
    """The chart, about `height` pixels high (the table's beside it), axis and legend included."""
    frame = data(result, top_k)
    if frame.empty:
        return
    st.altair_chart(
        chart(frame, top_k, max(200, height - 70)), width="stretch", on_select=_picked, selection_mode="pick", key=KEY
    )
    st.caption(
        f"Each line is a document of some ranker's top-{top_k}: green moved up when reranked, red down, blue "
        f"came from below the first stage's top-{top_k} (drawn at {top_k + 1}). Click a point to explain it."
    )
