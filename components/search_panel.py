"""Search panel: the query, then the first stage's, the reranked and the hybrid rankings side by side (and a
second first stage's, when one is picked to compare)."""

from __future__ import annotations

import streamlit as st

from components import grading, ranking_view, resources, results_view
from components.model_settings import Settings
from components.project_settings import Project
from components.text import literal, model_name
from ranklens.backends.registry import MIN_SPEARMAN, fp32_reference
from ranklens.corpus.corpus import Corpus, query_id_for
from ranklens.index.base import FirstStage
from ranklens.index.registry import NEEDS_EMBEDDINGS
from ranklens.models.loading import ModelError
from ranklens.ranking.compare import spearman
from ranklens.ranking.results import SearchResult
from ranklens.ranking.search import Searcher, SearchError, load_ahead

RESULT = "search_result"
RESULT_FOR = "search_result_for"
LATENCY_LOG = "latency_log"
AGREEMENT = "backend_agreement"
AGREEMENT_FOR = "backend_agreement_for"
QUERY = "query"
TAB = "tab"  # the open tab of the main page; setting it switches tabs (and the URL says it)


def _remember(result: SearchResult, wanted: tuple) -> None:
    st.session_state[RESULT] = result
    st.session_state[RESULT_FOR] = wanted
    t = result.timings
    st.session_state.setdefault(LATENCY_LOG, []).append(
        {
            "query #": len(st.session_state.get(LATENCY_LOG, [])) + 1,
            "query": result.query,
            "query embed": t.embed_ms,
            "first stage": t.search_ms,
            "cross-encoder": t.rerank_ms,
            "total": t.total_ms,
            "pairs scored": t.pairs_scored,
            "pairs cached": t.pairs_cached,
            "model load": t.load_ms,
        }
    )


def _progress_bar(container, what: str):
    """A progress bar fed by the cross-encoder's batches. Each update is also where Streamlit stops this run
    when a newer query (or any other input) arrives, so the old query's remaining batches never run."""
    bar = container.progress(0.0, text=f"{what}…")
    return lambda done, total: bar.progress(done / total, text=f"{what}: {done} of {total} pairs")


def _search(
    searcher: Searcher, settings: Settings, query: str, wanted: tuple, labels: grading.LabelContext | None, area
) -> bool:
    """Runs the search and remembers its result; True when this run can draw the finished page. Where the
    cross-encoder has a score to compute, the first stage's column is drawn while it runs and each batch moves a
    progress bar; a rerun then draws the finished page from the stored result. Where every score is cached (a
    repeated query, a reload, a shared link), the finished page comes at once, without that rerun."""
    embedder = searcher.first.embedder  # left on disk until a query is not in the cache
    try:
        with st.spinner("Loading the bi-encoder…" if embedder is not None and not embedder.runnable else "Searching…"):
            first = searcher.first_stage(query, top_n=settings.top_n)
    except (SearchError, ModelError) as err:
        st.error(str(err))
        return False
    if searcher.all_scores_cached(first, settings.ce_passages):
        _remember(searcher.rerank(first, ce_passages=settings.ce_passages), wanted)
        return True
    top_k = min(settings.top_k, len(first.candidates))
    # one placeholder for the whole result area: the previous query's results go at once, not faded below
    bi_column, ce_column, hybrid_column = area.container().columns(3)
    with bi_column:
        st.markdown(f"#### {literal(first.first_label)}")
        ranking_view.render(first, "bi", top_k, labels, labels.current() if labels else None)
    ce_column.markdown("#### Reranked")
    hybrid_column.markdown("#### Hybrid")
    hybrid_column.caption("Waits for the cross-encoder.")
    reranking = f"reranking {len(first.candidates)} candidates"
    if searcher.reranker is not None and not searcher.reranker.runnable:
        reranking = f"loading the cross-encoder, then {reranking}"
    try:
        result = searcher.rerank(
            first,
            ce_passages=settings.ce_passages,
            progress=_progress_bar(ce_column, reranking.capitalize()),
        )
    except (SearchError, ModelError) as err:
        st.error(str(err))
        return False
    _remember(result, wanted)
    st.rerun()


def _agreement(stage: FirstStage, settings: Settings, result: SearchResult, box) -> None:
    """A lower-precision backend is never a silent downgrade: its agreement with fp32 on this query (ONNX Runtime's,
    which needs no torch: ranklens.backends.registry.fp32_reference). The fp32 scores are a second reranking, so it
    runs after the results are on screen, and once per search."""
    if st.session_state.get(AGREEMENT_FOR) != st.session_state.get(RESULT_FOR):
        reference = resources.searcher(stage, settings, backend=fp32_reference(settings.backend))
        exact = reference.search(
            result.query,
            top_n=settings.top_n,
            ce_passages=settings.ce_passages,
            progress=_progress_bar(box, f"Checking the backend against fp32 ({reference.reranker.backend})"),
        )
        fp32 = {c.doc_id: c.ce_score for c in exact.candidates}
        rho = spearman([c.ce_score for c in result.candidates], [fp32[c.doc_id] for c in result.candidates])
        top = len({c.doc_id for c in result.ranking("ce")[:10]} & {c.doc_id for c in exact.ranking("ce")[:10]})
        st.session_state[AGREEMENT] = (rho, top, reference.reranker.backend)
        st.session_state[AGREEMENT_FOR] = st.session_state.get(RESULT_FOR)
    rho, top, on = st.session_state[AGREEMENT]
    verdict = "keeps the ranking" if rho >= MIN_SPEARMAN[settings.backend] else "changes the ranking"
    box.caption(
        f"Backend {settings.backend} {verdict} on this query: Spearman {rho:.4f} with fp32 ({on}) over "
        f"{len(result.candidates)} candidates, {top} of the top-10 shared (threshold "
        f"{MIN_SPEARMAN[settings.backend]}; the Evaluate tab gives the nDCG@10 difference where there are "
        "judgements)."
    )


def current_result(stage: FirstStage) -> SearchResult | None:
    """The last search's result, if it was made with this first stage."""
    wanted = st.session_state.get(RESULT_FOR)
    return st.session_state.get(RESULT) if wanted and wanted[0] == stage.key else None


def current_query(corpus: Corpus) -> str:
    """The Search tab's query, also while another tab is open (a link to that tab carries it in the URL)."""
    examples = list(corpus.queries.values())
    query = st.session_state.get(QUERY) or st.query_params.get(QUERY) or (examples[0] if examples else "")
    return query.strip()


def load_models_ahead(corpus: Corpus, settings: Settings) -> None:
    """Called before the index loads: where the open Search tab will embed a query the cache does not hold (a new
    query after a relaunch), both models start loading their exports on a thread of their own
    (ranklens.ranking.search.load_ahead), so that the first stage's column waits less for the bi-encoder and the
    reranking less for the cross-encoder. Where the bi-encoder is not remembered (a first start), it loads here
    in full, as the index would load it, and nothing loads ahead."""
    open_tab = st.session_state.get(TAB) or st.query_params.get(TAB) or "Search"
    if open_tab != "Search" or settings.first.name not in NEEDS_EMBEDDINGS:
        return
    query = current_query(corpus)
    try:
        embedder = resources.embedder(settings.bi_model, settings.bi_backend)
        if query and not embedder.runnable:
            load_ahead(query, embedder, resources.reranker(settings.ce_model, settings.backend))
    except ModelError:
        return  # the search says what is wrong


def _wanted(stage: FirstStage, settings: Settings, query: str) -> tuple:
    return (
        stage.key,
        settings.bi_model,
        settings.bi_backend,
        settings.ce_model,
        settings.backend,
        settings.top_n,
        settings.ce_passages,
        settings.ce_max_tokens,
        query.strip(),
    )


def result_for(stage: FirstStage, settings: Settings, query: str) -> SearchResult | None:
    """The search of `query` with these settings: the Search tab's, or made now (the cross-encoder's scores are
    cached, so this is cheap after the Search tab has run it); None, with the message, when it cannot run."""
    wanted = _wanted(stage, settings, query)
    if st.session_state.get(RESULT_FOR) == wanted:
        return st.session_state[RESULT]
    try:
        with st.spinner("Searching…"):
            result = resources.searcher(stage, settings).search(
                query, top_n=settings.top_n, ce_passages=settings.ce_passages
            )
    except (SearchError, ModelError) as err:
        st.error(literal(str(err)))
        return None
    _remember(result, wanted)
    return result


def label_context(project: Project | None, corpus: Corpus, query: str) -> grading.LabelContext | None:
    """Who labels which query of which corpus, or None when no rater is named."""
    if project is None or not project.rater:
        return None
    return grading.LabelContext(
        project.store, corpus.key, query_id_for(query, corpus.queries), query.strip(), project.rater
    )


def query_box(corpus: Corpus) -> str:
    """The query every tab works on, drawn above the tabs so that it stays in the URL whichever tab is open."""
    examples = list(corpus.queries.values())
    return st.text_input(
        "Query",
        value=examples[0] if examples else "",
        key=QUERY,
        bind="query-params",
        placeholder="Type a query and press Enter",
        label_visibility="collapsed",
    )


def render(stage: FirstStage, settings: Settings, project: Project | None = None) -> SearchResult | None:
    examples = list(stage.corpus.queries.values())
    query = st.session_state.get(QUERY, "")
    if not query.strip():
        st.info("Type a query to see the first stage's ranking and the cross-encoder's reranking side by side.")
        _examples(examples)
        return None
    try:
        searcher = resources.searcher(stage, settings)
    except ModelError as err:
        st.error(str(err))
        return None
    reranker = searcher.reranker
    if reranker.backend_note:
        st.warning(literal(reranker.backend_note))
    labels = label_context(project, stage.corpus, query)
    wanted = _wanted(stage, settings, query)
    area = st.empty()  # the whole result area: a new query's results replace the old at once, none left faded
    if st.session_state.get(RESULT_FOR) != wanted and not _search(searcher, settings, query, wanted, labels, area):
        return None
    result: SearchResult = st.session_state[RESULT]
    with area.container():
        results_view.render(result, stage, settings, labels)
    # what the run was and how long it took, below the results so the rankings start high on the screen
    _captions(result, reranker, settings)
    agreement_box = st.empty()  # the check's progress bar, then its verdict in the same place
    if project is not None and not project.rater:
        st.caption("Enter your name as rater in the sidebar to label documents here.")
    _examples(examples)
    if reranker.backend != "torch" and not reranker.backend_note:
        _agreement(stage, settings, result, agreement_box)
    return result


def _examples(examples: list[str]) -> None:
    if examples:
        st.caption("Try: " + " · ".join(f"*{literal(q)}*" for q in examples[:6]))


def _captions(result: SearchResult, reranker, settings: Settings) -> None:
    if result.ce_fallback_reason:
        st.caption(
            f":orange[Cross-encoder in use: **{literal(model_name(result.ce_model))}**.] "
            f"{literal(result.ce_fallback_reason)}."
        )
    t = result.timings
    truncated = sum(c.ce_truncated for c in result.candidates)
    st.caption(
        f"First stage {literal(result.first_label)} · cross-encoder {literal(model_name(result.ce_model))} "
        f"({reranker.backend}, "
        f"batches of {settings.ce_batch}) · {len(result.candidates)} candidates · embed {t.embed_ms:.0f} ms · "
        f"search {t.search_ms:.1f} ms · rerank {t.rerank_ms:.0f} ms ({t.pairs_scored} pairs scored, "
        f"{t.pairs_cached} cached) · "
        + (f"loading models {t.load_ms:.0f} ms · " if t.load_ms else "")
        + f"{truncated} truncated at the cross-encoder's "
        + (
            f"{reranker.max_tokens}-token window"
            if settings.ce_max_tokens is None
            else f"{reranker.budget(settings.ce_max_tokens)}-token budget"
        )
    )
