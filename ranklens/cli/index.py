"""`ranklens index`: build a corpus's first stage (embed it, index it, fill Milvus ...) and cache it, with the
passages' token ids for the cross-encoder."""

from __future__ import annotations

import argparse

from ranklens.cli import common
from ranklens.models.loading import DEFAULT_CROSS_ENCODER


def register(commands) -> None:
    """Add `ranklens index` and its options to the subcommands."""
    parser = commands.add_parser(
        "index", help="build and cache a corpus's first stage (embeddings, FAISS, BM25, Milvus)"
    )
    common.add_corpus_options(parser)
    common.add_bi_encoder_options(parser)
    parser.add_argument(
        "--ce-model",
        default=DEFAULT_CROSS_ENCODER,
        help="the cross-encoder whose tokenizer tokenizes the passages (their token ids are cached with the index)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens index` with the parsed options."""
    stage = common.first_stage(args, common.load_corpus(args), common.embedder(args))
    common.passage_tokens(stage, args.ce_model)
    stage.close()
