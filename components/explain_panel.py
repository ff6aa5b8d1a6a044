"""Explain a document: the passage the cross-encoder read (its cut-off tail greyed, query terms in bold), each
word's contribution to the cross-encoder's logit and to the bi-encoder's cosine by occlusion, as colours over
the text and as heat strips, and one line saying why the document moved. Corpus text is escaped throughout."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import grading
from components.compact_view import EXPLAIN_DOC
from components.text import literal, shorten
from ranklens.corpus.corpus import Document
from ranklens.models.embedder import Embedder
from ranklens.models.reranker import Reranker
from ranklens.ranking.explain import DEFAULT_WORDS, Explanation, Token, explain
from ranklens.ranking.results import SearchResult
from ranklens.reports.charts import heat_strip

EXPLAIN_QUERY = "explain_query"
STRONG, WEAK = 0.5, 0.2  # shares of the largest contribution that colour a word's background, or its letters


def _word(token: Token, largest: float) -> str:
    text = literal(token.text)
    if not token.read:
        return f":gray[{text}]"
    if token.query_term:
        text = f"**{text}**"
    if token.contribution is None or largest == 0:
        return text
    share = token.contribution / largest
    colour = "green" if share > 0 else "red"
    if abs(share) >= STRONG:
        return f":{colour}-background[{text}]"
    return f":{colour}[{text}]" if abs(share) >= WEAK else text


def highlighted(explanation: Explanation) -> str:
    """The passage as Markdown: green helps the cross-encoder's score, red hurts it, grey was cut off."""
    measured = [abs(t.contribution) for t in explanation.tokens if t.contribution is not None]
    largest = max(measured, default=0.0)
    return " ".join(_word(token, largest) for token in explanation.tokens)


def strip(explanation: Explanation, field: str) -> None:
    """A heat strip: one cell per measured word, coloured by its contribution."""
    frame = pd.DataFrame(
        [
            {"position": i, "word": t.text, "contribution": getattr(t, field)}
            for i, t in enumerate(explanation.tokens)
            if getattr(t, field) is not None
        ]
    )
    largest = float(frame["contribution"].abs().max()) if len(frame) else 1.0
    st.vega_lite_chart(frame, heat_strip(largest or 1.0), width="stretch")


def _choose(result: SearchResult, top_k: int) -> str:
    shown = [
        c
        for c in result.ranking("ce")
        if c.doc_id in {x.doc_id for r in ("bi", "ce", "hybrid") for x in result.ranking(r)[:top_k]}
    ]
    ids = [c.doc_id for c in shown]
    if st.session_state.get(EXPLAIN_DOC) not in ids or st.session_state.get(EXPLAIN_QUERY) != result.query:
        st.session_state[EXPLAIN_DOC] = ids[0]  # a new query starts at its reranked top document
        st.session_state[EXPLAIN_QUERY] = result.query
    titles = {c.doc_id: shorten(c.title or c.text, 80) for c in shown}
    return st.selectbox("Explain", ids, key=EXPLAIN_DOC, format_func=lambda d: f"{titles[d]} ({d})")


def render(
    result: SearchResult,
    top_k: int,
    reranker: Reranker,
    embedder: Embedder,
    labels: grading.LabelContext | None,
    grades: dict[str, int | None] | None,
    max_tokens: int | None = None,
) -> None:
    st.markdown("#### Why it moved")
    doc_id = _choose(result, top_k)
    candidate = next(c for c in result.candidates if c.doc_id == doc_id)
    with st.spinner(f"Scoring the passage without each of its first {DEFAULT_WORDS} words…"):
        explanation = explain(
            reranker,
            embedder,
            result.query,
            doc_id,
            candidate.passage,
            shift=result.shift(candidate, "ce", top_k),
            max_tokens=max_tokens,
        )
    st.markdown(f"**{literal(shorten(candidate.title or candidate.text, 100))}** — {literal(explanation.summary)}")
    if labels is not None:
        grading.render(labels, Document(doc_id, candidate.text, candidate.title), "explain", grades or {})
    read = (
        "the whole passage"
        if explanation.window_end >= len(explanation.passage)
        else f"the first {explanation.window_end} of {len(explanation.passage)} characters (the rest, grey, was cut "
        f"off by its {reranker.budget(max_tokens)}-token budget)"
    )
    which = f" of the best of its {candidate.passage_count} passages" if candidate.passage_count > 1 else ""
    st.caption(
        f"First stage rank {candidate.bi_rank}, reranked {candidate.ce_rank}, hybrid {candidate.hybrid_rank}. "
        f"Cross-encoder logit {explanation.score:.3f} ({literal(reranker.name)}), bi-encoder cosine "
        f"{explanation.bi_score:.3f}. The cross-encoder read {read}{which}. Green words raise its "
        "score, red ones lower it (the difference without the word); bold ones are query terms."
    )
    st.markdown(highlighted(explanation))
    # the titles as captions: a title inside so short a chart takes the height its cells need
    for field, title in (
        (
            "contribution",
            "Cross-encoder: logit change without each word (green raises it, red lowers it; hover for the word)",
        ),
        ("bi_contribution", "Bi-encoder: cosine change without each word"),
    ):
        st.caption(title)
        strip(explanation, field)
