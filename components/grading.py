"""The one-click grade control: Poor / Fair / Good / Perfect / Can't rate, saved the moment it is clicked."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ranklens.corpus import Document
from ranklens.labels import GRADES, LabelStore

CANT_RATE = "Can't rate"
OPTIONS = [name for name, _ in GRADES.values()] + [CANT_RATE]
GRADE_OF = {name: grade for grade, (name, _) in GRADES.items()} | {CANT_RATE: None}
HELP = " · ".join(f"{name}: {meaning}" for name, meaning in GRADES.values())
PLACES = ("bi", "ce", "hybrid")  # every place a document's control can be on the page


@dataclass(frozen=True)
class LabelContext:
    store: LabelStore
    corpus: str
    query_id: str
    query: str
    rater: str

    def key(self, place: str, doc_id: str) -> str:
        return f"grade|{place}|{self.corpus}|{self.query_id}|{doc_id}"

    def current(self) -> dict[str, int | None]:
        """This rater's grades for this query, straight from the database (so a refresh shows them)."""
        return {j.doc_id: j.grade for j in self.store.judgements(self.corpus, self.query_id, self.rater)}


def record(context: LabelContext, doc: Document, choice: str | None, note: str = "") -> None:
    """Save (or, for None, forget) this rater's grade, and show it on every control of the document."""
    if choice is None:
        context.store.forget(context.corpus, context.query_id, doc.id, context.rater)
    else:
        context.store.judge(context.corpus, context.query_id, context.query, doc, GRADE_OF[choice], context.rater, note)
    for place in PLACES:
        st.session_state[context.key(place, doc.id)] = choice


def _on_click(context: LabelContext, doc: Document, key: str) -> None:
    # clicking the selected grade again unselects it, which forgets the judgement
    record(context, doc, st.session_state.get(key))


def render(context: LabelContext, doc: Document, place: str, grades: dict[str, int | None]) -> None:
    if not context.rater:
        return
    key = context.key(place, doc.id)
    if key not in st.session_state and doc.id in grades:
        grade = grades[doc.id]
        st.session_state[key] = CANT_RATE if grade is None else GRADES[grade][0]
    st.pills(
        "Grade",
        OPTIONS,
        key=key,
        label_visibility="collapsed",
        help=HELP,
        on_change=_on_click,
        args=(context, doc, key),
    )
