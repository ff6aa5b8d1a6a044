"""Throughput panel: the loaded models against the tutorial's code on this corpus, as `ranklens bench` does."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import resources
from components.model_settings import Settings
from components.text import literal
from ranklens.index.base import FirstStage
from ranklens.models.loading import ModelError
from ranklens.speed.bench import DEFAULT_SIZES, SEED, index_speed, ranklens_reranker, rerank_speed, seed_reranker

THROUGHPUT = "throughput_rows"
INDEX_SAMPLE = 64  # documents embedded per indexing round: a few seconds per implementation


@st.cache_resource(show_spinner="Loading the tutorial's cross-encoder code…")
def _seed(name: str):
    return seed_reranker(name)


def _run(stage: FirstStage, settings: Settings, sizes: list[int], repeats: int, with_indexing: bool) -> None:
    """Time the rerankings (and the indexing) and keep the rows for the page."""
    try:
        reranker = resources.reranker(settings.ce_model, settings.backend)
        embedder = resources.embedder(settings.bi_model, settings.bi_backend)
    except ModelError as err:
        st.error(str(err))
        return
    implementations = {
        SEED: _seed(reranker.name),
        f"ranklens {reranker.backend}": ranklens_reranker(reranker, settings.ce_batch),
    }
    query = next(iter(stage.corpus.queries.values()), None) or stage.passages.text(0)[:80]
    bar = st.progress(0.0, text="Reranking…")
    rows = rerank_speed(
        implementations,
        query,
        stage.passages.texts(range(min(1000, len(stage.passages)))),
        sorted(sizes),
        int(repeats),
        stage.corpus.name,
        progress=lambda done, total: bar.progress(done / total, text=f"Run {done} of {total}"),
    )
    if with_indexing:
        bar.progress(0.0, text="Indexing…")
        texts = [d.full_text for d in stage.corpus.documents[:INDEX_SAMPLE]]
        rows += index_speed(
            {embedder.backend: embedder},
            texts,
            int(repeats),
            stage.corpus.name,
            progress=lambda done, total: bar.progress(done / total, text=f"Indexing {done} of {total}"),
        )
    bar.empty()
    st.session_state[THROUGHPUT] = (f"{reranker.name} ({reranker.backend}, batches of {settings.ce_batch})", rows)


def _show() -> None:
    """The last run's table and latency chart."""
    import altair as alt  # imported when drawn: it takes 0.2 s, and a relaunched app's first page does without it

    model, rows = st.session_state[THROUGHPUT]
    frame = pd.DataFrame(rows)
    st.caption(
        f"Cross-encoder: {model}. 'vs tutorial' is against the tutorial's code (CrossEncoder.predict in fp32): "
        "above 1 is better, faster or more pairs per second."
    )
    st.dataframe(frame.drop(columns="dataset").round(3), hide_index=True, width="stretch")
    latency = frame[frame["measure"].str.startswith("latency")].assign(
        candidates=lambda f: f["measure"].str.extract(r"(\d+) candidates")[0].astype(int)
    )
    st.altair_chart(
        alt.Chart(latency)
        .mark_bar()
        .encode(
            x=alt.X("candidates:O"),
            xOffset="implementation:N",
            y=alt.Y("value:Q", title="latency (ms)"),
            color="implementation:N",
            tooltip=[
                "implementation",
                "candidates",
                alt.Tooltip("value:Q", format=".1f"),
                alt.Tooltip("vs tutorial:Q", format=".2f"),
            ],
        ),
        width="stretch",
    )


def render(stage: FirstStage, settings: Settings) -> None:
    st.markdown(
        "Reranks N candidates of this corpus with the loaded cross-encoder and with the tutorial's code "
        "(`CrossEncoder.predict` on the unsorted pairs, torch fp32), interleaved, the median of the rounds; "
        "then indexes a sample of documents both ways. `python bench/rerank_speed.py` does the same on the "
        "shared datasets."
    )
    sizes = st.multiselect("Candidates", list(DEFAULT_SIZES), default=[10, 100], key="throughput_sizes")
    if sizes and max(sizes) > len(stage.passages):
        st.caption(
            f"{literal(stage.corpus.name)} has {len(stage.passages)} passages: to make more candidates, they repeat "
            "(each pair is scored every time, by both paths: neither reads the score cache)."
        )
    repeats = st.number_input("Rounds", 1, 10, 3, key="throughput_repeats")
    with_indexing = st.checkbox(f"Also time indexing ({INDEX_SAMPLE} documents)", value=False, key="throughput_index")
    if st.button("Run throughput benchmark", key="throughput_run", disabled=not sizes):
        _run(stage, settings, sizes, int(repeats), with_indexing)
    if THROUGHPUT in st.session_state:
        _show()
