"""Sidebar panel: which first stage proposes the candidates, its knobs, and an optional second one to compare.

A run file from another engine is uploaded here; it is kept under $RANKLENS_HOME/runs by its
content. Milvus is the server the operator configured (RANKLENS_MILVUS_URI), else Milvus Lite
in a file: a browser user cannot point the server at another address.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from components.text import literal
from ranklens.corpus.textclean import clean_name
from ranklens.index.dense import AnnSettings
from ranklens.index.lexical import BM25Settings
from ranklens.index.milvus import MilvusSettings
from ranklens.index.registry import DEFAULT_FIRST_STAGE, FIRST_STAGES, FirstStageSettings
from ranklens.labelling.imports import check_import_size
from ranklens.labelling.labels import LabelError
from ranklens.settings import data_dir

FIRST_STAGE = "first_stage"
COMPARE = "compare_first_stage"
NONE = "(none)"


def _run_file() -> Path | None:
    upload = st.file_uploader(
        "Run file (TREC, or CSV query,doc_id,score)", type=["trec", "txt", "tsv", "csv", "run"], key="run_file"
    )
    if upload is None:
        return None
    try:
        check_import_size(clean_name(upload.name), upload.size)
    except LabelError as err:
        st.error(literal(str(err)))
        return None
    data = upload.getvalue()
    folder = data_dir() / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}-{clean_name(upload.name)}"
    if not path.exists():
        path.write_bytes(data)
    return path


def _knobs(name: str) -> tuple[AnnSettings, BM25Settings, MilvusSettings]:
    ann, bm25, milvus = AnnSettings(), BM25Settings(), MilvusSettings()
    if name == "faiss-hnsw":
        ann = AnnSettings(
            hnsw_m=st.select_slider("HNSW M", [8, 16, 32, 48, 64], value=ann.hnsw_m, key="hnsw_m"),
            ef_search=st.select_slider("efSearch", [16, 32, 64, 128, 256, 512], value=ann.ef_search, key="ef_search"),
        )
    elif name == "faiss-ivf":
        ann = AnnSettings(
            nprobe=st.select_slider("nprobe (cells searched)", [1, 2, 4, 8, 16, 32, 64], value=ann.nprobe, key="nprobe")
        )
    if name in ("bm25", "bm25+faiss", "milvus-bm25", "milvus-hybrid"):
        stemming = st.checkbox("Stemming (Snowball)", value=True, key="bm25_stemming")
        stopwords = st.checkbox("Remove English stopwords", value=True, key="bm25_stopwords")
        level = (
            "passage"
            if name.startswith("milvus")
            else st.radio(
                "BM25 scores",
                ["document", "passage"],
                horizontal=True,
                key="bm25_level",
                help="whole documents, as BEIR's BM25 baseline; or each passage, a document by its best",
            )
        )
        bm25 = BM25Settings(stemming=stemming, stopwords=stopwords, level=level)
        milvus = MilvusSettings(bm25=BM25Settings(stemming=stemming, stopwords=stopwords, level="passage"))
    if name.startswith("milvus"):
        where = MilvusSettings().resolved_uri()
        st.caption(f"Milvus: {literal(where if '://' in where else 'Milvus Lite, a file in RANKLENS_HOME')}")
    return ann, bm25, milvus


def render() -> tuple[FirstStageSettings | None, str | None]:
    """The first stage's settings (None until a run file is given for `run`), and a second first stage's name to
    show beside it (None: no fourth column)."""
    names = list(FIRST_STAGES)
    name = st.selectbox(
        "First stage",
        names,
        index=names.index(DEFAULT_FIRST_STAGE),
        key=FIRST_STAGE,
        bind="query-params",
        persist_state="session",
        help="What proposes the top-N candidates the cross-encoder reranks: "
        + " · ".join(f"{n}: {what}" for n, what in FIRST_STAGES.items()),
    )
    st.caption(FIRST_STAGES[name])
    with st.expander("First-stage settings", expanded=name != DEFAULT_FIRST_STAGE):
        ann, bm25, milvus = _knobs(name)
        run_file = _run_file() if name == "run" else None
    compare = st.selectbox(
        "Compare with another first stage",
        [NONE, *[n for n in names if n not in (name, "run")]],
        key=COMPARE,
        bind="query-params",
        persist_state="session",
        help="A fourth column: that engine's ranking, with arrows against the first stage's",
    )
    if name == "run" and run_file is None:
        st.info("Upload a run file to use it as the first stage.")
        return None, None
    settings = FirstStageSettings(name, ann=ann, bm25=bm25, milvus=milvus, run_file=run_file)
    return settings, None if compare == NONE else compare
