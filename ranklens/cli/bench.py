"""`ranklens bench`: reranking and indexing speed, the tutorial's code (the seed) against each backend, in one run."""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.backends.registry import BACKENDS, offered
from ranklens.cli.common import dataset_folder, say
from ranklens.cli.output import print_frame
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_reranker
from ranklens.settings import DATASETS_ENV, data_dir
from ranklens.speed.bench import speed_benchmark


def register(commands) -> None:
    """Add `ranklens bench` and its options to the subcommands."""
    parser = commands.add_parser(
        "bench", help="reranking and indexing speed: the tutorial's code (the seed) vs each backend"
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        help=f"dataset names (looked up in ${DATASETS_ENV}) or BEIR folders (default: med; --long: med scifact)",
    )
    parser.add_argument("--ce-model", default=DEFAULT_CROSS_ENCODER)
    parser.add_argument("--bi-model", default=DEFAULT_BI_ENCODER)
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=list(BACKENDS),
        help="cross-encoder backends to compare with the tutorial's code (default: every one this machine offers; cuda only "
        "with a GPU)",
    )
    parser.add_argument(
        "--bi-backends",
        nargs="+",
        choices=list(BACKENDS),
        help="bi-encoder backends whose indexing speed to compare with the tutorial's (default: torch torch-bf16; "
        "--long: all)",
    )
    parser.add_argument(
        "--sizes", nargs="+", type=int, help="candidates per reranking (default: 10 100; --long: 10 100 1000)"
    )
    parser.add_argument(
        "--long",
        action="store_true",
        help="the full run (two datasets, 1000 candidates, every bi-encoder backend, nDCG@10 on the top 100: about 50 "
        "minutes on 2 cores); the default run takes about 10, its time-to-first-result rows included",
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quality-queries", type=int, default=30)
    parser.add_argument(
        "--quality-top-n",
        type=int,
        help="first-stage candidates each implementation reranks for nDCG@10 (default: 30, as bench/frontier.py; "
        "--long: 100)",
    )
    parser.add_argument(
        "--start-runs",
        type=int,
        default=3,
        help="new processes per row of the time-to-first-result rows (cold start: one); 0 or less leaves them out",
    )
    parser.add_argument(
        "--csv", type=Path, help="where to write the table (default: $RANKLENS_HOME/bench/rerank_speed.csv)"
    )
    parser.set_defaults(run=run)


def _defaults(args: argparse.Namespace) -> None:
    """What the options left unset mean, for the default run or the --long one."""
    args.datasets = args.datasets or (["med", "scifact"] if args.long else ["med"])
    args.sizes = args.sizes or ([10, 100, 1000] if args.long else [10, 100])
    args.backends = args.backends or offered()
    args.bi_backends = args.bi_backends or (offered() if args.long else ["torch", "torch-bf16"])
    args.quality_top_n = args.quality_top_n or (100 if args.long else 30)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens bench` with the parsed options."""
    _defaults(args)
    from ranklens.speed.bench import with_peak_shares
    from ranklens.speed.peak import best_peaks, described, matmul_peaks

    resolved = load_reranker(args.ce_model).name  # the configured fallback, where the default cannot be had

    say("matmul peak of this machine (best of 5 square products per precision)…")
    before = matmul_peaks()
    rows = []
    for name in args.datasets:
        rows += speed_benchmark(
            str(dataset_folder(name)),
            args.ce_model,
            args.bi_model,
            args.backends,
            args.sizes,
            args.repeats,
            args.quality_queries,
            top_n=args.quality_top_n,
            bi_backends=args.bi_backends,
            log=say,
        )
    say("matmul peak again, after the datasets' rows…")
    after = matmul_peaks()
    peaks = best_peaks(before, after)
    rows = with_peak_shares(rows, peaks)
    if args.start_runs > 0:
        from ranklens.speed.first_result import first_result_rows

        rows += first_result_rows("auto", args.bi_model, resolved, args.start_runs, say)
    import pandas as pd  # here, not at the top: every command's start would pay half a second for it

    table = pd.DataFrame(rows)
    print(
        f"machine: {cpu_name() or platform.machine()}, {cpu_cores()} cores; cross-encoder {resolved}; "
        f"backends: {', '.join(f'{b} = {BACKENDS[b]}' for b in args.backends)}"
    )
    print(
        f"matmul peak: {described(peaks)} (the better of before the run: {described(before)}, and after it: "
        f"{described(after)}); 'share of peak': a reranking's useful FLOPs (no padding) per second over its "
        "precision's peak"
    )
    print(f"medians of {args.repeats} interleaved rounds; 'vs tutorial' > 1 is better (faster, or higher nDCG)")
    print_frame(table, digits=3, index=False, missing="")  # most measures have no share of peak
    args.csv = args.csv or data_dir() / "bench" / "rerank_speed.csv"
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.csv, index=False)
    print(f"written to {args.csv}")
