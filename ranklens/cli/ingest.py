"""`ranklens ingest`: a corpus larger than memory, streamed, embedded group by group, resumable after a kill."""

from __future__ import annotations

import argparse
import math
import sys

from ranklens.cli import common
from ranklens.index.ingest import IngestProgress, IngestSettings, ingest


def register(commands) -> None:
    """Add `ranklens ingest` and its options to the subcommands."""
    parser = commands.add_parser(
        "ingest",
        help="stream a large corpus into a stored corpus with its embeddings "
        "(resumable); then search it with --corpus stored:KEY",
    )
    parser.add_argument("--corpus", nargs="+", required=True, help="JSONL or CSV/TSV files, or a BEIR folder")
    common.add_column_options(parser)
    common.add_bi_encoder_options(parser)
    parser.add_argument(
        "--target",
        choices=["faiss", "milvus"],
        default="faiss",
        help="milvus: also fill the Milvus collection (see --milvus-uri)",
    )
    parser.set_defaults(run=run)


def _progress_line():
    def report(progress: IngestProgress) -> None:
        eta = progress.eta_seconds
        left = "?" if math.isnan(eta) else f"{eta / 60:.1f} min left"
        print(
            f"\r{progress.documents:,} of ~{progress.lines:,} documents, {progress.passages:,} passages, "
            f"{progress.docs_per_second:.1f} docs/s, {left}   ",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return report


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens ingest` with the parsed options."""
    settings = IngestSettings(target=args.target, milvus=common.first_stage_settings(args).milvus)
    done = ingest(args.corpus, common.embedder(args), common.columns(args), settings, progress=_progress_line())
    print(file=sys.stderr)
    resumed = f", resumed after {done.resumed_at:,} documents" if done.resumed_at else ""
    print(
        f"ingested {done.corpus.name}: {len(done.corpus):,} documents, {done.embeddings.passage_count:,} passages in "
        f"{done.seconds:.1f} s{resumed}"
    )
    print(f"corpus key: {done.corpus.key}  (use --corpus stored:{done.corpus.key}, or the app's Stored corpora)")
    for warning in done.corpus.warnings:
        print(f"warning: {warning}")
