"""The one-click grade control: Poor / Fair / Good / Perfect / Can't rate, saved the moment it is clicked.

A grade is written only by a click on it. The control's key carries the grade it shows, so when
a grade changes every copy of the control (one per column) is drawn anew with the new grade as
its default: no code ever sets a control's state, so no copy can fire at another, and a rerun,
a reload or a retyped query never writes or deletes a judgement.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ranklens.corpus.corpus import Document
from ranklens.labelling.labels import GRADES, LabelStore

CANT_RATE = "Can't rate"
OPTIONS = [name for name, _ in GRADES.values()] + [CANT_RATE]
GRADE_OF = {name: grade for grade, (name, _) in GRADES.items()} | {CANT_RATE: None}
HELP = " · ".join(f"{name}: {meaning}" for name, meaning in GRADES.values())
UNJUDGED = "unjudged"


@dataclass(frozen=True)
class LabelContext:
    store: LabelStore
    corpus: str  # the corpus's key
    query_id: str
    query: str
    rater: str

    def current(self) -> dict[str, int | None]:
        """This rater's grades for this query, straight from the database (so a refresh shows them); a pair only
        marked "judge later" has none yet."""
        return {
            j.doc_id: j.grade
            for j in self.store.judgements(self.corpus, self.query_id, self.rater)
            if j.grade is not None or not j.later
        }

    def later(self) -> set[str]:
        """The documents this rater marked "judge later" for this query."""
        return {j.doc_id for j in self.store.judgements(self.corpus, self.query_id, self.rater) if j.later}


def label_of(grade: int | None) -> str:
    return CANT_RATE if grade is None else GRADES[grade][0]


def record(context: LabelContext, doc: Document, choice: str | None, note: str = "", later: bool = False) -> None:
    """Save this rater's grade for the document (None: forget it)."""
    if choice is None:
        context.store.forget(context.corpus, context.query_id, doc.id, context.rater)
    else:
        context.store.judge(
            context.corpus, context.query_id, context.query, doc, GRADE_OF[choice], context.rater, note, later
        )


def mark_later(context: LabelContext, doc: Document, note: str = "") -> None:
    """Mark the document "judge later", keeping a grade it already has."""
    grade = context.current().get(doc.id)
    context.store.judge(context.corpus, context.query_id, context.query, doc, grade, context.rater, note, later=True)


def _clicked(context: LabelContext, doc: Document, key: str) -> None:
    # clicking the selected grade again unselects it: that click forgets the judgement
    record(context, doc, st.session_state.get(key))


def render(context: LabelContext, doc: Document, place: str, grades: dict[str, int | None]) -> None:
    """The grade control for one document in one place (a column or a table row)."""
    shown = label_of(grades[doc.id]) if doc.id in grades else None
    key = f"grade|{place}|{context.corpus}|{context.query_id}|{doc.id}|{shown or UNJUDGED}"
    st.pills(
        "Grade",
        OPTIONS,
        default=shown,
        key=key,
        label_visibility="collapsed",
        help=HELP,
        on_change=_clicked,
        args=(context, doc, key),
    )
