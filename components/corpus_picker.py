"""Sidebar panel: a built-in corpus, files to upload, or a corpus stored earlier; a bad upload keeps the previous one.

Uploads are checked by size before they are read, tables are previewed before Load, and a
loaded upload is stored on the server under its identity (ranklens.corpus.stored), so links and
reloads can reopen it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from components.text import literal
from ranklens.corpus.corpus import Corpus, CorpusError, builtin_names
from ranklens.corpus.loading import load_builtin
from ranklens.corpus.readers import SUPPORTED_SUFFIXES, TABLE_SUFFIXES, check_sizes, corpus_name, load_uploads
from ranklens.corpus.sources import Source
from ranklens.corpus.stored import open_corpus, save_corpus, stored_corpora
from ranklens.corpus.tables import ID_COLUMN_NAMES, TITLE_COLUMN_NAMES, TableColumns, named_column, preview_table

CORPUS = "corpus"  # the Corpus in use
SOURCE = "corpus_source"  # what it was loaded from, to know when to load again
UPLOAD_ERROR = "corpus_upload_error"
MODE = "corpus_mode"
STORED = "stored_corpus"
SWITCH_TO_STORED = "corpus_switch_to_stored"  # set by a loaded upload; applied before the widgets are drawn
DEFAULT_BUILTIN = "python"
MODES = ["Built-in", "Upload", "Stored"]
NONE = "(none)"


def _default(header: list[str], wanted: tuple[str, ...]) -> str:
    return named_column(header, wanted) or NONE


def _table_columns(table, signature: str) -> TableColumns | None:
    """The column pickers for the first table of the upload, with a preview of its first rows."""
    try:
        detected = preview_table(Source.from_upload(table))
        header = st.checkbox("First row is a header", value=detected.has_header, key=f"csv_header|{signature}")
        preview = detected if header == detected.has_header else preview_table(Source.from_upload(table), header)
    except CorpusError as err:
        st.error(literal(str(err)))
        return None
    shown = pd.DataFrame(preview.rows, columns=[f"{i + 1}: {name}" for i, name in enumerate(preview.header)])
    st.dataframe(shown, hide_index=True, height=180)
    names = preview.header
    text_index = names.index(preview.text_column) if preview.text_column in names else None
    text = st.selectbox(
        "Text column",
        names,
        index=text_index,
        key=f"csv_text|{signature}",
        placeholder="choose the column with the text",
    )
    optional = [NONE, *names]
    doc_id = st.selectbox(
        "Id column", optional, index=optional.index(_default(names, ID_COLUMN_NAMES)), key=f"csv_id|{signature}"
    )
    title = st.selectbox(
        "Title column",
        optional,
        index=optional.index(_default(names, TITLE_COLUMN_NAMES)),
        key=f"csv_title|{signature}",
    )
    if text is None:
        return None
    return TableColumns(
        text=text, id="" if doc_id == NONE else doc_id, title="" if title == NONE else title, header=header
    )


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
    sources = [Source.from_upload(f) for f in files]
    try:
        check_sizes(sources)  # from the sizes the browser sent, before a byte is parsed
    except CorpusError as err:
        st.error(literal(str(err)))
        return
    signature = "|".join(f"{s.name}:{s.size}" for s in sources)
    columns = TableColumns()
    tables = [f for f in files if Path(f.name).suffix.lower() in TABLE_SUFFIXES]
    if tables:
        columns = _table_columns(tables[0], signature)
        if columns is None:
            return
    name = st.text_input("Corpus name", value=corpus_name(sources), key=f"upload_name|{signature}")
    if st.button("Load uploaded files", type="primary", key="load_upload"):
        try:
            corpus = load_uploads(files, columns=columns, name=name.strip() or None)
            save_corpus(corpus)
        except (CorpusError, OSError) as err:
            st.session_state[UPLOAD_ERROR] = str(err)
        else:
            use(corpus, ("stored", corpus.key))
            # shown as the stored corpus it now is, so the page's link reopens it
            st.session_state[SWITCH_TO_STORED] = corpus.key
            st.rerun()


def source_params() -> dict[str, str]:
    """The URL parameters that name the corpus in use (not the sidebar's state: a failed upload leaves the sidebar
    on Upload while the previous corpus stays in use): a built-in by name, anything else by its identity."""
    kind, name = st.session_state.get(SOURCE, ("", ""))
    if kind == "builtin":
        return {MODE: "Built-in", "builtin_name": name}
    if kind == "stored":
        return {MODE: "Stored", STORED: name}
    return {}


def use(corpus: Corpus, source: tuple[str, str]) -> None:
    """Make `corpus` the one in use (from any panel, or a link)."""
    st.session_state[CORPUS] = corpus
    st.session_state[SOURCE] = source
    st.session_state.pop(UPLOAD_ERROR, None)


def _stored_picker() -> None:
    stored = stored_corpora()
    if not stored:
        st.caption("No corpus stored yet: an uploaded corpus is stored here when it loads.")
        return
    current = st.session_state.get(SOURCE, ("", ""))
    keys = list(stored)
    if STORED not in st.session_state:  # a new session: the corpus in use, else the one the link names
        named = current[1] if current[0] == "stored" else st.query_params.get(STORED)
        if named in keys:
            st.session_state[STORED] = named
    # kept in the URL by hand: a widget bound to the URL leaves out a value chosen by code (a loaded upload), and a
    # link without the corpus's identity would open whichever corpus is first
    key = st.selectbox(
        "Stored corpus",
        keys,
        index=None,
        format_func=lambda k: f"{stored[k]} ({k[:9]})",
        key=STORED,
        placeholder="Pick a stored corpus",
    )
    if key is not None and st.query_params.get(STORED) != key:
        st.query_params[STORED] = key
    if key is not None and current != ("stored", key):
        try:
            use(open_corpus(key), ("stored", key))
        except CorpusError as err:
            st.error(literal(str(err)))


def render() -> Corpus | None:
    """The corpus in use, after the person's choice in the sidebar."""
    st.subheader("Corpus")
    switched = st.session_state.pop(SWITCH_TO_STORED, None)
    if switched:
        st.session_state[MODE], st.session_state[STORED] = "Stored", switched
    mode = st.radio("Source", MODES, horizontal=True, key=MODE, bind="query-params")
    if mode == "Built-in":
        names = builtin_names()
        index = names.index(DEFAULT_BUILTIN) if DEFAULT_BUILTIN in names else 0
        name = st.selectbox("Built-in corpus", names, index=index, key="builtin_name", bind="query-params")
        if st.session_state.get(SOURCE) != ("builtin", name):
            use(load_builtin(name), ("builtin", name))
    elif mode == "Upload":
        _upload_form()
    else:
        _stored_picker()
    if mode != "Upload":
        st.session_state.pop(UPLOAD_ERROR, None)  # said where the upload was tried, not after leaving it
    if mode != "Stored":
        st.query_params.pop(STORED, None)
    if UPLOAD_ERROR in st.session_state:
        st.error(f"Upload not loaded: {literal(st.session_state[UPLOAD_ERROR])}")
        if CORPUS in st.session_state:
            st.caption(f"Still using **{literal(st.session_state[CORPUS].name)}**.")
    corpus: Corpus | None = st.session_state.get(CORPUS)
    if corpus is not None:
        judged = sum(len(v) for v in corpus.qrels.values())
        st.caption(
            f"{literal(corpus.name)}: {len(corpus)} documents, {len(corpus.queries)} queries, "
            + (f"{judged} relevance judgements of its own" if judged else "no relevance judgements of its own")
        )
        for warning in corpus.warnings:
            st.caption(f"⚠ {literal(warning)}")
    return corpus
