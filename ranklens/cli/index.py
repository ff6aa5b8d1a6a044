"""`ranklens index`: embed a corpus into its cached FAISS index."""

from __future__ import annotations

import argparse

from ranklens.cli import common


def register(commands) -> None:
    parser = commands.add_parser("index", help="embed a corpus into a cached FAISS index")
    common.add_corpus_options(parser)
    common.add_bi_encoder_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    common.corpus_index(common.load_corpus(args), common.embedder(args))
