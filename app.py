"""RankLens: see, explain and improve a reranker. Wires the panels in components/ together."""

import streamlit as st

from components import (
    cache_panel,
    corpus_picker,
    eval_panel,
    exports_panel,
    index_status,
    judging_panel,
    latency_panel,
    layout,
    model_settings,
    project_settings,
    query_set_panel,
    results_view,
    search_panel,
    share,
    throughput_panel,
    train_panel,
)

st.set_page_config(page_title="RankLens", page_icon="🔎", layout="wide")
layout.compact_page()

with st.sidebar:
    st.markdown("## RankLens")
    st.caption("First stage and cross-encoder reranking, side by side.")
    corpus = corpus_picker.render()
    models_box = st.container()  # drawn above the project settings, but needs them: fine-tuned models are offered
    project = project_settings.render()
    with models_box:
        settings = model_settings.render(project, corpus)

if corpus is None or settings is None:
    st.info(
        "Pick a built-in corpus or upload files in the sidebar."
        if corpus is None
        else "The first stage needs its input in the sidebar."
    )
    st.stop()
if project is not None:
    project_settings.attach(project, corpus)
search_panel.load_models_ahead(corpus, settings)  # before the index loads: see its docstring

first = index_status.render(corpus, settings)
if first is None:
    st.stop()
# Above the tabs: what every tab works on stays in the URL whichever tab is open.
query_column, hybrid_column = st.columns([3, 2], vertical_alignment="bottom")
with query_column:
    search_panel.query_box(corpus)
with hybrid_column:
    results_view.hybrid_controls()


def latency_and_caches() -> None:
    latency_panel.render()
    cache_panel.render()


PANELS = {
    "Search": lambda: search_panel.render(first, settings, project),
    "Label": lambda: judging_panel.render(first, settings, project),
    "Labels & export": lambda: exports_panel.render(corpus, project),
    "Evaluate": lambda: eval_panel.render(first, settings, project),
    "Query set": lambda: query_set_panel.render(first, settings),
    "Fine-tune": lambda: train_panel.render(first, settings, project),
    "Latency": latency_and_caches,
    "Throughput": lambda: throughput_panel.render(first, settings),
}
# Only the open tab runs: a click in one panel must not redo another panel's work.
for tab, draw in zip(
    st.tabs(list(PANELS), key=search_panel.TAB, on_change="rerun", bind="query-params"), PANELS.values()
):
    if tab.open:
        with tab:
            draw()
cache_panel.warn_unusable()  # after the tabs: their work is what finds a damaged cache file
with st.sidebar:
    share.render_link()  # last: every widget has put its value in the URL by now
