"""Where a relaunch's time goes, by the server's own clock: from `streamlit run` to the page showing a cached query.

    python bench/relaunch_phases.py [--runs 5] [--backend auto]

On a fresh RANKLENS_HOME (a temporary folder, removed afterwards), a cold start builds the index and caches the
query's scores; then the server is relaunched --runs times with one Chromium kept open (as bench/app_startup.py's
"relaunch, repeated query, browser open"), alternating two servers on one port:

- plain: serve.py as `make run` starts it (the baseline);
- traced: a copy of serve.py's start, written into the temporary RANKLENS_HOME, that also logs when its import
  thread starts and ends and when each script run starts and ends.

For each relaunch: seconds from the launch to the server's health check, the import thread's start and end, the
first script run's start and end (traced only), and the first results in the page (its own clock, as
bench/app_startup.py reads it). Medians are printed; the plain server's first results are the baseline, to show
what the tracing itself costs.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from app_startup import QUERY, session, start
from browser import free_port, launch, serving_app

from ranklens.backends.cpu import cpu_cores, cpu_name

TRACED = f'''"""serve.py's start, with timestamps on stderr (bench/relaunch_phases.py)."""
import sys
import time


def log(event):
    print(f"RELAUNCH-PHASE {{time.time():.3f}} {{event}}", file=sys.stderr, flush=True)


import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

import serve

imports = serve.import_page_modules


def traced_imports():
    log("imports start")
    imports()
    log("imports end")


serve.import_page_modules = traced_imports
run_script = script_runner.ScriptRunner._run_script


def traced_run(self, *args, **kwargs):
    log("script start")
    try:
        return run_script(self, *args, **kwargs)
    finally:
        log("script end")


script_runner.ScriptRunner._run_script = traced_run
app = st.App({str(ROOT / "app.py")!r}, lifespan=serve._prepare_in_the_background)
'''
PHASE = re.compile(r"RELAUNCH-PHASE (\S+) (.+)")
COLUMNS = ("health check", "imports start", "imports end", "script start", "script end", "first results")


def relaunch(home: Path, port: int, browser, backend: str, script: Path | None) -> dict[str, float]:
    """One relaunch of serve.py (or the traced `script`) on the cached query: seconds from the launch to each
    phase the server logs and to the page's first results."""
    log = home / "server.log"
    launched = time.time()
    env = {**os.environ, "RANKLENS_HOME": str(home)}
    with serving_app(log, env, port=port, script=script or "serve.py") as url:
        answered = time.time() - launched
        first, _ = session(browser, url, QUERY, launched, backend)
        deadline = time.time() + 60
        while script and "script end" not in log.read_text() and time.time() < deadline:
            time.sleep(0.1)  # the run goes on after the results are drawn (the fp32 check, the explanation)
    phases = {"health check": answered}
    for line in log.read_text().splitlines():
        found = PHASE.match(line)
        if found:
            phases.setdefault(found[2].strip(), float(found[1]) - launched)  # the first script run's
    return phases | {"first results": first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="relaunches of each server")
    parser.add_argument("--backend", default="auto", help="the cross-encoder backend the view asks for")
    args = parser.parse_args()
    measured: dict[str, list[dict[str, float]]] = {"plain": [], "traced": []}
    with tempfile.TemporaryDirectory(prefix="ranklens-relaunch-phases-") as folder, sync_playwright() as playwright:
        home = Path(folder)
        script = home / "traced_serve.py"
        script.write_text(TRACED)
        browser = launch(playwright, home / "chromium-profile")
        port = free_port()
        print("cold start (index, models, the query's scores)…", file=sys.stderr)
        start(str(home), port, QUERY, args.backend, playwright, browser, settle=True)
        relaunch(home, port, browser, args.backend, None)  # the browser's cache now holds this origin's page
        for run in range(args.runs):
            print(f"relaunch {run + 1} of {args.runs}…", file=sys.stderr)
            for kind, traced in (("plain", None), ("traced", script))[:: 1 if run % 2 else -1]:
                measured[kind].append(relaunch(home, port, browser, args.backend, traced))
        browser.close()
    print(
        f"Relaunch to a cached query's results in an open Chromium, built-in `python` corpus, {cpu_name()} "
        f"({cpu_cores()} cores); medians of {args.runs} relaunches, seconds from the launch; baseline: plain serve.py"
    )
    print(f"{'server':<8}" + "".join(f"{column:>15}" for column in COLUMNS) + f"{'vs plain':>10}")
    baseline = statistics.median(m["first results"] for m in measured["plain"])
    for kind, runs in measured.items():
        cells = []
        for column in COLUMNS:
            values = [m[column] for m in runs if column in m]
            cells.append(f"{statistics.median(values):>15.2f}" if values else f"{'—':>15}")
        first = statistics.median(m["first results"] for m in runs)
        print(f"{kind:<8}" + "".join(cells) + f"{baseline / first:>9.2f}x")


if __name__ == "__main__":
    main()
