"""Bring your own first stage: a run from any engine (Elasticsearch, OpenSearch, Vespa, Pyserini, Milvus ...)
is the candidate list, and RankLens reranks its top-N with the corpus's own text.

A TREC run (`qid Q0 docid rank score tag`) or a CSV with a header `query,doc_id,score` (the
query is an id of the corpus's queries, or its text). A typed query is matched to the run by
the corpus's query texts; a query the run has no ranking for is said so, not invented.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from ranklens.corpus.corpus import Corpus, query_id_for
from ranklens.corpus.passages import PassageTable
from ranklens.corpus.textclean import decode, one_line
from ranklens.index.base import FirstStage, Hit, RetrievalError, Retrieved, overlap_passage

Run = dict[str, list[tuple[str, float]]]  # query id -> (doc id, score), best first


def _trec(name: str, text: str) -> Run:
    run: dict[str, list[tuple[str, float]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 6:
            raise RetrievalError(f"{name}, line {number}: a TREC run line is 'qid Q0 docid rank score tag'")
        try:
            score = float(fields[4])
        except ValueError as err:
            raise RetrievalError(f"{name}, line {number}: score {one_line(fields[4])!r} is not a number") from err
        run.setdefault(fields[0], []).append((fields[2], score))
    return run


def _csv(name: str, text: str) -> Run:
    reader = csv.DictReader(io.StringIO(text))
    if not {"query", "doc_id", "score"} <= set(reader.fieldnames or []):
        raise RetrievalError(f"{name}: a CSV run needs the columns query, doc_id and score")
    run: dict[str, list[tuple[str, float]]] = {}
    line = 1
    for row in reader:
        try:
            score = float(row["score"])
        except (TypeError, ValueError) as err:
            raise RetrievalError(
                f"{name}, line {line + 1}: score {one_line(str(row['score']))!r} is not a number"
            ) from err
        run.setdefault(row["query"].strip(), []).append((row["doc_id"].strip(), score))
        line = reader.line_num
    return run


def parse_run(name: str, data: bytes) -> Run:
    """A TREC or CSV run, each query's documents sorted best first (ties kept in file order)."""
    text = decode(name, data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    run = _csv(name, text) if first.replace(" ", "").lower().startswith("query,") else _trec(name, text)
    return {query: sorted(docs, key=lambda pair: -pair[1]) for query, docs in run.items()}


class RunRetriever(FirstStage):
    """A run file as the first stage; documents the corpus lacks are dropped (they have no text to rerank)."""

    name = "run"
    score_name = "run score"
    bounded = False

    def __init__(self, corpus: Corpus, passages: PassageTable, path: Path) -> None:
        self.corpus, self.passages, self.path = corpus, passages, Path(path)
        self.label = f"run {self.path.name}"
        run = parse_run(one_line(self.path.name), self.path.read_bytes())
        self.unknown = sorted({doc for docs in run.values() for doc, _ in docs if doc not in corpus})
        self.run = {query: [(d, s) for d, s in docs if d in corpus] for query, docs in run.items()}
        if not any(self.run.values()):
            raise RetrievalError(f"{self.path.name}: none of its documents is in {corpus.name}")
        by_text = {text.strip(): qid for qid, text in corpus.queries.items()}
        self._query_ids = {**{q: q for q in self.run}, **{t: q for t, q in by_text.items() if q in self.run}}
        self.key = f"run|{corpus.key}|{self.path.resolve()}|{self.path.stat().st_mtime_ns}"

    def ranking_for(self, query: str) -> list[tuple[str, float]]:
        """The run's ranking for this query (found by its id in the corpus), best first; RetrievalError when the run
        has none."""
        qid = self._query_ids.get(query.strip()) or query_id_for(query, self.corpus.queries)
        if qid not in self.run:
            raise RetrievalError(
                f"the run {self.path.name} has no ranking for this query (it ranks "
                f"{len(self.run)} queries; type one of the corpus's queries or its id)"
            )
        return self.run[qid]

    def retrieve(self, query: str, top_n: int) -> Retrieved:
        """The run's top-N for the query."""
        started = time.perf_counter()
        ranked = self.ranking_for(query)[:top_n]
        hits = [Hit(doc_id, score, overlap_passage(query, self.passages, doc_id)) for doc_id, score in ranked]
        return Retrieved(hits, 0.0, (time.perf_counter() - started) * 1000)

    def describe(self) -> dict:
        """The run file and how many of its documents the corpus lacks."""
        return {"first_stage": self.name, "run": self.path.name, "documents not in the corpus": len(self.unknown)}
