"""RankLens: see, explain and improve a reranker. Wires the panels in components/ together."""

import streamlit as st

from components import (
    corpus_picker,
    eval_panel,
    exports_panel,
    index_status,
    judging_panel,
    latency_panel,
    model_settings,
    project_settings,
    search_panel,
    throughput_panel,
    train_panel,
)

st.set_page_config(page_title="RankLens", page_icon="🔎", layout="wide")
st.title("RankLens")
st.caption("Bi-encoder retrieval and cross-encoder reranking, side by side.")

with st.sidebar:
    corpus = corpus_picker.render()
    models_box = st.container()  # drawn above the project settings, but needs them: fine-tuned models are offered
    project = project_settings.render()
    with models_box:
        settings = model_settings.render(project)

if corpus is None:
    st.info("Pick a built-in corpus or upload files in the sidebar.")
    st.stop()

index = index_status.render(corpus, settings.bi_model, settings.bi_backend)
if index is None:
    st.stop()

search_tab, label_tab, labels_tab, eval_tab, train_tab, latency_tab, throughput_tab = st.tabs(
    ["Search", "Label", "Labels & export", "Evaluate", "Fine-tune", "Latency", "Throughput"]
)
with search_tab:
    result = search_panel.render(index, settings, project)
with label_tab:
    judging_panel.render(result, corpus, project, settings.top_k)
with labels_tab:
    exports_panel.render(corpus, project)
with eval_tab:
    eval_panel.render(index, settings, project)
with train_tab:
    train_panel.render(index, settings, project)
with latency_tab:
    latency_panel.render()
with throughput_tab:
    throughput_panel.render(index, settings)
