"""Export judgements as training data and qrels (`ranklens.imports` reads them back).

Formats, each loadable unmodified by the tool it is for:
- pairs (CSV or JSONL): `query,passage,label`, label = aggregated grade / 3, for a
  sentence-transformers CrossEncoder with binary cross-entropy;
- triplets (CSV): `query,positive,negative`, positives graded >= 2, negatives graded 0;
- TREC qrels: `qid 0 docid grade` (ranx, pytrec_eval, trec_eval);
- BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv (of the judged documents);
- raw: every judgement with its rater, note and time, plus the text it was about.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from ranklens.corpus import Document
from ranklens.labels import MAX_GRADE, LabelError, LabelStore

FORMATS = {
    "pairs-csv": "training pairs, CSV (query,passage,label)",
    "pairs-jsonl": "training pairs, JSONL",
    "triplets": "hard-negative triplets, CSV (query,positive,negative)",
    "qrels": "TREC qrels (qid 0 docid grade)",
    "beir": "BEIR folder (zip in the app)",
    "raw": "raw judgements with raters, CSV",
}
RAW_COLUMNS = ["corpus", "query_id", "query", "doc_id", "grade", "rater", "note", "judged_at", "doc_title", "doc_text"]
POSITIVE_FROM = 2


def training_pairs(store: LabelStore, corpus: str) -> list[dict]:
    queries, documents = store.queries(corpus), store.documents(corpus)
    return [
        {"query": queries[qid], "passage": documents[doc_id].full_text, "label": round(grade / MAX_GRADE, 4)}
        for qid, docs in sorted(store.aggregated(corpus).items())
        for doc_id, grade in sorted(docs.items())
    ]


def triplets(store: LabelStore, corpus: str) -> list[dict]:
    queries, documents = store.queries(corpus), store.documents(corpus)
    rows = []
    for qid, docs in sorted(store.aggregated(corpus).items()):
        positives = [d for d, g in sorted(docs.items()) if g >= POSITIVE_FROM]
        negatives = [d for d, g in sorted(docs.items()) if g == 0]
        rows += [
            {"query": queries[qid], "positive": documents[p].full_text, "negative": documents[n].full_text}
            for p in positives
            for n in negatives
        ]
    return rows


def _csv(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def trec_qrels(qrels: dict[str, dict[str, int]]) -> str:
    return "".join(
        f"{qid} 0 {doc_id} {grade}\n" for qid, docs in sorted(qrels.items()) for doc_id, grade in sorted(docs.items())
    )


def beir_files(store: LabelStore, corpus: str) -> dict[str, str]:
    """The BEIR folder's files (relative path -> text) for the judged documents and queries."""
    qrels = store.qrels(corpus)
    documents = store.documents(corpus)
    queries = store.queries(corpus)
    return {
        "corpus.jsonl": "".join(
            json.dumps({"_id": d.id, "title": d.title, "text": d.text}, ensure_ascii=False) + "\n"
            for d in sorted(documents.values(), key=lambda d: d.id)
        ),
        "queries.jsonl": "".join(
            json.dumps({"_id": qid, "text": queries[qid]}, ensure_ascii=False) + "\n" for qid in sorted(qrels)
        ),
        "qrels/test.tsv": "query-id\tcorpus-id\tscore\n"
        + "".join(
            f"{qid}\t{doc_id}\t{grade}\n"
            for qid, docs in sorted(qrels.items())
            for doc_id, grade in sorted(docs.items())
        ),
    }


def raw_rows(store: LabelStore, corpus: str | None = None) -> list[dict]:
    rows = []
    documents: dict[str, dict[str, Document]] = {}
    for j in store.judgements(corpus):
        docs = documents.setdefault(j.corpus, store.documents(j.corpus))
        doc = docs[j.doc_id]
        rows.append(
            {
                "corpus": j.corpus,
                "query_id": j.query_id,
                "query": j.query,
                "doc_id": j.doc_id,
                "grade": "" if j.grade is None else j.grade,
                "rater": j.rater,
                "note": j.note,
                "judged_at": j.judged_at,
                "doc_title": doc.title,
                "doc_text": doc.text,
            }
        )
    return rows


def export_text(store: LabelStore, corpus: str, fmt: str) -> str:
    """One export as text (every format but 'beir', which is several files)."""
    if fmt == "pairs-csv":
        return _csv(training_pairs(store, corpus), ["query", "passage", "label"])
    if fmt == "pairs-jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in training_pairs(store, corpus))
    if fmt == "triplets":
        return _csv(triplets(store, corpus), ["query", "positive", "negative"])
    if fmt == "qrels":
        return trec_qrels(store.qrels(corpus))
    if fmt == "raw":
        return _csv(raw_rows(store, corpus), RAW_COLUMNS)
    raise LabelError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")


def write_beir(store: LabelStore, corpus: str, folder: Path) -> Path:
    for relative, text in beir_files(store, corpus).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def beir_zip(store: LabelStore, corpus: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, text in beir_files(store, corpus).items():
            archive.writestr(f"{corpus}/{relative}", text)
    return buffer.getvalue()
