"""`ranklens index`: build a corpus's first stage (embed it, index it, fill Milvus ...) and cache it."""

from __future__ import annotations

import argparse

from ranklens.cli import common


def register(commands) -> None:
    """Add `ranklens index` and its options to the subcommands."""
    parser = commands.add_parser(
        "index", help="build and cache a corpus's first stage (embeddings, FAISS, BM25, Milvus)"
    )
    common.add_corpus_options(parser)
    common.add_bi_encoder_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens index` with the parsed options."""
    common.first_stage(args, common.load_corpus(args), common.embedder(args)).close()
