"""Import judgements: TREC or BEIR qrels against a loaded corpus, or a raw export; all or nothing."""

from __future__ import annotations

import csv
import io

from ranklens.corpus import CorpusError, Document, decode, parse_qrels
from ranklens.export import RAW_COLUMNS
from ranklens.labels import MAX_GRADE, Judgement, LabelError, LabelStore


def import_qrels(
    store: LabelStore,
    name: str,
    data: bytes,
    corpus: str,
    documents: dict[str, Document],
    queries: dict[str, str],
    rater: str,
) -> int:
    """TREC (`qid 0 docid grade`) or BEIR (`query-id corpus-id score`) qrels, as judgements by `rater`.

    Only pairs whose document is in `documents` and whose query is in `queries` can be stored
    (a judgement keeps the text it is about); the others are reported, not silently dropped.
    """
    try:
        qrels = parse_qrels(name, decode(name, data))
    except CorpusError as err:
        raise LabelError(str(err)) from err
    items, unknown = [], []
    for qid, docs in qrels.items():
        for doc_id, grade in docs.items():
            if qid not in queries or doc_id not in documents:
                unknown.append(f"{qid}/{doc_id}")
                continue
            judgement = Judgement(
                corpus, qid, queries[qid], doc_id, max(0, min(MAX_GRADE, grade)), rater, f"imported from {name}"
            )
            items.append((judgement, documents[doc_id]))
    if unknown:
        raise LabelError(
            f"{name}: {len(unknown)} judgements name a query or document this corpus does not have "
            f"(first: {', '.join(unknown[:3])}); nothing was imported"
        )
    return store.judge_many(items)


def import_raw(store: LabelStore, name: str, data: bytes) -> int:
    """A raw export (RAW_COLUMNS), raters and notes kept; all or nothing."""
    reader = csv.DictReader(io.StringIO(decode(name, data), newline=""))
    missing = [c for c in RAW_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LabelError(f"{name}: not a raw judgement export (missing columns {', '.join(missing)})")
    items = []
    for row in reader:
        grade = row["grade"].strip()
        if grade and grade not in {str(g) for g in range(MAX_GRADE + 1)}:
            raise LabelError(f"{name}, line {reader.line_num}: grade {grade!r} is not 0-3 or empty (can't rate)")
        judgement = Judgement(
            row["corpus"],
            row["query_id"],
            row["query"],
            row["doc_id"],
            int(grade) if grade else None,
            row["rater"],
            row["note"],
            row["judged_at"],
        )
        items.append((judgement, Document(id=row["doc_id"], title=row["doc_title"], text=row["doc_text"])))
    return store.judge_many(items)
