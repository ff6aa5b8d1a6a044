"""Command line: `ranklens COMMAND ...` (or `python -m ranklens`), one module per subcommand (its parser and its run).

`common` holds the options and input resolution the subcommands share, `output` the printing. The top room: it may
import every other."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ranklens.cli import bench, cache, check, evaluate, explain, export, imports, index, ingest, report, search, train
from ranklens.corpus.corpus import CorpusError
from ranklens.corpus.textclean import one_line
from ranklens.labelling.labels import LabelError
from ranklens.models.loading import ModelError
from ranklens.ranking.search import SearchError

COMMANDS = (check, index, ingest, search, explain, evaluate, report, export, imports, train, bench, cache)
# What a command may fail with and report in one line; anything else is a bug and keeps its traceback.
EXPECTED_ERRORS = (CorpusError, ModelError, SearchError, LabelError, OSError, ValueError)  # TrainingError: ValueError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="ranklens", description="RankLens: inspect two-stage search.")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; expected failures print `error: ...` on stderr and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except EXPECTED_ERRORS as err:
        print(f"error: {one_line(str(err))}", file=sys.stderr)
        return 2
    return 0
