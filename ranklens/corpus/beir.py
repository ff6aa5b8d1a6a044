"""BEIR folders (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) and qrels files, validated as a whole.

Queries must be there when qrels are, every qrels line must name a query and a document the
folder has, and grades must be integers: evaluation on silently wrong data is worse than none.
"""

from __future__ import annotations

from pathlib import Path

from ranklens.corpus.corpus import Corpus, Qrels
from ranklens.corpus.readers import jsonl_records, load_jsonl
from ranklens.corpus.sources import Source
from ranklens.corpus.textclean import CorpusError, Repairs, decode, normalise, one_line

QRELS_HEADER = ("query-id", "query_id", "qid")


def is_beir_dir(path: Path) -> bool:
    """Whether `path` is laid out as a BEIR dataset (it has a corpus.jsonl)."""
    return (path / "corpus.jsonl").is_file()


def parse_qrels(name: str, text: str, grades: range | None = None) -> Qrels:
    """BEIR (`query-id<TAB>corpus-id<TAB>score`, header optional) or TREC (`qid 0 docid grade`) qrels.

    Grades must be integers (and within `grades`, when given); a pair judged twice keeps the
    last grade, as trec_eval does.
    """
    qrels: Qrels = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("\t") if "\t" in line else line.split()
        if not fields or (number == 1 and fields[0] in QRELS_HEADER):
            continue
        if len(fields) == 4:  # TREC qrels: qid iteration docid grade
            fields = [fields[0], fields[2], fields[3]]
        if len(fields) != 3:
            raise CorpusError(
                f"{name}, line {number}: expected 'query-id<TAB>corpus-id<TAB>score' or 'qid 0 docid grade'"
            )
        query_id, doc_id, score = (field.strip() for field in fields)
        try:
            grade = int(score)
        except ValueError as err:
            kind = "a whole number" if _is_number(score) else "a number"
            raise CorpusError(f"{name}, line {number}: score {one_line(score)!r} is not {kind}") from err
        if grades is not None and grade not in grades:
            raise CorpusError(f"{name}, line {number}: grade {grade} is outside {grades.start}-{grades.stop - 1}")
        qrels.setdefault(query_id, {})[doc_id] = grade
    return qrels


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_qrels(path: Path) -> Qrels:
    """A qrels file from disk."""
    return parse_qrels(one_line(str(path)), decode(one_line(str(path)), path.read_bytes()))


def _queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    repairs = Repairs()
    with path.open("rb") as stream:
        for number, record in jsonl_records(str(path), stream):
            raw_id, text = record.get("_id"), record.get("text")
            if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not isinstance(text, str):
                raise CorpusError(
                    f"{path}, line {number}: a query needs '_id' (a string or integer) and 'text' (a string)"
                )
            text = normalise(text, repairs, f"{path}, line {number}")
            if not text:
                raise CorpusError(f"{path}, line {number}: the query's text is empty")
            queries[str(raw_id).strip()] = text
    return queries


def check_qrels(name: str, qrels: Qrels, corpus: Corpus, queries: dict[str, str]) -> None:
    """Refuse qrels that name a query or a document the folder does not have (naming the first of each)."""
    unknown_queries = [q for q in qrels if q not in queries]
    if unknown_queries:
        raise CorpusError(
            f"{name}: {len(unknown_queries)} judged queries are not in queries.jsonl "
            f"(first: {one_line(unknown_queries[0])!r})"
        )
    unknown_docs = [(q, d) for q, docs in qrels.items() for d in docs if d not in corpus]
    if unknown_docs:
        query_id, doc_id = unknown_docs[0]
        raise CorpusError(
            f"{name}: {len(unknown_docs)} judgements name documents that are not in corpus.jsonl "
            f"(first: query {one_line(query_id)!r}, document {one_line(doc_id)!r})"
        )


def load_beir(path: str | Path, split: str = "test") -> Corpus:
    """A BEIR-layout folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv, checked against each other."""
    root = Path(path)
    if not is_beir_dir(root):
        raise CorpusError(f"{root}: not a BEIR folder (no corpus.jsonl)")
    corpus = load_jsonl(Source.from_path(root / "corpus.jsonl"), root.name)
    queries_file, qrels_file = root / "queries.jsonl", root / "qrels" / f"{split}.tsv"
    queries = _queries(queries_file) if queries_file.is_file() else {}
    qrels = read_qrels(qrels_file) if qrels_file.is_file() else {}
    if qrels and not queries:
        raise CorpusError(f"{root}: has qrels ({qrels_file.name}) but no queries.jsonl to say what was asked")
    check_qrels(str(qrels_file), qrels, corpus, queries)
    corpus.queries, corpus.qrels = queries, qrels
    return corpus
