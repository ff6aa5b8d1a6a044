"""Caches panel: what RankLens keeps under $RANKLENS_HOME that it can make again, how big each is, and clearing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import model_settings
from components.text import literal
from ranklens import caches
from ranklens.settings import data_dir
from ranklens.sqlite_cache import unusable_files

CLEARED = "caches_cleared"  # what the last click cleared, said after the rerun
# Cleared from the command line only: this app may hold the Milvus Lite file open for a first stage, and an
# unfinished ingestion belongs to the `ranklens ingest` run that resumes it.
COMMAND_LINE_ONLY = ("milvus-lite", "ingestions")


def _note(cache: caches.CacheSize) -> str:
    if cache.damaged:
        return "damaged: SQLite cannot read it (clearing removes it)"
    if cache.stale:
        return (
            f"{cache.stale} stale: other library versions or an earlier layout ({caches.size_text(cache.stale_size)})"
        )
    return ""


def _clear(names: list[str], stale: bool) -> None:
    done = []
    if stale:
        removed = caches.remove_stale_exports()
        done.append(f"{removed.entries} stale exports ({caches.size_text(removed.size)})")
    for name in names:
        before = caches.clear(name)
        if name == caches.BACKEND_CHOICES:
            model_settings.forget_measured()  # the sessions' next rerun measures again, not this process's memory
        done.append(f"{name} ({before.entries} entries, {caches.size_text(before.size)})")
    st.session_state[CLEARED] = done


def warn_unusable() -> None:
    """A warning for each cache file this server went on without (damaged, a read-only home): the work goes on,
    slower, until it is cleared here."""
    for path, reason in unusable_files().items():
        st.warning(
            f"The cache file {literal(str(path))} cannot be used ({literal(reason)}): RankLens goes on without it, "
            "so what it would save is computed again. Clear it in the Latency tab (Caches on disk) to make it anew."
        )


def render() -> None:
    st.markdown("#### Caches on disk")
    st.caption(
        f"Under `{data_dir()}`: each is made again when it is needed, at the cost of time. Projects, labels, "
        "stored corpora and saved runs are data, not caches: not listed here, never cleared."
    )
    measured = caches.measure_all()
    st.dataframe(
        pd.DataFrame(
            {
                "cache": [c.name for c in measured],
                "holds": [caches.HOLDS[c.name] for c in measured],
                "entries": [c.entries for c in measured],
                "size": [caches.size_text(c.size) for c in measured],
                "note": [_note(c) for c in measured],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if (done := st.session_state.pop(CLEARED, None)) is not None:
        st.success("Cleared: " + "; ".join(done) + "." if done else "Nothing was chosen to clear.")
    with st.form("clear_caches", border=False):
        names = st.multiselect(
            "Caches to clear",
            [c.name for c in measured if c.name not in COMMAND_LINE_ONLY],
            key="caches_to_clear",
            help="`python -m ranklens cache --clear` clears the others too: " + ", ".join(COMMAND_LINE_ONLY),
        )
        stale = st.checkbox(
            "Remove the stale exports (other library versions or an earlier layout)",
            key="caches_stale_exports",
            disabled=not any(c.stale for c in measured),
        )
        if st.form_submit_button("Clear", key="caches_clear"):
            _clear(names, stale)
            st.rerun()
