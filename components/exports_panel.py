"""Labels & export panel: what has been judged, how raters agree, exports for training and evaluation, imports,
and judgements from before corpora had identities that this corpus can claim."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from components.project_settings import Project
from components.text import literal
from ranklens.corpus.corpus import Corpus
from ranklens.corpus.textclean import clean_name
from ranklens.labelling.export import FORMATS, beir_zip, export_text
from ranklens.labelling.imports import check_import_size, import_qrels, import_raw
from ranklens.labelling.labels import AGGREGATION_RULE, LabelError
from ranklens.labelling.raters import agreement

MIME = {
    "pairs-csv": "text/csv",
    "pairs-jsonl": "application/jsonl",
    "triplets": "text/csv",
    "qrels": "text/plain",
    "raw": "text/csv",
    "beir": "application/zip",
}
SUFFIX = {
    "pairs-csv": "pairs.csv",
    "pairs-jsonl": "pairs.jsonl",
    "triplets": "triplets.csv",
    "qrels": "qrels.txt",
    "raw": "judgements.csv",
    "beir": "beir.zip",
}


def _summary(project: Project, corpus: Corpus) -> pd.DataFrame:
    rows: dict[str, dict] = {}
    for j in project.store.judgements(corpus.key):
        fresh = {"query": j.query, "judgements": 0, "documents": set(), "raters": set(), "can't rate": 0, "later": 0}
        row = rows.setdefault(j.query_id, fresh)
        row["judgements"] += 1
        row["documents"].add(j.doc_id)
        row["raters"].add(j.rater)
        row["can't rate"] += j.grade is None
        row["later"] += j.later
    return pd.DataFrame(
        [{**r, "documents": len(r["documents"]), "raters": ", ".join(sorted(r["raters"]))} for r in rows.values()]
    )


def _import(project: Project, corpus: Corpus) -> None:
    st.markdown("#### Import")
    kind = st.radio("File", ["TREC or BEIR qrels", "raw judgement export"], horizontal=True, key="import_kind")
    upload = st.file_uploader("Judgements file", type=["txt", "tsv", "qrels", "csv"], key="import_file")
    rater = st.text_input(
        "Store qrels under the rater", value="imported", key="import_rater", disabled=kind != "TREC or BEIR qrels"
    )
    if not st.button("Import", key="import_run", disabled=upload is None):
        return
    name = clean_name(upload.name)
    try:
        check_import_size(name, upload.size)  # before a byte of it is read
        if kind == "raw judgement export":
            count = import_raw(project.store, name, upload.getvalue())
        else:
            count = import_qrels(project.store, name, upload.getvalue(), corpus, rater.strip() or "imported")
    except LabelError as err:
        st.error(f"Nothing imported: {literal(str(err))}")
    else:
        st.success(f"Imported {count} judgements.")


def _legacy(project: Project, corpus: Corpus) -> None:
    """Judgements stored under a name before corpora had identities, which this corpus matches document for document."""
    for found in project.store.legacy_labels(corpus):
        if not found.claimable:
            continue
        st.info(
            f"{found.judgements} judgements were stored as **{literal(found.name)}** before corpora had "
            f"identities; all {found.documents} documents they judge are in this corpus with the same text."
        )
        if st.button(f"Move them to {literal(corpus.name)}", key=f"adopt|{found.name}"):
            moved = project.store.adopt_legacy(corpus, found.name)
            st.success(f"Moved {moved} judgements.")


def _exports(project: Project, corpus: Corpus) -> None:
    st.markdown("#### Export")
    st.caption(
        "CSV cells that a spreadsheet would run as a formula (=, +, -, @ ...) get a leading apostrophe; "
        "JSONL, TREC and BEIR keep every text exactly."
    )
    columns = st.columns(3)
    base = clean_name(corpus.name)
    for position, (fmt, description) in enumerate(FORMATS.items()):
        # built on click, not on every rerun of the page (every grade click is a rerun)
        if fmt == "beir":
            data = partial(beir_zip, project.store, corpus.key, base)
        else:
            data = partial(export_text, project.store, corpus.key, fmt)
        columns[position % 3].download_button(
            description, data, file_name=f"{base}-{SUFFIX[fmt]}", mime=MIME[fmt], key=f"export_{fmt}", width="stretch"
        )


def render(corpus: Corpus, project: Project | None) -> None:
    if project is None:
        return
    st.caption(
        f"Aggregation over raters: {AGGREGATION_RULE}. Exported qrels round the aggregate half up; "
        "training labels are the aggregate divided by 3."
    )
    _legacy(project, corpus)
    summary = _summary(project, corpus)
    if summary.empty:
        st.info(f"No judgements for {literal(corpus.name)} in project {project.name} yet.")
    else:
        st.dataframe(summary, hide_index=True, width="stretch")
        raters = agreement(project.store.judgements(corpus.key))
        if not raters.empty:
            st.markdown("#### Agreement between raters")
            st.caption("On the pairs both raters graded; kappa is Cohen's, quadratically weighted over the 0-3 grades.")
            st.dataframe(raters, hide_index=True, width="stretch")
        _exports(project, corpus)
    _import(project, corpus)
