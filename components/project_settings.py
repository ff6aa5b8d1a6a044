"""Sidebar panel: the project (by name, under $RANKLENS_HOME/projects) that holds the labels, and who is labelling."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ranklens.corpus.corpus import Corpus
from ranklens.labelling.labels import LabelError, LabelStore
from ranklens.labelling.projects import DEFAULT_PROJECT, ProjectError, project_folder, project_names

PROJECT = "project_name"
RATER = "rater"


@dataclass(frozen=True)
class Project:
    name: str
    folder: Path
    store: LabelStore
    rater: str


def render() -> Project | None:
    st.subheader("Labelling")
    names = project_names()
    name = st.selectbox(
        "Project",
        names,
        index=names.index(DEFAULT_PROJECT),  # not a session default: that would win over the project in the URL
        key=PROJECT,
        bind="query-params",
        accept_new_options=True,
        help="Labels, saved runs and tuned models are kept per project; type a new name to start one "
        "(letters, digits, - and _)",
    )
    rater = st.text_input(
        "Rater",
        value="",
        key=RATER,
        bind="query-params",
        placeholder="your name",
        help="Judgements are kept per rater; several raters can judge the same documents",
    )
    try:
        folder = project_folder(name)
        store = LabelStore(folder)
    except (ProjectError, OSError, LabelError) as err:
        st.error(f"Cannot open project {name!r}: {err}")
        return None
    judged = len(store.corpora())
    st.caption(f"Labels: project **{name}** ({judged} {'corpus' if judged == 1 else 'corpora'} judged)")
    return Project(name, folder, store, rater.strip())


def attach(project: Project, corpus: Corpus) -> None:
    """Record the corpus's name in the project and claim judgements stored under that very name before corpora had
    identities (built-in corpora and folders, when every judged document matches); once per session and corpus."""
    done = st.session_state.setdefault("attached_corpora", set())
    if (project.name, corpus.key) in done:
        return
    project.store.register(corpus)
    moved = project.store.adopt_same_name(corpus)
    if moved:
        st.toast(f"{moved} judgements made before corpora had identities now belong to {corpus.name}.")
    done.add((project.name, corpus.key))
