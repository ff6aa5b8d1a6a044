"""A relaunch of this working tree against a relaunch of a git revision, alternated in one run: first results and the
finished page in an open Chromium, for a new query and a repeated one.

    python bench/relaunch_ab.py [--baseline HEAD] [--runs 6]

The revision (`git archive`, into a temporary folder removed afterwards) is the baseline: this machine's speed moves
by more than most start-up changes between runs, so the two servers take turns on one fresh RANKLENS_HOME, one port
and one Chromium kept open (bench/app_startup.py's "browser open"), the order swapped each round. A cold start of
this tree first builds the index, the exports and `auto`'s choice, which both then use; each server is then
launched once with the repeated query, so that the browser's cache holds the page, and once with a new query, so that
its own exports are made (where the two lay out or key their exports differently), before anything is timed.

Each round launches each server twice: with a query never asked before (its models load, from their exports), and
with the cold start's query (every score cached: no model loads). Medians are printed, seconds from the launch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from app_startup import QUERY, measured_choice, session, start
from browser import free_port, launch, serving_app

from ranklens.backends.cpu import cpu_cores, cpu_name

COLUMNS = ("new query: first results", "new query: finished page", "repeated query")


def extract(revision: str, folder: Path) -> Path:
    """The tree of `revision` in `folder` (nothing in the repository changes)."""
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=True).stdout
    archive_file = folder / "tree.tar"
    archive_file.write_bytes(archive)
    tree = folder / "tree"
    with tarfile.open(archive_file) as tar:
        tar.extractall(tree, filter="data")
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="HEAD", help="the git revision to compare this working tree with")
    parser.add_argument("--runs", type=int, default=6, help="rounds (each launches each server twice)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ranklens-relaunch-ab-") as folder, sync_playwright() as playwright:
        home = Path(folder) / "home"
        home.mkdir()
        servers = {args.baseline: extract(args.baseline, Path(folder)) / "serve.py", "this tree": ROOT / "serve.py"}
        times: dict[str, dict[str, list[float]]] = {name: {column: [] for column in COLUMNS} for name in servers}
        browser = launch(playwright, home / "chromium-profile")
        port = free_port()
        env = {**os.environ, "RANKLENS_HOME": str(home)}

        def relaunch(name: str, query: str) -> tuple[float, float]:
            launched = time.time()
            with serving_app(home / "server.log", env, port=port, script=servers[name]) as url:
                return session(browser, url, query, launched, "auto")

        print("cold start (index, exports, auto's choice)…", file=sys.stderr)
        start(str(home), port, QUERY, "auto", playwright, browser, settle=True)
        for name in servers:
            relaunch(name, QUERY)  # the browser's cache now holds each server's page
            relaunch(name, f"{QUERY} 0 {name}")  # and each server's exports are on disk
        for run in range(args.runs):
            print(f"round {run + 1} of {args.runs}…", file=sys.stderr)
            for name in list(servers)[:: 1 if run % 2 == 0 else -1]:
                first, done = relaunch(name, f"{QUERY} {run + 1} {name}")
                times[name][COLUMNS[0]].append(first)
                times[name][COLUMNS[1]].append(done)
                times[name][COLUMNS[2]].append(relaunch(name, QUERY)[0])
        browser.close()
        chosen = measured_choice(str(home))
    print(
        f"Relaunch in an open Chromium, built-in `python` corpus ({chosen}), {cpu_name()} ({cpu_cores()} cores); "
        f"medians of {args.runs} rounds, seconds from the launch; baseline: {args.baseline}"
    )
    print(f"{'server':<12}" + "".join(f"{column:>28}" for column in COLUMNS))
    medians = {name: [statistics.median(times[name][column]) for column in COLUMNS] for name in servers}
    for name, values in medians.items():
        print(f"{name:<12}" + "".join(f"{value:>28.2f}" for value in values))
    ratios = [base / this for base, this in zip(medians[args.baseline], medians["this tree"])]
    print(f"{'baseline/this':<12}" + "".join(f"{ratio:>27.2f}x" for ratio in ratios))


if __name__ == "__main__":
    main()
