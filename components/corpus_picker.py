"""Sidebar panel: pick a built-in corpus or upload files; a bad upload keeps the previous corpus."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ranklens.corpus import (
    SUPPORTED_SUFFIXES,
    TABLE_SUFFIXES,
    Corpus,
    CorpusError,
    TableColumns,
    builtin_names,
    load_builtin,
    load_files,
    table_columns,
)

CORPUS = "corpus"  # the Corpus in use
SOURCE = "corpus_source"  # what it was loaded from, to know when to load again
UPLOAD_ERROR = "corpus_upload_error"
DEFAULT_BUILTIN = "python"


def _upload_form() -> None:
    files = st.file_uploader(
        "Upload files",
        type=sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES),
        accept_multiple_files=True,
        key="upload_files",
        help="txt, md, csv/tsv, jsonl (BEIR {_id,title,text} or {id,text}) and pdf; several at once",
    )
    if not files:
        return
    columns = TableColumns()
    tables = [f for f in files if Path(f.name).suffix.lower() in TABLE_SUFFIXES]
    if tables:
        try:
            header = table_columns(tables[0].name, tables[0].getvalue())
        except CorpusError as err:
            st.error(str(err))
            return
        text = st.selectbox(
            "Text column", header, index=header.index("text") if "text" in header else 0, key="csv_text"
        )
        optional = ["(none)", *header]
        doc_id = st.selectbox("Id column", optional, key="csv_id")
        title = st.selectbox("Title column", optional, key="csv_title")
        columns = TableColumns(
            text=text, id=None if doc_id == "(none)" else doc_id, title=None if title == "(none)" else title
        )
    if st.button("Load uploaded files", type="primary", key="load_upload"):
        try:
            corpus = load_files(
                [(f.name, f.getvalue()) for f in files], name=f"upload ({len(files)} files)", columns=columns
            )
        except CorpusError as err:
            st.session_state[UPLOAD_ERROR] = str(err)
        else:
            st.session_state[CORPUS] = corpus
            st.session_state[SOURCE] = ("upload", tuple(f.name for f in files))
            st.session_state.pop(UPLOAD_ERROR, None)


def render() -> Corpus | None:
    """The corpus in use, after the person's choice in the sidebar."""
    st.subheader("Corpus")
    names = builtin_names()
    mode = st.radio("Source", ["Built-in", "Upload"], horizontal=True, key="corpus_mode")
    if mode == "Built-in":
        name = st.selectbox(
            "Built-in corpus",
            names,
            index=names.index(DEFAULT_BUILTIN) if DEFAULT_BUILTIN in names else 0,
            key="builtin_name",
        )
        if st.session_state.get(SOURCE) != ("builtin", name):
            st.session_state[CORPUS] = load_builtin(name)
            st.session_state[SOURCE] = ("builtin", name)
    else:
        _upload_form()
    if UPLOAD_ERROR in st.session_state:
        st.error(f"Upload not loaded: {st.session_state[UPLOAD_ERROR]}")
        if CORPUS in st.session_state:
            st.caption(f"Still using **{st.session_state[CORPUS].name}**.")
    corpus: Corpus | None = st.session_state.get(CORPUS)
    if corpus is not None:
        st.caption(
            f"{corpus.name}: {len(corpus)} documents, {len(corpus.queries)} queries, "
            f"{sum(len(v) for v in corpus.qrels.values())} judgements"
        )
    return corpus
