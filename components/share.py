"""Sharing what the page shows: a link that reopens this very view (every setting the page binds to the URL: corpus,
query, models, backends, first stage, top-N, top-k, alpha, fusion, tab, project, rater), and one-file reports."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import streamlit as st

from components import corpus_picker
from components.model_settings import Settings
from components.text import model_name
from ranklens.corpus.corpus import Corpus
from ranklens.index.base import FirstStage
from ranklens.ranking.results import SearchResult
from ranklens.reports.report import ReportInput, build_html, comparison_csv


def link() -> str:
    """This page's address with its query parameters: opening it restores the view. The corpus is named by what is
    in use, an upload by its identity, whatever the sidebar shows."""
    base = (st.context.url or "").rstrip("/")
    params = {k: v for k, v in st.query_params.to_dict().items() if k not in ("builtin_name", corpus_picker.STORED)}
    params.update(corpus_picker.source_params())
    return f"{base}/?{urlencode(params)}" if params else f"{base}/"


def render_link() -> None:
    st.subheader("Share")
    st.caption("A link to this view (copy it with the button at its right):")
    st.code(link(), language=None, wrap_lines=True)


def _settings(stage: FirstStage, settings: Settings, result: SearchResult) -> dict[str, object]:
    return {
        "corpus": f"{stage.corpus.name} ({len(stage.corpus)} documents)",
        **{k.replace("_", " "): v for k, v in stage.describe().items()},
        "cross-encoder": f"{model_name(result.ce_model)} ({settings.backend})",
        "candidates reranked (top-N)": settings.top_n,
        "cross-encoder reads": settings.ce_passages,
        "hybrid": f"{result.fusion_method} at alpha {result.alpha:.2f}",
    }


def report_buttons(
    results: Mapping[str, SearchResult], stage: FirstStage, settings: Settings, corpus: Corpus, key: str
) -> None:
    """ "Download report" (one HTML file, made when clicked) and the comparison as CSV."""
    if not results:
        return
    first = next(iter(results.values()))
    report = ReportInput(
        corpus.name, corpus.key, _settings(stage, settings, first), dict(results), settings.top_k, corpus.qrels
    )
    html_column, csv_column = st.columns(2)
    html_column.download_button(
        "Download report (one HTML file)",
        data=lambda: build_html(report),
        file_name="ranklens-report.html",
        mime="text/html",
        key=f"{key}_report",
        help="Opens offline in any browser: rankings with arrows, the rank-flow chart, metrics where judged, latency",
    )
    csv_column.download_button(
        "Download the comparison (CSV)",
        data=lambda: comparison_csv(results, settings.top_k),
        file_name="ranklens-comparison.csv",
        mime="text/csv",
        key=f"{key}_csv",
    )
