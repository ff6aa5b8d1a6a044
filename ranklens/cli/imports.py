"""`ranklens import`: TREC or BEIR qrels, or a raw export, into a project's labels database."""

from __future__ import annotations

import argparse
from pathlib import Path

from ranklens.cli import common
from ranklens.imports import import_qrels, import_raw
from ranklens.labels import LabelError, LabelStore


def register(commands) -> None:
    parser = commands.add_parser("import", help="TREC/BEIR qrels or a raw export into a labels database")
    parser.add_argument("--labels", required=True, help="project folder or labels.sqlite")
    parser.add_argument("file", help="the qrels or raw export file")
    parser.add_argument("--raw", action="store_true", help="the file is a raw judgement export")
    common.add_corpus_options(parser, required=False)
    parser.add_argument("--rater", default="imported", help="for qrels: the rater name to store them under")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    store = LabelStore(args.labels)
    data = Path(args.file).read_bytes()
    if args.raw:
        count = import_raw(store, args.file, data)
    else:
        if not args.corpus:
            raise LabelError("importing qrels needs --corpus: the documents and queries they judge")
        corpus = common.load_corpus(args)
        documents = {d.id: d for d in corpus.documents}
        count = import_qrels(store, args.file, data, corpus.name, documents, corpus.queries, args.rater)
    print(f"imported {count} judgements into {store.path}")
