"""Sidebar panel: which models, and the search knobs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import streamlit as st

from components import first_stage_picker
from components.project_settings import Project
from components.text import literal
from ranklens.backends.registry import BACKENDS, offered
from ranklens.corpus.corpus import Corpus
from ranklens.index.registry import FirstStageSettings
from ranklens.models.allowed import check_allowed
from ranklens.models.files import looks_like_a_path
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, ModelError, configured_fallbacks, in_use
from ranklens.models.reranker import BUDGETS, DEFAULT_CE_BATCH
from ranklens.ranking.search import DEFAULT_TOP_N
from ranklens.speed.calibration import AUTO, Choice, forget_known_choice, known_choice, measured_backend
from ranklens.training.train import tuned_models

DEFAULT_BUDGET = "window"


@dataclass(frozen=True)
class Settings:
    bi_model: str
    ce_model: str
    top_n: int
    top_k: int
    ce_passages: str
    backend: str  # the cross-encoder's
    bi_backend: str = "torch"
    ce_batch: int = DEFAULT_CE_BATCH
    first: FirstStageSettings = field(default_factory=FirstStageSettings)
    compare: str | None = None  # a second first stage shown beside the first
    ce_max_tokens: int | None = None  # the cross-encoder's token budget per pair; None: the model's window


def _allowed(role: str, name: str, default: str, listed: list[str]) -> str:
    """The model the app may load: `name`, or the default (with a message) when `name` is not allowed."""
    try:
        check_allowed(name, listed)
    except ModelError as err:
        st.error(f"{role}: {literal(str(err))}; using {literal(default)}")
        return default
    return name


def short_name(name: str) -> str:
    """A model for a narrow sidebar: a hub id without its organisation, a local folder by its last two parts."""
    parts = name.rstrip("/").split("/")
    if not looks_like_a_path(name):
        return parts[-1]
    return name if len(parts) <= 3 else ".../" + "/".join(parts[-2:])


def _model_picker(label: str, options: list[str], kind: str, more_help: str) -> str:
    """A model by hub id or folder (the listed ones, or any typed), and a caption when a fallback stands in."""
    name = st.selectbox(
        label,
        options,
        accept_new_options=True,
        key="bi_model" if kind == "bi" else "ce_model",
        bind="query-params",
        format_func=short_name,
        help="A hub id or a local folder; type to use another." + more_help,
    )
    used, why = in_use(name, kind)
    if why:
        st.caption(f"In use: **{literal(short_name(used))}** ({literal(why)})")
    return name


@st.cache_resource(show_spinner=False)
def _choices() -> dict[str, Choice]:
    """The backend chosen for each cross-encoder in this process, shared by every session."""
    return {}


@st.cache_resource(show_spinner=False)
def _measuring() -> threading.Lock:
    """Held while a session measures: two measurements at once would each time the other's load on the cores."""
    return threading.Lock()


def _measured(ce_model: str, corpus: Corpus) -> Choice:
    """Once per model and process (and once per machine, on disk): which backend is fastest here. Keyed by the
    model alone, as the choice on disk is: the first corpus loaded only lends its pairs. The measurement's status is
    drawn here, in the session that measures, not inside a cached function: Streamlit would draw a cached call's
    elements again at every rerun, and a spinner saying "Measuring…" would stay in the sidebar for good."""
    choices = _choices()
    if ce_model in choices:
        return choices[ce_model]
    lock = _measuring()
    if not lock.acquire(blocking=False):
        with st.spinner("Another session is measuring the cross-encoder's backends on this CPU…"):
            lock.acquire()
    try:
        if ce_model not in choices:
            choices[ce_model] = known_choice(ce_model) or _measure_now(ce_model, corpus)
        return choices[ce_model]
    finally:
        lock.release()


def forget_measured(ce_model: str | None = None) -> None:
    """Forget this process's choice for `ce_model` (every model's, with None), so that the next rerun reads the
    choice from disk again, or measures again where it is no longer there."""
    if ce_model is None:
        _choices().clear()
    else:
        _choices().pop(ce_model, None)


def _measure_now(ce_model: str, corpus: Corpus) -> Choice:
    with st.status("Measuring each cross-encoder backend on this CPU (once per machine and model)…") as status:
        bar = status.progress(0.0, text="Exporting and timing each backend…")
        choice = measured_backend(
            ce_model,
            list(corpus.queries.values()),
            [d.text for d in corpus.documents[:400]],
            notify=status.write,
            progress=lambda done, total: bar.progress(done / total, text=f"{done} of {total} backends timed"),
        )
        bar.empty()  # the steps stay listed; a finished bar would stand among the page's own
        status.update(label=f"Measured: {choice.backend}", state="complete", expanded=False)
    return choice


def _backend(ce_model: str, corpus: Corpus) -> str:
    chosen = st.selectbox(
        "Cross-encoder backend",
        [AUTO, *offered()],
        format_func=lambda b: "auto (measured on this CPU)" if b == AUTO else b,
        key="ce_backend",
        bind="query-params",
        help="auto: the fastest backend that keeps the ranking (Spearman with torch fp32 ≥ 0.99), timed on pairs of "
        "this corpus the first time and remembered for this CPU, model and library versions. A lower-precision "
        "backend shows its agreement with fp32 on every query (ONNX Runtime's fp32: torch fp32's scores to 1e-4, "
        "without loading torch). " + " · ".join(f"{b}: {BACKENDS[b]}" for b in offered()),
    )
    if chosen != AUTO:
        return chosen
    choice = _measured(ce_model, corpus)
    st.caption(f"auto → **{literal(choice.reason())}**")
    if st.button(
        "Measure again",
        key="ce_backend_measure_again",
        type="tertiary",
        help="Time every backend again on this corpus (about half a minute on 2 cores: the exports are kept), for when the "
        "machine was busy the first time. The new choice replaces the old one for this CPU and model.",
    ):
        forget_known_choice(ce_model)
        forget_measured(ce_model)
        st.rerun()
    return choice.backend


def _budget() -> int | None:
    budget = st.select_slider(
        "Cross-encoder token budget",
        ["window", *BUDGETS],
        format_func=lambda b: "whole window" if b == "window" else str(b),
        value=DEFAULT_BUDGET,
        key="ce_max_tokens",
        bind="query-params",
        help="Tokens of each (query, passage) pair the cross-encoder reads, at most its window: fewer is less work "
        "and may cost quality.",
    )
    return None if budget == "window" else int(budget)


def _search_knobs() -> tuple[FirstStageSettings | None, str | None, int, int, str]:
    st.subheader("Search")
    first, compare = first_stage_picker.render()
    top_n = st.number_input(
        "Candidates to rerank (top-N)", 1, 1000, DEFAULT_TOP_N, step=10, key="top_n", bind="query-params"
    )
    top_k = st.number_input("Rows to show (top-k)", 1, 100, 10, key="top_k", bind="query-params")
    ce_passages = st.radio(
        "Cross-encoder reads",
        ["best", "max"],
        horizontal=True,
        key="ce_passages",
        bind="query-params",
        format_func={"best": "best passage", "max": "all passages (max)"}.get,
        help="For chunked documents: the bi-encoder's best passage, or every passage keeping the best",
    )
    return first, compare, int(top_n), int(top_k), ce_passages


def render(project: Project | None, corpus: Corpus | None) -> Settings | None:
    """The models and search knobs; None while a chosen first stage still lacks its input (a run file)."""
    st.subheader("Models")
    tuned = [str(path) for path in tuned_models(project.folder)] if project else []
    bi_model = _model_picker("Bi-encoder (retrieval)", [DEFAULT_BI_ENCODER], "bi", "")
    ce_model = _model_picker(
        "Cross-encoder (reranking)",
        [DEFAULT_CROSS_ENCODER, *configured_fallbacks(), *tuned],
        "cross",
        " Models fine-tuned in this project are listed too.",
    )
    backend = _backend(ce_model, corpus) if corpus is not None else "torch"
    bi_backend = st.selectbox(
        "Bi-encoder backend",
        offered(),
        key="bi_backend",
        bind="query-params",
        help="What embeds the corpus and the queries. torch fp32 is the default: the index is "
        "built once and cached, so its speed is a one-off cost. Another backend builds an "
        "index of its own.",
    )
    ce_batch = st.select_slider(
        "Cross-encoder batch size",
        [4, 8, 16, 32, 64],
        value=DEFAULT_CE_BATCH,
        key="ce_batch",
        bind="query-params",
        help="Pairs per forward pass, sorted by token length. 16 was fastest on a 2-core CPU.",
    )
    budget = _budget()
    first, compare, top_n, top_k, ce_passages = _search_knobs()
    bi_model = _allowed("Bi-encoder", bi_model, DEFAULT_BI_ENCODER, configured_fallbacks("bi"))
    ce_model = _allowed("Cross-encoder", ce_model, DEFAULT_CROSS_ENCODER, [*configured_fallbacks(), *tuned])
    if first is None:
        return None
    return Settings(
        bi_model,
        ce_model,
        top_n,
        top_k,
        ce_passages,
        backend,
        bi_backend,
        int(ce_batch),
        first,
        compare,
        budget,
    )
