"""Evaluation panel: metrics of the three rankers, per query, alpha sweep, significance, saved runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import query_set_panel, resources
from components.model_settings import Settings
from components.project_settings import Project
from components.results_view import ALPHA, FUSION
from components.text import literal
from ranklens.backends.registry import fp32_reference
from ranklens.corpus.beir import check_qrels, parse_qrels
from ranklens.corpus.corpus import CorpusError
from ranklens.corpus.textclean import clean_name, decode
from ranklens.evaluation.alpha import cross_validated_alpha
from ranklens.evaluation.evaluate import (
    METRICS,
    NDCG_GAIN,
    RANKER_LABELS,
    RERANKED_GAIN,
    Evaluation,
    collect,
    judged,
    per_query_scores,
    score_runs,
    significance,
    trec_run,
)
from ranklens.evaluation.runs import RunStore
from ranklens.index.base import FirstStage
from ranklens.labelling.imports import check_import_size
from ranklens.labelling.labels import LabelError
from ranklens.models.loading import ModelError
from ranklens.ranking import fusion
from ranklens.reports.charts import alpha_sweep

EVALUATION = "evaluation"
EVALUATION_FOR = "evaluation_for"
EVALUATION_FP32 = "evaluation_fp32"
LABEL_FREE = "evaluation_label_free"  # (first stage key, how far the rankers agree on its queries) without judgements
SOURCES = ("the corpus's own qrels", "labels in this project", "an uploaded qrels file")


def _qrels(stage: FirstStage, project: Project | None) -> tuple[dict, dict[str, str], str] | None:
    """The judgements to evaluate against, the query texts, and a description of where they came from."""
    corpus = stage.corpus
    available = [s for s in SOURCES if s != SOURCES[0] or corpus.qrels]
    # keyed by the corpus: a newly picked corpus starts again from its own qrels
    source = st.radio("Judge against", available, horizontal=True, key=f"eval_source|{corpus.key}")
    if source == SOURCES[0]:
        return corpus.qrels, corpus.queries, f"{corpus.name}'s own qrels"
    if source == SOURCES[1]:
        if project is None:
            return None
        qrels = project.store.qrels(corpus.key)
        return qrels, {**corpus.queries, **project.store.queries(corpus.key)}, f"labels in project {project.name}"
    upload = st.file_uploader("TREC or BEIR qrels", type=["txt", "tsv", "qrels"], key="eval_qrels_file")
    if upload is None:
        return None
    name = clean_name(upload.name)
    try:
        check_import_size(name, upload.size)
        qrels = parse_qrels(name, decode(name, upload.getvalue()))
        check_qrels(name, qrels, corpus, corpus.queries)
    except (CorpusError, LabelError) as err:
        st.error(literal(str(err)))
        return None
    return qrels, corpus.queries, name


def _query_progress(bar, what: str):
    return lambda done, total: bar.progress(done / total, text=f"{what}: query {done} of {total}")


def _run_evaluation(
    stage: FirstStage, settings: Settings, qrels: dict, queries: dict[str, str], against_fp32: bool
) -> None:
    backends = [settings.backend, fp32_reference(settings.backend)] if against_fp32 else [settings.backend]
    evaluations, ran_on = [], []
    try:
        for backend in backends:
            searcher = resources.searcher(stage, settings, backend=backend)
            what = "Searching the judged queries" + (f" with fp32 ({backend})" if len(evaluations) else "")
            bar = st.progress(0.0, text=f"{what}…")
            evaluations.append(
                collect(
                    searcher,
                    queries,
                    qrels,
                    top_n=settings.top_n,
                    ce_passages=settings.ce_passages,
                    progress=_query_progress(bar, what),
                )
            )
            ran_on.append(searcher.reranker.backend)
            bar.empty()
    except (ModelError, ValueError) as err:
        st.error(str(err))
        return
    st.session_state[EVALUATION] = evaluations[0]
    st.session_state[EVALUATION_FP32] = (evaluations[1], ran_on[1]) if against_fp32 else None


def _backend_difference(evaluation: Evaluation, reference: Evaluation, reference_backend: str, backend: str) -> None:
    """The accuracy guard where judgements exist: the backend's reranked nDCG@10 against fp32's."""
    ours = float(evaluation.table().loc[RANKER_LABELS["ce"], "ndcg@10"])
    exact = float(reference.table().loc[RANKER_LABELS["ce"], "ndcg@10"])
    share = ours / exact * 100 if exact else float("nan")
    st.info(
        f"Backend {backend}: reranked nDCG@10 {ours:.4f} against {exact:.4f} with fp32 ({reference_backend}) "
        f"(difference {ours - exact:+.4f}, {share:.1f} % of fp32)."
    )


def _open_in_search(frame: pd.DataFrame) -> None:
    rows = st.session_state["per_query_table"].selection.rows
    if rows:
        st.session_state["query"] = frame.iloc[rows[0]]["query"]
        st.session_state["tab"] = "Search"  # the tabs follow this key: the switch happens


def _set_alpha(alpha: float) -> None:
    st.session_state[ALPHA] = alpha


def _sweep(evaluation: Evaluation, method: str) -> None:
    st.markdown("#### Alpha sweep")
    sweep = evaluation.sweep(method=method)
    choice = cross_validated_alpha(evaluation, method=method)
    st.altair_chart(alpha_sweep(sweep, choice), width="stretch")
    st.caption(
        f"In-sample best nDCG@10 {choice.in_sample:.4f} at alpha = {choice.in_sample_alpha:.2f}: optimistic, picked on "
        f"the very queries it is measured on. Cross-validated over {choice.folds} folds of queries (alpha picked on "
        f"the other folds, nDCG@10 measured on the held-out one): {choice.cross_validated:.4f}, the folds picking "
        f"{', '.join(f'{a:.2f}' for a in choice.fold_alphas)}; their median is alpha = "
        f"{choice.cross_validated_alpha:.2f}. No model ran for this sweep."
    )
    st.button(
        f"Set the slider to the cross-validated alpha = {choice.cross_validated_alpha:.2f}",
        key="use_best_alpha",
        on_click=_set_alpha,
        args=(float(choice.cross_validated_alpha),),
    )


def _saved_runs(
    evaluation: Evaluation,
    stage: FirstStage,
    settings: Settings,
    project: Project,
    alpha: float,
    method: str,
    source: str,
) -> None:
    st.markdown("#### Saved runs")
    store = RunStore(project.store.path)
    name_column, ranker_column, button_column = st.columns([3, 2, 1], vertical_alignment="bottom")
    name = name_column.text_input("Run name", key="run_name", placeholder="e.g. hybrid 0.3 with fine-tuned CE")
    labels = evaluation.labels
    ranker = ranker_column.selectbox("Ranker", list(labels), index=2, format_func=labels.get, key="run_ranker")
    if button_column.button("Save run", key="save_run", disabled=not name.strip()):
        knobs = {
            "ranker": ranker,
            "bi_model": settings.bi_model,
            "ce_model": evaluation_model(evaluation),
            "top_n": settings.top_n,
            "alpha": alpha,
            "fusion": method,
            "ce_passages": settings.ce_passages,
            **stage.describe(),
            "corpus_hash": stage.corpus.content_hash(),
            "judged_by": source,
        }
        run_id = store.save(name, stage.corpus.key, knobs, evaluation.runs(alpha, method, rankers=[ranker])[ranker])
        st.success(f"Saved run #{run_id}.")
    saved = store.list(stage.corpus.key)
    if not saved:
        st.caption("No saved runs for this corpus yet.")
        return
    listing = pd.DataFrame(
        [{"run": r.label, "saved": r.created_at, **{k: str(v) for k, v in r.settings.items()}} for r in saved]
    )
    st.dataframe(listing, hide_index=True, width="stretch")
    by_label = {r.label: r for r in saved}
    chosen = st.multiselect("Compare runs", list(by_label), default=list(by_label)[-2:], key="compare_runs")
    if chosen:
        _compare_runs(evaluation, store, stage, by_label, chosen)


def _compare_runs(
    evaluation: Evaluation, store: RunStore, stage: FirstStage, by_label: dict, chosen: list[str]
) -> None:
    """The chosen saved runs' metrics side by side, per query, the significance verdict and a TREC download."""
    runs = {label: store.load(by_label[label].run_id) for label in chosen}
    st.dataframe(score_runs(evaluation.qrels, runs).style.format("{:.4f}"), width="stretch")
    per_query = pd.DataFrame({label: per_query_scores(evaluation.qrels, run, "ndcg@10") for label, run in runs.items()})
    if len(chosen) >= 2:
        for label in chosen[1:]:
            per_query[f"{label} − {chosen[0]}"] = per_query[label] - per_query[chosen[0]]
        st.caption("nDCG@10 per query, and each run's difference from the first one chosen")
        st.dataframe(per_query.style.format("{:.4f}"), width="stretch")
        st.info(significance(per_query, chosen[1], chosen[0]).verdict)
    export = st.selectbox("Export a run in TREC format", chosen, key="export_run")
    st.download_button(
        "Download TREC run",
        trec_run(runs[export], export.replace(" ", "_")),
        file_name=f"{clean_name(stage.corpus.name)}-run{by_label[export].run_id}.trec",
        key="download_run",
    )


def evaluation_model(evaluation: Evaluation) -> str:
    return next(iter(evaluation.results.values())).ce_model


def _without_judgements(stage: FirstStage, settings: Settings) -> None:
    """No judgements to measure against: how far the rankers agree is still known."""
    st.info("No judgements to evaluate against: the rankers can still be compared without them.")
    queries = dict(stage.corpus.queries)
    if not queries:
        st.caption("This corpus has no queries of its own: upload a list in the Query set tab.")
        return
    if st.button(f"Compare the rankers on the corpus's {len(queries)} queries", key="eval_label_free"):
        results = query_set_panel.run(stage, settings, queries)
        if results is not None:
            st.session_state[LABEL_FREE] = (stage.key, query_set_panel.mean_agreement_table(results))
    found = st.session_state.get(LABEL_FREE)
    if found and found[0] == stage.key:
        st.dataframe(found[1].style.format(precision=3), hide_index=True, width="stretch")


def _evaluation(
    stage: FirstStage, settings: Settings, qrels: dict, queries: dict[str, str], source: str
) -> Evaluation | None:
    """The run button and its knobs; the evaluation made for exactly these inputs, or None."""
    evaluable = judged(qrels)
    st.caption(f"{len(evaluable)} queries with at least one relevant judgement in {literal(source)}.")
    wanted = (stage.key, settings, source, repr(sorted((q, sorted(d.items())) for q, d in evaluable.items())))
    against_fp32 = settings.backend != "torch" and st.checkbox(
        f"Also rerank in fp32 ({fp32_reference(settings.backend)}), to measure what the {settings.backend} backend "
        "costs in nDCG@10",
        value=True,
        key="eval_against_fp32",
    )
    wanted = (*wanted, against_fp32)
    if st.button("Run evaluation", key="run_evaluation", type="primary", disabled=not evaluable):
        _run_evaluation(stage, settings, qrels, queries, against_fp32)
        st.session_state[EVALUATION_FOR] = wanted
    if st.session_state.get(EVALUATION_FOR) != wanted:
        st.caption(
            "Runs the first stage and the cross-encoder once per judged query; everything below is then "
            "arithmetic on those scores."
        )
        return None
    return st.session_state[EVALUATION]


def _metrics(evaluation: Evaluation, settings: Settings, alpha: float, method: str) -> None:
    st.markdown(f"#### Metrics (hybrid: {method} at alpha {alpha:.2f})")
    st.dataframe(evaluation.table(alpha, method).style.format("{:.4f}"), width="stretch")
    reference = st.session_state.get(EVALUATION_FP32)
    if reference is not None:
        _backend_difference(evaluation, *reference, settings.backend)
    st.caption(
        f"Computed with trec_eval's code (pytrec_eval). nDCG uses {NDCG_GAIN}. Unjudged documents count as "
        "non-relevant, so the more of a top-10 is unjudged, the less these numbers can be trusted:"
    )
    st.dataframe(evaluation.coverage(alpha=alpha).style.format("{:.2f}"), width="stretch")
    st.markdown("#### Agreement without judgements")
    agreement = query_set_panel.mean_agreement_table(
        {q: r.with_fusion(alpha, method) for q, r in evaluation.results.items()}
    )
    st.dataframe(agreement.style.format(precision=3), hide_index=True, width="stretch")


def _per_query(evaluation: Evaluation, alpha: float, method: str) -> None:
    st.markdown("#### Per query")
    metric = st.selectbox("Metric", METRICS, key="per_query_metric")
    frame = evaluation.per_query(metric, alpha, method).sort_values(RERANKED_GAIN).reset_index()
    st.dataframe(
        frame.style.format({c: "{:.4f}" for c in frame.columns if c not in ("query id", "query")}),
        hide_index=True,
        width="stretch",
        on_select=lambda: _open_in_search(frame),
        selection_mode="single-row",
        key="per_query_table",
    )
    st.caption("Sorted by the reranker's loss first; click a row to open its query in the Search tab.")


def _significance(evaluation: Evaluation, alpha: float, method: str) -> None:
    st.markdown("#### Significance")
    per_query = evaluation.per_query("ndcg@10", alpha, method)
    first_column, second_column = st.columns(2)
    names = list(evaluation.labels.values())
    first = first_column.selectbox("Ranker", names, index=1, key="significance_first")
    second = second_column.selectbox("against", names, index=0, key="significance_second")
    result = significance(per_query, first, second)
    st.info(f"{result.verdict} ({result.test}, nDCG@10)")


def render(stage: FirstStage, settings: Settings, project: Project | None) -> None:
    chosen = _qrels(stage, project)
    if chosen is None or not judged(chosen[0]):
        if chosen is None:
            st.caption("Choose judgements to evaluate against, or compare without them:")
        _without_judgements(stage, settings)
        if chosen is None:
            return
    qrels, queries, source = chosen
    evaluation = _evaluation(stage, settings, qrels, queries, source)
    if evaluation is None:
        return
    alpha = float(st.session_state.get(ALPHA, fusion.DEFAULT_ALPHA))
    method = st.session_state.get(FUSION, "hybrid")
    _metrics(evaluation, settings, alpha, method)
    _per_query(evaluation, alpha, method)
    _sweep(evaluation, method)
    _significance(evaluation, alpha, method)
    if project is not None:
        _saved_runs(evaluation, stage, settings, project, alpha, method, source)
