"""Focused labelling: one (query, document) pair at a time with scores and ranks hidden, graded by a click or a key,
in the blind order (this query's pool, shuffled; the default) or the active one (every query, where the rankers
disagree most first). The project's guidelines sit beside the document.

Every control's key names its pair, and a grade is stored for the pair its control names: a key pressed while the page
still shows a pair the server has moved past grades that pair, never the next one (see `_late_controls`)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components import grading, query_set_panel, search_panel
from components.layout import LATE_KEYS
from components.model_settings import Settings
from components.project_settings import Project
from components.text import literal
from ranklens.corpus.corpus import Document, query_id_for
from ranklens.index.base import FirstStage
from ranklens.labelling.labels import GRADES, Judgement
from ranklens.labelling.projects import ProjectError, guidelines, save_guidelines
from ranklens.labelling.queue import ACTIVE_RULE, QueueItem, active_queue, pool

ORDER = "label_order"
ORDERS = {
    "blind": "Blind: this query's pool, shuffled",
    "active": "Active: every query, where the rankers disagree first",
}
TRADE_OFF = (
    "Blind keeps the judging unbiased: no ranker decides what you see next, so the labels measure every ranker "
    "fairly. Active spends your judgements where the rankers disagree, which can tell them apart with fewer "
    "judgements, but the labelled sample leans toward contested documents. Measured on real datasets, blind "
    "estimated whether reranking helps more closely over a whole labelling run."
)
POSITION = "label_position"
POSITION_FOR = "label_position_for"
SHOWN = "label_shown"  # the pairs the latest runs showed, newest last
KEEP_SHOWN = 3  # a key pressed before the page redrew names one of these; more than one redraw behind is not seen
REGRADED = "label_regraded"
KEYS = {"Poor": "0", "Fair": "1", "Good": "2", "Perfect": "3", grading.CANT_RATE: "s"}
LATER_KEY = "l"


def _blind_items(stage: FirstStage, settings: Settings) -> list[QueueItem] | None:
    query = search_panel.current_query(stage.corpus)
    if not query:
        st.info("Type a query in the Search tab: its pooled candidates are labelled here.")
        return None
    result = search_panel.result_for(stage, settings, query)
    if result is None:
        return None
    top_k = settings.top_k
    query_id = query_id_for(result.query, stage.corpus.queries)
    pooled = pool([[c.doc_id for c in result.ranking(r)[:top_k]] for r in ("bi", "ce", "hybrid")], seed=query_id)
    st.caption(
        f"The union of the first stage's, the reranked and the hybrid top-{top_k} for **{literal(result.query)}**, "
        "shuffled, scores and ranks hidden."
    )
    return [QueueItem(query_id, result.query, doc_id, 0.0, ()) for doc_id in pooled]


def _active_items(stage: FirstStage, settings: Settings) -> list[QueueItem] | None:
    queries = dict(stage.corpus.queries)
    if not queries:
        st.info("The active queue ranks the pairs of every query of the corpus, and this corpus has none.")
        return None
    results = query_set_panel.results_for(stage, settings, queries)
    if results is None:
        st.caption(f"The queue needs every query searched once ({len(queries)} queries; the Query set tab shares it).")
        if st.button("Search every query and build the queue", key="build_queue", type="primary"):
            query_set_panel.search_all(stage, settings, queries)
            st.rerun()
        return None
    st.caption(ACTIVE_RULE.replace("top-k", f"top-{settings.top_k}"))
    return active_queue(results, set(), settings.top_k)


def _guidelines(project: Project) -> None:
    text = guidelines(project.folder)
    with st.container(border=True):
        st.markdown("**Guidelines**")
        st.markdown(text or "_No guidelines yet for this project._")  # the project owner's Markdown, not corpus text
    with st.expander("Edit the guidelines"):
        edited = st.text_area("Markdown, shown to every rater of this project", text, height=200, key="guidelines")
        if st.button("Save the guidelines", key="save_guidelines"):
            try:
                save_guidelines(project.folder, edited)
                st.toast("Guidelines saved.")
            except (ProjectError, OSError) as err:
                st.error(literal(str(err)))


def _next_open(items: list[QueueItem], mine: dict[tuple[str, str], Judgement], after: int) -> int:
    """The first unjudged pair after `after` (wrapping round), then the first marked "judge later"."""
    order = list(range(after + 1, len(items))) + list(range(after + 1))
    for wanted in (lambda j: j is None, lambda j: j is not None and j.later and j.grade is None):
        for i in order:
            if wanted(mine.get((items[i].query_id, items[i].doc_id))):
                return i
    return min(after + 1, len(items) - 1)


@dataclass(frozen=True)
class Regraded:
    """A key pressed on a pair the page had already moved past changed the grade given there."""

    number: int  # the pair's place in the queue, from 1
    context: grading.LabelContext
    doc: Document
    before: Judgement
    after: Judgement


def _pair(corpus_key: str, item: QueueItem) -> str:
    return f"{corpus_key}|{item.query_id}|{item.doc_id}"


def _place(items, corpus_key: str, pair: str) -> int | None:
    """Where the pair a control names stands in the queue."""
    return next((i for i, item in enumerate(items) if _pair(corpus_key, item) == pair), None)


def _mine_for(context: grading.LabelContext, doc_id: str) -> Judgement | None:
    return next(
        (j for j in context.store.judgements(context.corpus, context.query_id, context.rater) if j.doc_id == doc_id),
        None,
    )


def _act(context, doc, choice: str | None, note_key: str, items, project: Project, corpus_key: str, pair: str) -> None:
    """Grade (or mark for later) the pair the pressed control names. On the pair at the position, move on; on one the
    position has left (a key pressed before the page redrew), stay, and say so where it changed a grade given."""
    position = st.session_state[POSITION]
    on_screen = _pair(corpus_key, items[min(position, len(items) - 1)]) == pair
    before = _mine_for(context, doc.id)
    note = st.session_state.get(note_key, "") if on_screen else (before.note if before else "")
    if choice is None:
        grading.mark_later(context, doc, note)
    else:
        grading.record(context, doc, choice, note)
    if on_screen:
        st.session_state.pop(note_key, None)
        st.session_state.pop(REGRADED, None)
        st.session_state[POSITION] = _next_open(items, _mine(project, corpus_key), position)
        return
    after = _mine_for(context, doc.id)
    if before is not None and after is not None and (before.grade, before.later) != (after.grade, after.later):
        st.session_state[REGRADED] = Regraded(_place(items, corpus_key, pair) + 1, context, doc, before, after)


def _shown_as(judgement: Judgement) -> str:
    return "judge later" if judgement.grade is None and judgement.later else grading.label_of(judgement.grade)


def _undo(regraded: Regraded) -> None:
    before = regraded.before
    regraded.context.store.judge(
        before.corpus,
        before.query_id,
        before.query,
        regraded.doc,
        before.grade,
        before.rater,
        before.note,
        before.later,
    )
    st.session_state.pop(REGRADED, None)


def _say_regraded() -> None:
    regraded = st.session_state.get(REGRADED)
    if regraded is None:
        return
    text, undo, keep = st.columns([6, 1, 1], vertical_alignment="center")
    text.warning(
        f"Pair {regraded.number} regraded from {_shown_as(regraded.before)} to {_shown_as(regraded.after)}: a key "
        "reached it after the page had moved on."
    )
    undo.button("Undo", key="label_undo_regrade", on_click=_undo, args=(regraded,), width="stretch")
    keep.button("Keep", key="label_keep_regrade", on_click=st.session_state.pop, args=(REGRADED, None), width="stretch")


def _mine(project: Project, corpus_key: str) -> dict[tuple[str, str], Judgement]:
    return {(j.query_id, j.doc_id): j for j in project.store.judgements(corpus_key, rater=project.rater)}


MOVES = [("◀ Previous", -1, "k"), ("Next ▶", 1, "j"), ("←", -1, "Left"), ("→", 1, "Right")]


def _move(step: int, items, corpus_key: str, pair: str) -> None:
    """Move `step` pairs from the pair the pressed control names (the one on screen), not from wherever the server
    is: a `j` that arrives after a grade already moved on does not skip the next pair unseen."""
    here = _place(items, corpus_key, pair)
    here = st.session_state[POSITION] if here is None else here
    st.session_state[POSITION] = min(max(here + step, 0), len(items) - 1)


def _move_buttons(items, corpus_key: str, pair: str, live: bool) -> None:
    """The moves from one pair, keyed by the pair; `live`: with their shortcuts, in columns."""
    for column, (label, step, key) in zip(st.columns(len(MOVES)) if live else [st] * len(MOVES), MOVES):
        column.button(
            label,
            key=f"focus_move|{key}|{pair}",
            width="stretch",
            type="tertiary" if len(label) == 1 else "secondary",
            shortcut=key if live else None,
            on_click=_move,
            args=(step, items, corpus_key, pair),
        )


def _grade_buttons(
    context, doc, note_key: str, items, project: Project, corpus_key: str, pair: str, live: bool
) -> None:
    """The grade controls of one pair, keyed by the pair; `live`: with their shortcuts, in columns."""
    choices = [*grading.OPTIONS, None]
    for column, choice in zip(st.columns(len(choices)) if live else [st] * len(choices), choices):
        name = "Judge later" if choice is None else choice
        column.button(
            name,
            key=f"focus|{name}|{pair}",
            help="come back to it after the rest" if choice is None else dict(GRADES.values()).get(choice, "unsure"),
            width="stretch",
            shortcut=(LATER_KEY if choice is None else KEYS[choice]) if live else None,
            on_click=_act,
            args=(context, doc, choice, note_key, items, project, corpus_key, pair),
        )


def _late_controls(items, project: Project, corpus, current: str) -> None:
    """The controls of the pairs shown just before this one, hidden and without shortcuts: a key pressed while the
    page still showed one of them (before it redrew) reaches a control the server knows, which acts on that pair."""
    by_pair = {_pair(corpus.key, item): item for item in items}
    earlier = [pair for pair in st.session_state.get(SHOWN, []) if pair != current and pair in by_pair]
    st.session_state[SHOWN] = [*earlier, current][-KEEP_SHOWN:]
    with st.container(key=LATE_KEYS):
        for pair in earlier:
            item = by_pair[pair]
            context = grading.LabelContext(project.store, corpus.key, item.query_id, item.query, project.rater)
            note_key = f"note|{item.query_id}|{item.doc_id}"
            _grade_buttons(context, corpus.get(item.doc_id), note_key, items, project, corpus.key, pair, live=False)
            _move_buttons(items, corpus.key, pair, live=False)


def _controls(context, doc, note_key: str, items, project: Project, corpus_key: str, pair: str) -> None:
    _grade_buttons(context, doc, note_key, items, project, corpus_key, pair, live=True)
    _move_buttons(items, corpus_key, pair, live=True)


@st.fragment
def _judge(items: list[QueueItem], stage: FirstStage, project: Project) -> None:
    """The pair at the position, its controls and the progress; a grade reruns this fragment only."""
    corpus = stage.corpus
    mine = _mine(project, corpus.key)
    _say_regraded()
    queue_id = (corpus.key, project.name, project.rater, tuple((i.query_id, i.doc_id) for i in items))
    if st.session_state.get(POSITION_FOR) != queue_id:
        st.session_state[POSITION_FOR] = queue_id
        st.session_state[POSITION] = _next_open(items, mine, -1)
    position = min(st.session_state[POSITION], len(items) - 1)
    item = items[position]
    done = sum((i.query_id, i.doc_id) in mine and not mine[(i.query_id, i.doc_id)].later for i in items)
    later = sum(j.later for key, j in mine.items() if key in {(i.query_id, i.doc_id) for i in items})
    st.progress(
        done / len(items),
        text=f"{done} of {len(items)} judged by {literal(project.rater)}" + (f", {later} for later" if later else ""),
    )
    doc = corpus.get(item.doc_id)
    context = grading.LabelContext(project.store, corpus.key, item.query_id, item.query, project.rater)
    document_column, guide_column = st.columns([3, 2])
    with document_column, st.container(border=True):
        st.caption(f"Pair {position + 1} of {len(items)} · document {literal(item.doc_id)} · query")
        st.markdown(f"**{literal(item.query)}**")
        if item.reasons:
            st.caption("Next because: " + "; ".join(item.reasons))
        if doc.title:
            st.markdown(f"##### {literal(doc.title)}")
        st.markdown(literal(doc.text))
        judged = mine.get((item.query_id, item.doc_id))
        if judged is not None:
            shown = "not yet" if judged.grade is None and judged.later else grading.label_of(judged.grade)
            st.caption(f"Your grade: **{shown}**" + (" · marked for later" if judged.later else ""))
    with guide_column:
        _guidelines(project)
    note_key = f"note|{item.query_id}|{doc.id}"
    st.text_input("Note (optional, saved with the grade)", key=note_key)
    pair = _pair(corpus.key, item)
    _controls(context, doc, note_key, items, project, corpus.key, pair)
    _late_controls(items, project, corpus, pair)
    st.caption(
        "Keys: 0–3 grade (Poor … Perfect), s can't rate, l judge later: each stores its grade and moves on to the "
        "next pair by itself. j / → next and k / ← previous move without grading (not while typing a note)."
    )


def render(stage: FirstStage, settings: Settings, project: Project | None) -> None:
    if project is None or not project.rater:
        st.info("Enter your name as rater in the sidebar to start labelling.")
        return
    order = st.radio(
        "Order", list(ORDERS), format_func=ORDERS.get, horizontal=True, key=ORDER, bind="query-params", help=TRADE_OFF
    )
    st.caption(TRADE_OFF)
    items = _blind_items(stage, settings) if order == "blind" else _active_items(stage, settings)
    if items:
        _judge(items, stage, project)
