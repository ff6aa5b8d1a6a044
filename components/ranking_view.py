"""One ranking as rows: rank, rank shift, score, and the document's text shown literally."""

from __future__ import annotations

import streamlit as st

from components import grading
from components.text import literal, shorten
from ranklens.corpus import Document
from ranklens.results import Candidate, SearchResult

SCORE_LABELS = {"bi": "cosine", "ce": "logit", "hybrid": "score"}
PREVIEW_CHARS = 220


def _shift_markdown(result: SearchResult, candidate: Candidate, ranker: str, top_k: int) -> str:
    if ranker == "bi":
        return ""
    label = result.shift(candidate, ranker, top_k).label
    color = {"=": "gray", "new": "blue"}.get(label, "green" if label.startswith("▲") else "red")
    return f":{color}[**{label}**]"


def render(
    result: SearchResult,
    ranker: str,
    top_k: int,
    labels: grading.LabelContext | None = None,
    grades: dict[str, int | None] | None = None,
) -> None:
    """The top-k of one ranker; with a label context, each row gets the one-click grade control."""
    for position, candidate in enumerate(result.ranking(ranker)[:top_k], start=1):
        with st.container(border=True):
            heading = literal(shorten(candidate.title or candidate.text, 90))
            score = candidate.score(ranker)
            st.markdown(
                f"**{position}.** {_shift_markdown(result, candidate, ranker, top_k)} "
                f"`{score:.3f}` {SCORE_LABELS[ranker]} · **{heading}**"
            )
            badges = f"id {literal(candidate.doc_id)}"
            if candidate.coverage != "whole text":
                badges += f" · :orange-badge[{literal(candidate.coverage)}]"
            st.caption(badges)
            if len(candidate.text) <= PREVIEW_CHARS:
                st.markdown(literal(candidate.text))
            else:
                st.markdown(literal(shorten(candidate.text, PREVIEW_CHARS)))
                with st.expander("Whole text"):
                    st.markdown(literal(candidate.text))
            if labels is not None:
                doc = Document(id=candidate.doc_id, title=candidate.title, text=candidate.text)
                grading.render(labels, doc, ranker, grades or {})
