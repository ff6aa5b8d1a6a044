"""Compact comparison: one row per document of any ranker's top-k, every ranker's rank with its shift, score bars,
the grade and the coverage badge; ten ranks of all rankers on one screen. Selecting a row explains it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from components.grading import label_of
from components.text import shorten
from ranklens.ranking.fusion import sigmoid
from ranklens.ranking.results import SearchResult, SideRanking

EXPLAIN_DOC = "explain_doc"  # the document the explain panel shows
TITLE_CHARS = 40
FIRST_SCORE = "first-stage score"  # shown under the first stage's score name (cosine, BM25…), apart from its rank
ROW_PX = 26
HEADER_PX = 36


def height_of(rows: int) -> int:
    """The table's height in pixels for this many rows: all of them, no inner scrolling, up to 40."""
    return HEADER_PX + ROW_PX * min(rows, 40)


def _rank(rank: int, shift: str) -> str:
    return f"{rank} {shift}".strip() if shift not in ("", "=") else str(rank)


def table(
    result: SearchResult, top_k: int, grades: dict[str, int | None] | None, side: SideRanking | None = None
) -> pd.DataFrame:
    """The rows the compact view shows: documents in any ranker's top-k (the compared first stage's included), by
    reranked rank. Every rank column first, then the grade (where a rater is named) and the id, then the bars."""
    side_entries = {entry.doc_id: entry for entry in side.entries} if side else {}
    shown = {c.doc_id for r in ("bi", "ce", "hybrid") for c in result.ranking(r)[:top_k]} | set(side_entries)
    candidates = sorted((c for c in result.candidates if c.doc_id in shown), key=lambda c: c.ce_rank)
    bi = np.array([c.bi_score for c in result.candidates])
    low, high = (float(bi.min()), float(bi.max())) if len(bi) else (0.0, 1.0)
    rows = []
    for c in candidates:
        row = {"document": shorten(c.title or c.text, TITLE_CHARS), result.first_label: c.bi_rank}
        if side is not None:
            entry = side_entries.get(c.doc_id)
            row[side.label] = _rank(entry.rank, entry.shift.label) if entry else ""
        row |= {
            "reranked": _rank(c.ce_rank, result.shift(c, "ce", top_k).label),
            "hybrid": _rank(c.hybrid_rank, result.shift(c, "hybrid", top_k).label),
        }
        if grades is not None:
            row["grade"] = label_of(grades[c.doc_id]) if c.doc_id in grades else ""
        row |= {
            "id": c.doc_id,
            FIRST_SCORE: (c.bi_score - low) / (high - low) if high > low else 1.0,
            "CE (sigmoid)": float(sigmoid(c.ce_score)),
            "hybrid score": c.hybrid_score,
            "read": c.coverage if c.coverage != "whole text" else "",
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _config(frame: pd.DataFrame, result: SearchResult, side: SideRanking | None) -> dict:
    bar = st.column_config.ProgressColumn
    compared = {}
    if side is not None:
        compared[side.label] = st.column_config.TextColumn(
            shorten(side.label, 14),
            width="small",
            help="rank in the compared first stage, and its change against "
            "the first stage's (new: it entered the top-k from outside the first stage's)",
        )
    return {
        "document": st.column_config.TextColumn("document", width="medium"),
        result.first_label: st.column_config.NumberColumn(
            shorten(result.first_label, 14), width="small", help="rank in the first stage"
        ),
        **compared,
        "reranked": st.column_config.TextColumn(
            "reranked",
            width="small",
            help="rank, and its change against the first stage's (new: it entered the top-k from outside it)",
        ),
        "hybrid": st.column_config.TextColumn("hybrid", width="small"),
        "grade": st.column_config.TextColumn("grade", width="small"),
        "id": st.column_config.TextColumn("id", width="small"),
        FIRST_SCORE: bar(
            shorten(result.first_score_name, 10),
            min_value=0.0,
            max_value=1.0,
            format=" ",
            width="small",
            help="the first stage's score, scaled to the candidates",
        ),
        "CE (sigmoid)": bar(
            "CE", min_value=0.0, max_value=1.0, format=" ", width="small", help="sigmoid of the cross-encoder's logit"
        ),
        "hybrid score": bar(
            "hybrid",
            min_value=float(frame["hybrid score"].min()) if len(frame) else 0.0,
            max_value=float(frame["hybrid score"].max()) if len(frame) else 1.0,
            format=" ",
            width="small",
        ),
        "read": st.column_config.TextColumn("read", width="small", help="chunked or truncated: what the models saw"),
    }


def _picked(key: str, ids: list[str]) -> None:
    rows = st.session_state[key].selection.rows
    if rows:
        st.session_state[EXPLAIN_DOC] = ids[rows[0]]


def render(
    result: SearchResult, top_k: int, grades: dict[str, int | None] | None, side: SideRanking | None = None
) -> int:
    """The comparison table; a selected row becomes the document the explain panel shows. Returns its rows."""
    frame = table(result, top_k, grades, side)
    key = f"compare_table|{result.query}|{result.alpha}|{result.fusion_method}"
    ids = list(frame["id"])
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config=_config(frame, result, side),
        row_height=ROW_PX,
        height=height_of(len(frame)),
        on_select=lambda: _picked(key, ids),
        selection_mode="single-row",
        key=key,
    )
    st.caption(
        f"Every document in any ranker's top-{top_k}, by reranked rank; click a column to sort, a row to "
        "explain it. Scores as bars: the first stage's scaled to these candidates, the cross-encoder's logit "
        "through a sigmoid."
    )
    return len(frame)
