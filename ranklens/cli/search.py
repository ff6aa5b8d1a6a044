"""`ranklens search`: one query's bi-encoder, reranked and hybrid rankings side by side."""

from __future__ import annotations

import argparse

from ranklens.cli import common
from ranklens.cli.output import format_result


def register(commands) -> None:
    """Add `ranklens search` and its options to the subcommands."""
    parser = common.searching_parser(commands, "search", "bi-encoder and reranked rankings side by side")
    parser.add_argument("--query", required=True)
    parser.add_argument("--top-k", type=int, default=10, help="rows to show")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens search` with the parsed options."""
    searcher = common.searcher(args, common.load_corpus(args), query=args.query)
    result = searcher.search(
        args.query, top_n=args.top_n, alpha=args.alpha, fusion_method=args.fusion, ce_passages=args.ce_passages
    )
    print(format_result(result, top_k=min(args.top_k, len(result.candidates))))
