"""Sidebar panel: the project folder that holds the labels database, and who is labelling."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ranklens.labels import LabelError, LabelStore, default_project


@dataclass(frozen=True)
class Project:
    store: LabelStore
    rater: str


def render() -> Project | None:
    st.subheader("Labelling")
    folder = st.text_input(
        "Project folder",
        value=str(default_project()),
        key="project_dir",
        help="Holds labels.sqlite; every judgement is saved there the moment you click",
    )
    rater = st.text_input(
        "Rater",
        value="",
        key="rater",
        placeholder="your name",
        help="Judgements are kept per rater; several raters can judge the same documents",
    )
    try:
        store = LabelStore(folder)
    except (OSError, LabelError) as err:
        st.error(f"Cannot open the labels database in {folder}: {err}")
        return None
    st.caption(f"Labels: {store.path}")
    return Project(store, rater.strip())
