"""Focused labelling: the pooled candidates of a query, one at a time, in random order, scores hidden."""

from __future__ import annotations

import streamlit as st

from components import grading
from components.project_settings import Project
from components.search_panel import label_context
from components.text import literal
from ranklens.corpus import Corpus, Document
from ranklens.labels import GRADES
from ranklens.queue import pool
from ranklens.results import SearchResult

POSITION = "focus_position"


def _grade_and_next(context: grading.LabelContext, doc, choice: str, note_key: str, pooled: list[str]) -> None:
    grading.record(context, doc, choice, st.session_state.get(note_key, ""))
    st.session_state.pop(note_key, None)
    judged = set(context.current())
    following = [i for i, doc_id in enumerate(pooled) if doc_id not in judged]
    st.session_state[POSITION] = following[0] if following else len(pooled) - 1


def render(result: SearchResult | None, corpus: Corpus, project: Project | None, top_k: int) -> None:
    if result is None:
        st.info("Run a query in the Search tab: its candidates are labelled here.")
        return
    context = label_context(project, corpus, result.query)
    if context is None:
        st.info("Enter your name as rater in the sidebar to start labelling.")
        return
    pooled = pool(
        [[c.doc_id for c in result.ranking(r)[:top_k]] for r in ("bi", "ce", "hybrid")], seed=context.query_id
    )
    grades = context.current()
    done = sum(doc_id in grades for doc_id in pooled)
    st.markdown(f"**{literal(result.query)}**")
    st.progress(
        done / len(pooled), text=f"{done} of {len(pooled)} pooled candidates judged by {literal(context.rater)}"
    )
    st.caption(
        f"The union of the bi-encoder, reranked and hybrid top-{top_k}, shuffled, with scores and ranks hidden "
        "so that no ranker's order sways the judgement."
    )
    pool_key = (context.corpus, context.query_id, context.rater, tuple(pooled))
    if st.session_state.get(f"{POSITION}_for") != pool_key:
        st.session_state[f"{POSITION}_for"] = pool_key
        unjudged = [i for i, doc_id in enumerate(pooled) if doc_id not in grades]
        st.session_state[POSITION] = unjudged[0] if unjudged else 0
    position = st.session_state[POSITION]
    candidate = next(c for c in result.candidates if c.doc_id == pooled[position])
    doc = Document(id=candidate.doc_id, title=candidate.title, text=candidate.text)

    with st.container(border=True):
        st.caption(f"Document {position + 1} of {len(pooled)}")
        if candidate.title:
            st.markdown(f"##### {literal(candidate.title)}")
        st.markdown(literal(candidate.text))
        if doc.id in grades:
            grade = grades[doc.id]
            st.caption(f"Your grade: **{grading.CANT_RATE if grade is None else GRADES[grade][0]}**")
    note_key = f"note|{context.query_id}|{doc.id}"
    st.text_input("Note (optional, saved with the grade)", key=note_key)
    buttons = st.columns(len(grading.OPTIONS))
    for column, choice in zip(buttons, grading.OPTIONS):
        meaning = dict(GRADES.values()).get(choice, "you cannot tell")
        column.button(
            choice,
            key=f"focus|{choice}",
            help=meaning,
            width="stretch",
            on_click=_grade_and_next,
            args=(context, doc, choice, note_key, pooled),
        )
    back, forward = st.columns(2)
    back.button(
        "◀ Previous",
        key="focus_previous",
        disabled=position == 0,
        width="stretch",
        on_click=lambda: st.session_state.update({POSITION: position - 1}),
    )
    forward.button(
        "Next ▶",
        key="focus_next",
        disabled=position == len(pooled) - 1,
        width="stretch",
        on_click=lambda: st.session_state.update({POSITION: position + 1}),
    )
