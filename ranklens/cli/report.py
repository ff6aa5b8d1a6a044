"""`ranklens report`: one self-contained HTML file (and optionally a CSV) comparing the rankers on some queries."""

from __future__ import annotations

import argparse
from pathlib import Path

from ranklens.cli import common
from ranklens.corpus.corpus import query_id_for
from ranklens.ranking.search import SearchError


def register(commands) -> None:
    """Add `ranklens report` and its options to the subcommands."""
    parser = common.searching_parser(
        commands, "report", "a one-file HTML report of the rankings, charts, metrics and latency, to share"
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--query", nargs="+", help="one or more queries")
    which.add_argument("--all-queries", action="store_true", help="every query of the corpus (with its metrics)")
    parser.add_argument("--top-k", type=int, default=10, help="rows per ranking")
    parser.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    parser.add_argument("--csv", type=Path, help="also write the comparison as CSV")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens report` with the parsed options."""
    # Here, not at the top: they import pandas and altair (a second), which every other command's start would pay.
    from ranklens.evaluation.queryset import run_query_set
    from ranklens.reports.report import ReportInput, build_html, comparison_csv

    corpus = common.load_corpus(args)
    if args.all_queries:
        if not corpus.queries:
            raise SearchError(f"{corpus.name} has no queries of its own: name them with --query")
        queries = dict(corpus.queries)
    else:
        queries = {query_id_for(q, corpus.queries): q for q in args.query}
    searcher = common.searcher(args, corpus)
    results = run_query_set(
        searcher,
        queries,
        args.top_n,
        common.progress_bar("queries", unit="queries"),
        alpha=args.alpha,
        fusion_method=args.fusion,
        ce_passages=args.ce_passages,
    )
    reranker = searcher.reranker
    settings = {
        "corpus": f"{corpus.name} ({len(corpus)} documents)",
        **{k.replace("_", " "): v for k, v in searcher.first.describe().items()},
        "cross-encoder": f"{reranker.name} ({reranker.backend}, reads {searcher.reranker.budget(args.ce_max_tokens)} "
        f"of its {reranker.max_tokens}-token window)",
        "candidates reranked (top-N)": args.top_n,
        "cross-encoder reads": args.ce_passages,
        "hybrid": f"{args.fusion} at alpha {args.alpha}",
    }
    report = ReportInput(corpus.name, corpus.key, settings, results, args.top_k, corpus.qrels)
    args.out.write_text(build_html(report), encoding="utf-8")
    print(f"report: {args.out} ({len(results)} queries)")
    if args.csv:
        args.csv.write_text(comparison_csv(results, args.top_k), encoding="utf-8")
        print(f"comparison: {args.csv}")
