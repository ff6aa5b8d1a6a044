"""Throughput panel: rerank 10 / 100 / 1000 candidates with the loaded cross-encoder."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from components import resources
from ranklens.bench import DEFAULT_SIZES, rerank_throughput
from ranklens.index import CorpusIndex
from ranklens.models import ModelError

THROUGHPUT = "throughput_rows"


def render(index: CorpusIndex, ce_model: str, backend: str = "torch") -> None:
    st.markdown("Scores N (query, passage) pairs of this corpus with the cross-encoder, as reranking N candidates "
                "would; the median of the repeats.")
    sizes = st.multiselect("Candidates", list(DEFAULT_SIZES), default=[10, 100], key="throughput_sizes")
    repeats = st.number_input("Repeats", 1, 10, 3, key="throughput_repeats")
    if st.button("Run throughput benchmark", key="throughput_run", disabled=not sizes):
        try:
            reranker = resources.reranker(ce_model, backend)
        except ModelError as err:
            st.error(str(err))
            return
        queries = list(index.corpus.queries.values()) or [p.text[:80] for p in index.passages[:5]]
        bar = st.progress(0.0, text="Reranking…")
        rows = rerank_throughput(reranker, queries, [p.text for p in index.passages], sorted(sizes), int(repeats),
                                 progress=lambda done, total: bar.progress(done / total, text=f"Run {done} of {total}"))
        bar.empty()
        st.session_state[THROUGHPUT] = (f"{reranker.name} ({reranker.backend})", rows)
    if THROUGHPUT not in st.session_state:
        return
    model, rows = st.session_state[THROUGHPUT]
    frame = pd.DataFrame([{"candidates": r.candidates, "latency (ms)": round(r.median_ms, 1),
                           "pairs/s": round(r.pairs_per_s, 1), "repeats": r.repeats} for r in rows])
    st.caption(f"Cross-encoder: {model}")
    st.dataframe(frame, hide_index=True, width="stretch")
    st.altair_chart(
        alt.Chart(frame).mark_bar().encode(
            x=alt.X("candidates:O"), y=alt.Y("latency (ms):Q"), tooltip=list(frame.columns)
        ),
        width="stretch",
    )
