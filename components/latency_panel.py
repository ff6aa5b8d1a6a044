"""Latency panel: where the time of the last query went, and latency over the session."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.search_panel import LATENCY_LOG

STAGES = ["model load", "query embed", "first stage", "cross-encoder"]  # model load: models left on disk until needed


def render() -> None:
    import altair as alt  # imported when drawn: it takes 0.2 s, and a relaunched app's first page does without it

    log = st.session_state.get(LATENCY_LOG, [])
    if not log:
        st.info("Run a query to see where its time goes.")
        return
    frame = pd.DataFrame(log)
    last = frame.iloc[-1]
    st.markdown("#### Last query")
    stages = pd.DataFrame({"stage": STAGES, "ms": [float(last[s]) for s in STAGES]})
    st.altair_chart(
        alt.Chart(stages)
        .mark_bar()
        .encode(
            x=alt.X("ms:Q", title="milliseconds"),
            y=alt.Y("stage:N", sort=STAGES, title=None),
            color=alt.Color("stage:N", sort=STAGES, legend=None),
            tooltip=["stage", alt.Tooltip("ms:Q", format=".1f")],
        ),
        width="stretch",
    )
    st.caption(
        f"Total {last['total']:.0f} ms; {int(last['pairs scored'])} pairs scored by the cross-encoder, "
        f"{int(last['pairs cached'])} from its cache."
    )
    st.markdown("#### This session")
    long_form = frame.melt(id_vars=["query #", "query"], value_vars=STAGES, var_name="stage", value_name="ms")
    st.altair_chart(
        alt.Chart(long_form)
        .mark_bar()
        .encode(
            x=alt.X("query #:O"),
            y=alt.Y("ms:Q", stack="zero", title="milliseconds"),
            color=alt.Color("stage:N", sort=STAGES),
            tooltip=["query", "stage", alt.Tooltip("ms:Q", format=".1f")],
        ),
        width="stretch",
    )
    st.dataframe(frame.round(1), hide_index=True, width="stretch")
