"""Export judgements as training data and qrels (`ranklens.labelling.imports` reads them back).

Formats, each loadable unmodified by the tool it is for:
- pairs (CSV or JSONL): `query,passage,label`, label = aggregated grade / 3, for a
  sentence-transformers CrossEncoder with binary cross-entropy;
- triplets (CSV): `query,positive,negative`, positives graded >= 2, negatives graded 0;
- TREC qrels: `qid 0 docid grade` (ranx, pytrec_eval, trec_eval);
- BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv (of the judged documents);
- raw: every judgement with its rater, note, time and mark, plus the text it was about.

CSV is for spreadsheets too, so a CSV cell that a spreadsheet would run as a formula (one
starting with =, +, -, @, a tab or a carriage return) is written with a leading apostrophe;
`ranklens.labelling.imports` takes it off again. JSONL, TREC and BEIR files hold the text exactly.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from ranklens.corpus.corpus import Document
from ranklens.corpus.textclean import clean_name
from ranklens.labelling.labels import MAX_GRADE, LabelError, LabelStore

FORMATS = {
    "pairs-csv": "training pairs, CSV (query,passage,label)",
    "pairs-jsonl": "training pairs, JSONL",
    "triplets": "hard-negative triplets, CSV (query,positive,negative)",
    "qrels": "TREC qrels (qid 0 docid grade)",
    "beir": "BEIR folder (zip in the app)",
    "raw": "raw judgements with raters, CSV",
}
RAW_COLUMNS = ["corpus", "query_id", "query", "doc_id", "grade", "rater", "note", "judged_at", "doc_title", "doc_text"]
RAW_EXTRA_COLUMNS = ["later", "corpus_name"]  # written since schema 1; an older raw export lacks them
POSITIVE_FROM = 2
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A text cell a spreadsheet will show rather than run: formula starts (and a cell that already begins with
    an apostrophe before one) get one more apostrophe, so that `spreadsheet_text` can undo it exactly."""
    escaped = cell.startswith(FORMULA_START) or (cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_START))
    return "'" + cell if escaped else cell


def spreadsheet_text(cell: str) -> str:
    """The text `spreadsheet_safe` was given."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_START):
        return cell[1:]
    return cell


def training_pairs(store: LabelStore, corpus: str) -> list[dict]:
    """(query, passage, label) rows: label is the aggregated grade / 3, for binary cross-entropy training."""
    queries, documents = store.queries(corpus), store.documents(corpus)
    return [
        {"query": queries[qid], "passage": documents[doc_id].full_text, "label": round(grade / MAX_GRADE, 4)}
        for qid, docs in sorted(store.aggregated(corpus).items())
        for doc_id, grade in sorted(docs.items())
    ]


def triplets(store: LabelStore, corpus: str) -> list[dict]:
    """(query, positive, negative) rows: every document graded >= 2 against every one graded 0, per query."""
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


def csv_text(rows: list[dict], columns: list[str]) -> str:
    """CSV with a header, every text cell made spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def trec_qrels(qrels: dict[str, dict[str, int]]) -> str:
    """TREC qrels lines, `qid 0 docid grade`, sorted."""
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
    """Every judgement (of one corpus key, or all) with the text it is about: RAW_COLUMNS + RAW_EXTRA_COLUMNS."""
    rows = []
    documents: dict[str, dict[str, Document]] = {}
    names = store.corpora()
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
                "later": int(j.later),
                "corpus_name": names.get(j.corpus, j.corpus),
            }
        )
    return rows


def export_text(store: LabelStore, corpus: str, fmt: str) -> str:
    """One export as text (every format but 'beir', which is several files)."""
    if fmt == "pairs-csv":
        return csv_text(training_pairs(store, corpus), ["query", "passage", "label"])
    if fmt == "pairs-jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in training_pairs(store, corpus))
    if fmt == "triplets":
        return csv_text(triplets(store, corpus), ["query", "positive", "negative"])
    if fmt == "qrels":
        return trec_qrels(store.qrels(corpus))
    if fmt == "raw":
        return csv_text(raw_rows(store, corpus), RAW_COLUMNS + RAW_EXTRA_COLUMNS)
    raise LabelError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")


def write_beir(store: LabelStore, corpus: str, folder: Path) -> Path:
    """The BEIR files written under `folder` (the user's own output path)."""
    for relative, text in beir_files(store, corpus).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def beir_zip(store: LabelStore, corpus: str, folder_name: str = "beir") -> bytes:
    """The BEIR files in a zip archive, under one folder, for a download button."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, text in beir_files(store, corpus).items():
            archive.writestr(f"{clean_name(folder_name)}/{relative}", text)
    return buffer.getvalue()
