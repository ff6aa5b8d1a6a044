"""Query sets: every query of a corpus (or an uploaded list) through the rankers once, and where they disagree.

Per query: RBO between the first stage and the reranked list, how many documents are new to
the reranked top-10, the document that moved most, and the nDCG@10 difference where the query
is judged; sorted by disagreement (lowest RBO first). The cross-encoder's scores come from the
shared score cache, so a second run of the same set costs no model call.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

import pandas as pd

from ranklens.corpus.corpus import CorpusError, Qrels, query_id_for
from ranklens.corpus.textclean import decode, one_line
from ranklens.evaluation.evaluate import per_query_scores, ranked_run
from ranklens.progress import OnProgress
from ranklens.ranking.compare import rbo
from ranklens.ranking.fusion import DEFAULT_ALPHA
from ranklens.ranking.results import SearchResult
from ranklens.ranking.search import Searcher

MAX_QUERIES = 5000
COLUMNS = [
    "query id",
    "query",
    "RBO (first stage, reranked)",
    "new in reranked top-10",
    "biggest mover",
    "moved",
    "nDCG@10 reranked − first stage",
]


def parse_query_list(name: str, data: bytes, known: Mapping[str, str] | None = None) -> dict[str, str]:
    """Queries from a file: one per line, or a CSV with a `query` column (and an optional `id`/`query_id`).
    A query the corpus knows keeps the corpus's id."""
    text = decode(name, data)
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0].lower().split(",") if lines else []
    if "query" in [h.strip() for h in header]:
        reader = csv.DictReader(io.StringIO("\n".join(lines)))
        rows = [(row.get("id") or row.get("query_id") or "", row["query"] or "") for row in reader]
    else:
        rows = [("", line) for line in lines]
    queries: dict[str, str] = {}
    for line, (given, query) in enumerate(rows, start=1):
        if not query.strip():
            raise CorpusError(f"{name}, line {line + 1 if header else line}: the query is empty")
        queries[given.strip() or query_id_for(query, dict(known or {}))] = one_line(query.strip())
    if len(queries) > MAX_QUERIES:
        raise CorpusError(f"{name}: {len(queries)} queries is more than the limit of {MAX_QUERIES}")
    return queries


def run_query_set(
    searcher: Searcher,
    queries: Mapping[str, str],
    top_n: int = 100,
    progress: OnProgress | None = None,
    alpha: float = DEFAULT_ALPHA,
    fusion_method: str = "hybrid",
    ce_passages: str = "best",
) -> dict[str, SearchResult]:
    """Both stages for every query (cached cross-encoder scores are reused)."""
    results = {}
    for done, (qid, query) in enumerate(queries.items(), start=1):
        results[qid] = searcher.search(
            query, top_n=top_n, alpha=alpha, fusion_method=fusion_method, ce_passages=ce_passages
        )
        if progress:
            progress(done, len(queries))
    return results


def _mover(result: SearchResult, k: int) -> tuple[str, int]:
    top = result.ranking("ce")[:k]
    if not top:
        return "", 0
    moved = max(top, key=lambda c: abs(c.bi_rank - c.ce_rank))
    return (moved.title or moved.text)[:80], moved.bi_rank - moved.ce_rank


def disagreement(results: Mapping[str, SearchResult], qrels: Qrels | None = None, k: int = 10) -> pd.DataFrame:
    """One row per query (COLUMNS), the queries where the rankers disagree most first."""
    rows = []
    for qid, result in results.items():
        first = [c.doc_id for c in result.ranking("bi")]
        reranked = [c.doc_id for c in result.ranking("ce")]
        title, moved = _mover(result, k)
        delta = None
        if qrels and any(g > 0 for g in qrels.get(qid, {}).values()):
            judged = {qid: qrels[qid]}
            scores = [per_query_scores(judged, {qid: ranked_run(result, r)}, "ndcg@10").iloc[0] for r in ("ce", "bi")]
            delta = float(scores[0] - scores[1])
        new = len(set(reranked[:k]) - set(first[:k]))
        rows.append(dict(zip(COLUMNS, [qid, result.query, rbo(first, reranked), new, title, moved, delta])))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(COLUMNS[2], kind="stable").reset_index(drop=True)
