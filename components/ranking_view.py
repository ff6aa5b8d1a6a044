"""One ranking as rows: rank, rank shift, score, and the document's text shown literally."""

from __future__ import annotations

import streamlit as st

from components import grading
from components.text import literal, shorten
from ranklens.corpus.corpus import Corpus, Document
from ranklens.ranking.results import SearchResult, SideRanking

SCORE_LABELS = {"ce": "logit", "hybrid": "score"}  # the first stage's is its own (cosine, BM25, ...)
PREVIEW_CHARS = 220


def _shift_markdown(label: str) -> str:
    if not label:
        return ""
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
            shift = "" if ranker == "bi" else result.shift(candidate, ranker, top_k).label
            score_name = SCORE_LABELS.get(ranker, result.first_score_name)
            st.markdown(f"**{position}.** {_shift_markdown(shift)} `{score:.3f}` {score_name} · **{heading}**")
            badges = f"id {literal(candidate.doc_id)}"
            if candidate.coverage != "whole text":
                badges += f" · :orange-badge[{literal(candidate.coverage)}]"
            st.caption(badges)
            _text(candidate.text)
            if labels is not None:
                doc = Document(id=candidate.doc_id, title=candidate.title, text=candidate.text)
                grading.render(labels, doc, ranker, grades or {})


def _text(text: str) -> None:
    if len(text) <= PREVIEW_CHARS:
        st.markdown(literal(text))
    else:
        st.markdown(literal(shorten(text, PREVIEW_CHARS)))
        with st.expander("Whole text"):
            st.markdown(literal(text))


def render_side(side: SideRanking, corpus: Corpus) -> None:
    """Another first stage's ranking, with shifts against the main first stage's ranks."""
    for entry in side.entries:
        doc = corpus.get(entry.doc_id)
        with st.container(border=True):
            heading = literal(shorten(doc.title or doc.text, 90))
            st.markdown(
                f"**{entry.rank}.** {_shift_markdown(entry.shift.label)} `{entry.score:.3f}` "
                f"{literal(side.score_name)} · **{heading}**"
            )
            st.caption(f"id {literal(doc.id)}")
            _text(doc.text)
