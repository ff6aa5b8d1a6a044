"""`ranklens export`: a project's judgements as training pairs, triplets, TREC qrels, a BEIR folder or raw rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ranklens.cli.common import say
from ranklens.labelling.export import FORMATS, export_text, write_beir
from ranklens.labelling.labels import LabelError, LabelStore


def register(commands) -> None:
    """Add `ranklens export` and its options to the subcommands."""
    parser = commands.add_parser("export", help="judgements as training pairs, triplets, TREC qrels, BEIR or raw")
    parser.add_argument("--labels", required=True, help="project folder or labels.sqlite")
    parser.add_argument("--corpus-name", help="which corpus's judgements (needed when there are several)")
    parser.add_argument(
        "--format", choices=list(FORMATS), required=True, help="; ".join(f"{k}: {v}" for k, v in FORMATS.items())
    )
    parser.add_argument("--out", help="file (folder for beir); standard output when left out")
    parser.set_defaults(run=run)


def _which_corpus(store: LabelStore, wanted: str | None) -> str:
    """The corpus key `--corpus-name` means (a key or a name), or the only corpus judged."""
    corpora = store.corpora()
    if wanted is None and len(corpora) == 1:
        return next(iter(corpora))
    matches = [key for key, name in corpora.items() if wanted in (key, name)]
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(f"{name} ({key})" for key, name in corpora.items()) or "none"
    why = "several corpora are called that" if matches else "name the corpus with --corpus-name (a name or key)"
    raise LabelError(f"{why}; {store.path} has judgements for: {listed}")


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens export` with the parsed options."""
    store = LabelStore(args.labels)
    corpus = _which_corpus(store, args.corpus_name)
    if args.format == "beir":
        if not args.out:
            raise LabelError("--format beir writes a folder: give it with --out")
        say(f"wrote {write_beir(store, corpus, Path(args.out))}")
        return
    text = export_text(store, corpus, args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        say(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
