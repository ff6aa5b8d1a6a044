"""Labels panel: what has been judged, how raters agree, exports for training and evaluation, imports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.project_settings import Project
from ranklens.corpus import Corpus
from ranklens.export import FORMATS, beir_zip, export_text
from ranklens.imports import import_qrels, import_raw
from ranklens.labels import AGGREGATION_RULE, LabelError, agreement

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
    for j in project.store.judgements(corpus.name):
        row = rows.setdefault(
            j.query_id, {"query": j.query, "judgements": 0, "documents": set(), "raters": set(), "can't rate": 0}
        )
        row["judgements"] += 1
        row["documents"].add(j.doc_id)
        row["raters"].add(j.rater)
        row["can't rate"] += j.grade is None
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
    if st.button("Import", key="import_run", disabled=upload is None):
        try:
            if kind == "raw judgement export":
                count = import_raw(project.store, upload.name, upload.getvalue())
            else:
                count = import_qrels(
                    project.store,
                    upload.name,
                    upload.getvalue(),
                    corpus.name,
                    {d.id: d for d in corpus.documents},
                    corpus.queries,
                    rater.strip() or "imported",
                )
        except LabelError as err:
            st.error(f"Nothing imported: {err}")
        else:
            st.success(f"Imported {count} judgements.")


def render(corpus: Corpus, project: Project | None) -> None:
    if project is None:
        return
    st.caption(
        f"Aggregation over raters: {AGGREGATION_RULE}. Exported qrels round the aggregate half up; "
        "training labels are the aggregate divided by 3."
    )
    summary = _summary(project, corpus)
    if summary.empty:
        st.info(f"No judgements for {corpus.name} in {project.store.path} yet.")
    else:
        st.dataframe(summary, hide_index=True, width="stretch")
        raters = agreement(project.store.judgements(corpus.name))
        if not raters.empty:
            st.markdown("#### Agreement between raters")
            st.caption("On the pairs both raters graded; kappa is Cohen's, quadratically weighted over the 0-3 grades.")
            st.dataframe(raters, hide_index=True, width="stretch")
        st.markdown("#### Export")
        columns = st.columns(3)
        for position, (fmt, description) in enumerate(FORMATS.items()):
            # built on click, not on every rerun of the page (every grade click is a rerun)
            data = (
                (lambda: beir_zip(project.store, corpus.name))
                if fmt == "beir"
                else (lambda fmt=fmt: export_text(project.store, corpus.name, fmt))
            )
            columns[position % 3].download_button(
                description,
                data,
                file_name=f"{corpus.name}-{SUFFIX[fmt]}",
                mime=MIME[fmt],
                key=f"export_{fmt}",
                width="stretch",
            )
    _import(project, corpus)
