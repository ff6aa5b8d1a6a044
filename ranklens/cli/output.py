"""What the commands print: rankings side by side, and tables."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from ranklens.ranking.results import Candidate, SearchResult

if TYPE_CHECKING:  # importing pandas takes half a second, and printing a ranking does not need it
    import pandas as pd


def print_frame(frame: pd.DataFrame, digits: int = 4, index: bool = True, missing: str = "NaN") -> None:
    """A pandas table on stdout with a fixed number of decimals, `missing` where a cell has no value."""
    print(frame.to_string(index=index, na_rep=missing, float_format=lambda v: f"{v:.{digits}f}"))


def _cell(candidate: Candidate | None, result: SearchResult, ranker: str, top_k: int, width: int) -> str:
    if candidate is None:
        return " " * width
    arrow = "" if ranker == "bi" else result.shift(candidate, ranker, top_k).label
    label = (candidate.title or candidate.text).replace("\n", " ")
    head = f"{arrow:>4} {candidate.score(ranker):7.3f} {candidate.doc_id[:10]:<10} "
    return (head + textwrap.shorten(label, width=max(10, width - len(head)), placeholder="…")).ljust(width)


def format_result(result: SearchResult, top_k: int, width: int = 52) -> str:
    """The first-stage, reranked and hybrid top-k side by side with rank shifts, then the timings."""
    fused = "hybrid" if result.fusion_method == "hybrid" else f"{result.fusion_method} fusion"
    columns = {
        "bi": f"{result.first_label} ({result.first_score_name})",
        "ce": "reranked (CE logit)",
        "hybrid": f"{fused} α={result.alpha:g}",
    }
    rankings = {ranker: result.ranking(ranker)[:top_k] for ranker in columns}
    bi_encoder = f" (bi-encoder {result.bi_model})" if result.bi_model else ""
    lines = [
        f"query: {result.query}",
        f"first stage: {result.first_stage}{bi_encoder}   cross-encoder: {result.ce_model}",
    ]
    if result.ce_fallback_reason:
        lines.append(f"note: {result.ce_fallback_reason}")
    lines.append("  # " + " | ".join(title.ljust(width) for title in columns.values()))
    for row in range(top_k):
        cells = [_cell(rankings[r][row] if row < len(rankings[r]) else None, result, r, top_k, width) for r in columns]
        lines.append(f"{row + 1:>3} " + " | ".join(cells))
    t = result.timings
    lines.append(
        f"timings: query embed {t.embed_ms:.1f} ms, {result.first_label} {t.search_ms:.1f} ms, cross-encoder {t.rerank_ms:.1f} ms "
        f"({t.pairs_scored} pairs scored, {t.pairs_cached} cached), "
        + (f"loading models {t.load_ms:.0f} ms, " if t.load_ms else "")
        + f"total {t.total_ms:.1f} ms"
    )
    truncated = sum(c.ce_truncated for c in result.candidates)
    chunked = sum(c.passage_count > 1 for c in result.candidates)
    lines.append(
        f"{chunked} of {len(result.candidates)} candidates were chunked (scored by their best passage); "
        f"{truncated} were truncated at the cross-encoder's window or token budget"
    )
    return "\n".join(lines)
