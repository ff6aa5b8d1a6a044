"""`ranklens import`: TREC or BEIR qrels, or a raw export, into a project's labels database."""

from __future__ import annotations

import argparse
from pathlib import Path

from ranklens.cli import common
from ranklens.labelling.imports import check_import_size, import_qrels, import_raw
from ranklens.labelling.labels import LabelError


def register(commands) -> None:
    """Add `ranklens import` and its options to the subcommands."""
    parser = commands.add_parser("import", help="TREC/BEIR qrels or a raw export into a labels database")
    parser.add_argument("--labels", required=True, help="project folder or labels.sqlite")
    parser.add_argument("file", help="the qrels or raw export file")
    parser.add_argument("--raw", action="store_true", help="the file is a raw judgement export")
    common.add_corpus_options(parser, required=False)
    parser.add_argument("--rater", default="imported", help="for qrels: the rater name to store them under")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens import` with the parsed options."""
    path = Path(args.file)
    check_import_size(args.file, path.stat().st_size)
    if args.raw:
        store = common.project_store(args.labels)
        count = import_raw(store, args.file, path.read_bytes())
    else:
        if not args.corpus:
            raise LabelError("importing qrels needs --corpus: the documents and queries they judge")
        corpus = common.load_corpus(args)
        store = common.project_store(args.labels, corpus)
        count = import_qrels(store, args.file, path.read_bytes(), corpus, args.rater)
    print(f"imported {count} judgements into {store.path}")
