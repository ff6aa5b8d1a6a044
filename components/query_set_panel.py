"""Query set panel: every query of the corpus (or an uploaded list) through the rankers once, each query's
disagreement between them, the query set's mean label-free agreement; choosing a row opens it in Search."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import resources, share
from components.model_settings import Settings
from components.text import literal
from ranklens.corpus.corpus import CorpusError
from ranklens.corpus.textclean import clean_name
from ranklens.evaluation.queryset import disagreement, parse_query_list, run_query_set
from ranklens.index.base import FirstStage
from ranklens.labelling.imports import check_import_size
from ranklens.labelling.labels import LabelError
from ranklens.models.loading import ModelError
from ranklens.ranking.compare import mean_agreement
from ranklens.ranking.results import SearchResult
from ranklens.ranking.search import SearchError

RESULTS = "query_set_results"
RESULTS_FOR = "query_set_for"
SOURCES = ("the corpus's queries", "an uploaded list")
TABLE = "query_set_table"


def _queries(stage: FirstStage) -> dict[str, str] | None:
    source = st.radio(
        "Queries", SOURCES, horizontal=True, key="query_set_source", index=0 if stage.corpus.queries else 1
    )
    if source == SOURCES[0]:
        return dict(stage.corpus.queries) or None
    upload = st.file_uploader(
        "One query per line, or a CSV with a 'query' column", type=["txt", "csv", "tsv"], key="query_set_file"
    )
    if upload is None:
        return None
    try:
        check_import_size(clean_name(upload.name), upload.size)
        return parse_query_list(clean_name(upload.name), upload.getvalue(), stage.corpus.queries)
    except (CorpusError, LabelError) as err:
        st.error(literal(str(err)))
        return None


def mean_agreement_table(results: dict[str, SearchResult], k: int = 10) -> pd.DataFrame:
    """The query set's mean agreement between the first stage and the reranked list, and the hybrid."""
    rows = []
    for other, name in (("ce", "reranked"), ("hybrid", "hybrid")):
        pairs = {
            q: ([c.doc_id for c in r.ranking("bi")], [c.doc_id for c in r.ranking(other)]) for q, r in results.items()
        }
        first = next(iter(results.values())).first_label if results else "first stage"
        rows.append({"rankings": f"{first} / {name}", **mean_agreement(pairs, k)})
    return pd.DataFrame(rows).rename(
        columns={
            "overlap": f"overlap@{k}",
            "jaccard": f"Jaccard@{k}",
            "rbo": "RBO (p=0.9)",
            "kendall_tau": "Kendall's tau",
        }
    )


def open_in_search(query: str) -> None:
    """Make `query` the Search tab's query, and switch to that tab (the tabs follow this key)."""
    st.session_state["query"] = query
    st.session_state["tab"] = "Search"


def _picked_row(frame: pd.DataFrame) -> None:
    rows = st.session_state[TABLE].selection.rows
    if rows:
        open_in_search(frame.iloc[rows[0]]["query"])


def run(stage: FirstStage, settings: Settings, queries: dict[str, str]) -> dict[str, SearchResult] | None:
    """Both stages for each query, with a progress bar; None (and a message) when the models cannot run."""
    bar = st.progress(0.0, text=f"Searching {len(queries)} queries…")
    try:
        searcher = resources.searcher(stage, settings)
        return run_query_set(
            searcher,
            queries,
            settings.top_n,
            lambda done, total: bar.progress(done / total, text=f"Query {done} of {total}"),
        )
    except (ModelError, SearchError) as err:
        st.error(literal(str(err)))
        return None
    finally:
        bar.empty()


def _wanted(stage: FirstStage, settings: Settings, queries: dict[str, str]) -> tuple:
    return (
        stage.key,
        settings.ce_model,
        settings.backend,
        settings.top_n,
        settings.ce_max_tokens,
        tuple(sorted(queries.items())),
    )


def results_for(stage: FirstStage, settings: Settings, queries: dict[str, str]) -> dict[str, SearchResult] | None:
    """The searches of these queries with these settings, if this session has run them (here or in Label)."""
    wanted = _wanted(stage, settings, queries)
    return st.session_state[RESULTS] if st.session_state.get(RESULTS_FOR) == wanted else None


def search_all(stage: FirstStage, settings: Settings, queries: dict[str, str]) -> None:
    """Search every query (with a progress bar) and keep the results for this session's panels."""
    found = run(stage, settings, queries)
    if found is not None:
        st.session_state[RESULTS], st.session_state[RESULTS_FOR] = found, _wanted(stage, settings, queries)


def render(stage: FirstStage, settings: Settings) -> None:
    queries = _queries(stage)
    if not queries:
        st.info("This corpus has no queries of its own: upload a list of queries.")
        return
    st.caption(
        f"{len(queries)} queries; each is searched once (the cross-encoder's scores are cached, so a second run "
        "costs no model call)."
    )
    if st.button("Run the query set", key="query_set_run", type="primary"):
        search_all(stage, settings, queries)
    results = results_for(stage, settings, queries)
    if results is None:
        return
    st.markdown("#### Agreement over the query set, without judgements")
    st.dataframe(mean_agreement_table(results).style.format(precision=3), hide_index=True, width="stretch")
    frame = disagreement(results, stage.corpus.qrels)
    st.markdown("#### Per query, most disagreement first")
    st.dataframe(
        frame.style.format(precision=3, na_rep="—"),
        hide_index=True,
        width="stretch",
        on_select=lambda: _picked_row(frame),
        selection_mode="single-row",
        key=TABLE,
    )
    st.caption(
        "RBO near 1: the reranker kept the first stage's order; low: it reordered the top. Click a row to open "
        "that query in the Search tab, or pick it here:"
    )
    pick_column, button_column = st.columns([4, 1], vertical_alignment="bottom")
    query = pick_column.selectbox("Query", list(frame["query"]), key="query_set_pick", label_visibility="collapsed")
    button_column.button("Open in Search", key="query_set_open", on_click=open_in_search, args=(query,))
    share.report_buttons(results, stage, settings, stage.corpus, key="query_set")
