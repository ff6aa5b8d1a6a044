"""The finished search result, in the compact view (comparison table, rank-flow chart, label-free agreement,
explanation) or as cards (one column per ranker). Its own fragment: alpha, the fusion method, a selected row
or a grade click rerun these views only, from scores already computed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import compact_view, explain_panel, grading, layout, rank_flow, ranking_view, resources, share
from components.model_settings import Settings
from components.text import literal
from ranklens.corpus.corpus import query_id_for
from ranklens.index.base import FirstStage, RetrievalError
from ranklens.models.loading import ModelError
from ranklens.ranking import fusion
from ranklens.ranking.compare import agreement
from ranklens.ranking.results import SearchResult, SideRanking
from ranklens.ranking.search import SearchError, side_ranking

ALPHA = "alpha"
FUSION = "fusion_method"
VIEW = "results_view"
VIEWS = ("compact", "cards")


def hybrid_controls() -> tuple[float, str]:
    """Fusion method and alpha, drawn above the tabs so that they stay in the URL whichever tab is open (the
    Evaluate tab's "use best alpha" sets alpha)."""
    st.session_state.setdefault(ALPHA, fusion.DEFAULT_ALPHA)
    method_column, alpha_column = st.columns([2, 3])
    method = method_column.selectbox(
        "Fusion",
        list(fusion.METHODS),
        key=FUSION,
        bind="query-params",
        help=" · ".join(f"{m}: {what}" for m, what in fusion.METHODS.items()),
    )
    alpha = alpha_column.slider(
        "alpha (first-stage weight)",
        0.0,
        1.0,
        step=0.05,
        key=ALPHA,
        bind="query-params",
        help="0 = cross-encoder only, 1 = first stage only (BM25 and run scores are min-max scaled first)",
    )
    return alpha, method


def side(stage: FirstStage, settings: Settings, result: SearchResult, top_k: int) -> SideRanking | None:
    """The second first stage's ranking of the query, when one is picked to compare."""
    if not settings.compare:
        return None
    try:
        other = resources.first_stage(stage.corpus, settings, name=settings.compare)
        return side_ranking(result, other, top_k)
    except (RetrievalError, SearchError, ModelError) as err:
        st.error(literal(str(err)))
        return None


def agreement_table(result: SearchResult, top_k: int, other: SideRanking | None) -> pd.DataFrame:
    """Label-free agreement of the rankings of this query: overlap and Jaccard at k, RBO, Kendall's tau."""
    first = [c.doc_id for c in result.ranking("bi")]
    pairs = {
        f"{result.first_label} / reranked": (first, [c.doc_id for c in result.ranking("ce")]),
        f"{result.first_label} / hybrid": (first, [c.doc_id for c in result.ranking("hybrid")]),
        "reranked / hybrid": ([c.doc_id for c in result.ranking("ce")], [c.doc_id for c in result.ranking("hybrid")]),
    }
    if other is not None:
        pairs[f"{result.first_label} / {other.label}"] = (first[:top_k], [e.doc_id for e in other.entries])
    rows = []
    for name, (a, b) in pairs.items():
        measured = agreement(a, b, top_k)
        rows.append(
            {
                "rankings": name,
                f"overlap@{top_k}": measured.overlap,
                f"Jaccard@{top_k}": measured.jaccard,
                "RBO (p=0.9)": measured.rbo,
                "Kendall's tau": measured.kendall_tau,
            }
        )
    return pd.DataFrame(rows)


def _compact(
    result: SearchResult, stage: FirstStage, settings: Settings, top_k: int, labels: grading.LabelContext | None
) -> None:
    grades = labels.current() if labels else None
    other = side(stage, settings, result, top_k)
    table_column, chart_column = st.container(key=layout.SIDE_BY_SIDE).columns([3, 2])
    with table_column:
        rows = compact_view.render(result, top_k, grades, other)
    with chart_column:
        rank_flow.render(result, top_k, compact_view.height_of(rows))
    agreements = agreement_table(result, top_k, other)
    # formatted by the browser, not by pandas' Styler: its import (jinja2 with it) is 40 ms of a relaunch's first page
    three_places = st.column_config.NumberColumn(format="%.3f")
    st.dataframe(
        agreements,
        hide_index=True,
        width="stretch",
        column_config={name: three_places for name in agreements.columns if agreements[name].dtype.kind == "f"},
    )
    st.caption(
        "Agreement without judgements: shared documents in the top-k, Jaccard (shared over all), rank-biased "
        "overlap (the top weighs most; 1 = the same ranking) and Kendall's tau over the documents both rank."
    )
    embedder = resources.embedder(settings.bi_model, settings.bi_backend)
    reranker = resources.reranker(settings.ce_model, settings.backend)
    explain_panel.render(result, top_k, reranker, embedder, labels, grades, settings.ce_max_tokens)


def _cards(
    result: SearchResult, stage: FirstStage, settings: Settings, top_k: int, labels: grading.LabelContext | None
) -> None:
    grades = labels.current() if labels else None
    other = side(stage, settings, result, top_k)
    columns = st.columns(4 if other else 3)
    titles = [result.first_label, "Reranked", "Hybrid"]
    for column, ranker, title in zip(columns, ("bi", "ce", "hybrid"), titles):
        with column:
            st.markdown(f"#### {literal(title)}")
            if ranker == "ce":
                st.caption(f"Arrows: change against the first stage's rank; **new** = outside its top-{top_k}")
            ranking_view.render(result, ranker, top_k, labels, grades)
    if other is not None:
        with columns[3]:
            st.markdown(f"#### {literal(other.label)}")
            st.caption(f"Arrows: change against the {literal(result.first_label)}'s rank")
            ranking_view.render_side(other, stage.corpus)


@st.fragment
def render(result: SearchResult, stage: FirstStage, settings: Settings, labels: grading.LabelContext | None) -> None:
    """The view picked (compact by default), of the result re-fused at the slider's alpha."""
    view = (
        st.segmented_control(
            "View", VIEWS, default=VIEWS[0], key=VIEW, bind="query-params", label_visibility="collapsed"
        )
        or VIEWS[0]
    )
    alpha = float(st.session_state.get(ALPHA, fusion.DEFAULT_ALPHA))
    fused = result.with_fusion(alpha, st.session_state.get(FUSION, "hybrid"))
    top_k = min(settings.top_k, len(result.candidates))
    (_compact if view == "compact" else _cards)(fused, stage, settings, top_k, labels)
    query_id = query_id_for(fused.query, stage.corpus.queries)
    share.report_buttons({query_id: fused}, stage, settings, stage.corpus, key="search")
