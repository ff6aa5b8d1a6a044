"""Import judgements: TREC or BEIR qrels against a loaded corpus, or a raw export; all or nothing.

Sizes are checked before a file is read (MAX_IMPORT_BYTES); grades must be whole numbers
from 0 to 3, and a qrels line naming a query or document the corpus lacks stops the import.
"""

from __future__ import annotations

import csv
import io

from ranklens.corpus.beir import parse_qrels
from ranklens.corpus.corpus import Corpus, CorpusError, Document
from ranklens.corpus.textclean import decode, one_line
from ranklens.labelling.export import RAW_COLUMNS, spreadsheet_text
from ranklens.labelling.labels import GRADES, Judgement, LabelError, LabelStore

MAX_IMPORT_BYTES = 50 * 1024 * 1024


def check_import_size(name: str, size: int) -> None:
    """Refuse a judgement file over MAX_IMPORT_BYTES before reading it."""
    if size > MAX_IMPORT_BYTES:
        raise LabelError(
            f"{name}: {size / 2**20:.1f} MiB is more than the limit of {MAX_IMPORT_BYTES / 2**20:.0f} "
            "MiB for a judgement file"
        )


def _qrels(name: str, data: bytes):
    try:
        return parse_qrels(name, decode(name, data), grades=range(len(GRADES)))
    except CorpusError as err:
        raise LabelError(str(err)) from err


def import_qrels(store: LabelStore, name: str, data: bytes, corpus: Corpus, rater: str) -> int:
    """TREC (`qid 0 docid grade`) or BEIR (`query-id corpus-id score`) qrels of `corpus`, as judgements by `rater`.

    Only pairs whose document and query the corpus has can be stored (a judgement keeps the
    text it is about); any other pair stops the import, which then stores nothing.
    """
    check_import_size(name, len(data))
    qrels = _qrels(name, data)
    queries = {**store.queries(corpus.key), **corpus.queries}
    items, unknown = [], []
    for qid, docs in qrels.items():
        for doc_id, grade in docs.items():
            if qid not in queries or doc_id not in corpus:
                unknown.append(f"{qid}/{doc_id}")
                continue
            judgement = Judgement(corpus.key, qid, queries[qid], doc_id, grade, rater, f"imported from {name}")
            items.append((judgement, corpus.get(doc_id)))
    if unknown:
        raise LabelError(
            f"{name}: {len(unknown)} judgements name a query or document this corpus does not have "
            f"(first: {one_line(', '.join(unknown[:3]))}); nothing was imported"
        )
    store.register(corpus)
    return store.judge_many(items)


def _raw_judgement(name: str, line: int, row: dict) -> tuple[Judgement, Document]:
    cell = {column: spreadsheet_text(value or "") for column, value in row.items() if column}
    grade = cell["grade"].strip()
    if grade and grade not in {str(g) for g in GRADES}:
        raise LabelError(f"{name}, line {line}: grade {one_line(grade)!r} is not 0-3 or empty (can't rate)")
    later = cell.get("later", "0").strip() or "0"
    if later not in ("0", "1"):
        raise LabelError(f"{name}, line {line}: 'later' must be 0 or 1, got {one_line(later)!r}")
    judgement = Judgement(
        cell["corpus"],
        cell["query_id"],
        cell["query"],
        cell["doc_id"],
        int(grade) if grade else None,
        cell["rater"],
        cell["note"],
        cell["judged_at"],
        later=later == "1",
    )
    return judgement, Document(id=cell["doc_id"], title=cell["doc_title"], text=cell["doc_text"])


def import_raw(store: LabelStore, name: str, data: bytes) -> int:
    """A raw export (RAW_COLUMNS, and `later`/`corpus_name` when present): raters, notes, times and marks kept."""
    check_import_size(name, len(data))
    reader = csv.DictReader(io.StringIO(decode(name, data) + "\n", newline=""))
    missing = [c for c in RAW_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LabelError(f"{name}: not a raw judgement export (missing columns {', '.join(missing)})")
    items = []
    line = 1
    for row in reader:
        items.append(_raw_judgement(name, line + 1, row))
        line = reader.line_num
    return store.judge_many(items)
