"""`ranklens check`: parse and validate a corpus exactly as `index` and the app's uploader do, without embedding.

Exit 0 with a summary (with `--json`, its last stdout line is
`{"documents": N, "queries": Q, "qrels": R, "warnings": [...]}`); a refusal exits 2 with one
line naming the file (and line).
"""

from __future__ import annotations

import argparse
import json

from ranklens.cli import common


def register(commands) -> None:
    """Add `ranklens check` and its options to the subcommands."""
    parser = commands.add_parser("check", help="validate a corpus as index and the uploader would, without embedding")
    common.add_corpus_options(parser)
    parser.add_argument("--json", action="store_true", help="end with one line of JSON: counts and warnings")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens check` with the parsed options."""
    corpus = common.load_corpus(args, quiet=True)
    judgements = sum(len(docs) for docs in corpus.qrels.values())
    print(
        f"{corpus.name}: {len(corpus)} documents, {len(corpus.queries)} queries, {judgements} judgements "
        f"(identity {corpus.key})"
    )
    for warning in corpus.warnings:
        print(f"warning: {warning}")
    if args.json:
        summary = {
            "documents": len(corpus),
            "queries": len(corpus.queries),
            "qrels": judgements,
            "warnings": corpus.warnings,
        }
        print(json.dumps(summary, ensure_ascii=True))
