"""Time to first results in a real browser: from `streamlit run app.py` to the page showing them.

    python bench/app_startup.py [--runs 3] [--backend auto]

Starts the app on a fresh RANKLENS_HOME (a temporary folder, removed afterwards) and opens it in Debian's Chromium
on the built-in `python` corpus, once per start:

- cold: the first start on an empty RANKLENS_HOME (the index is built, both models load, `auto` measures the
  backends, the query is embedded and reranked; the page then stays open until its script run is over, the check
  against fp32 included, as a user who watched the page finish saw it);
- relaunch, new query: the server stopped and started again on the same folder, with a query never asked (index,
  exports, backend choice cached; the bi-encoder's fp32 export embeds it without torch, and the cross-encoder
  loads, or with an export backend runs its export, to rerank it);
- relaunch, repeated query: the same again with the query the cold start asked (its embedding, its scores and the
  check's fp32 scores are cached too: no model loads). Before 2026-12-04 the cold start's page closed at the
  finished results, which cut the check short, so every relaunch of this query ran the check's fp32 reranking
  again, beside the browser's drawing of the results.

- new session, running server: after the repeated query, a second browser page opens the same view on the server
  still running (its models and first stage in memory: what a reload or a shared link costs).

Each relaunch is timed twice, with two browsers:

- browser open: one Chromium with a profile of its own (under the temporary RANKLENS_HOME), started before the first
  server and kept open, as a user's browser is while they restart the app: it holds Streamlit's page in its cache.
  Every server of a run listens on the same port, as `make run`'s does (8501): the cache is kept per origin, and
  before 2026-12-03 each server had a port of its own, so this browser fetched and compiled the page anew each time;
- fresh browser: Chromium launched once the server answers, with an empty cache, inside the time measured (how this
  bench measured until 2026-12-02).

Two times each, from launching the server (from opening the page for the new session): until the first stage's
column and the "Reranked" heading are drawn (first results; a query whose scores are all cached goes straight to the
finished page), and until the finished page (the reranked and hybrid columns filled). Both are read from the page's
own clock, as its text changes (before 2026-12-03, from Playwright's checks, which poll up to a second apart). The
relaunches are run --runs times; medians are printed, with the cold start as the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import COMPACT_CAPTION, free_port, launch, serving_app, wait_until_idle

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.models.files import fingerprint
from ranklens.models.loading import DEFAULT_CROSS_ENCODER, in_use
from ranklens.speed.calibration import cached_choice

QUERY = "what do pythons eat"


# Records, in the page itself, when the first results and the finished page are first drawn: Playwright's own
# checks poll at growing intervals (up to a second apart) and would add their wait to what is measured.
DRAWN = """
window.__drawn = {};
new MutationObserver(() => {
  const text = document.body ? document.body.textContent : "";
  const now = Date.now();
  if (!window.__drawn.done && text.includes(%(finished)s)) window.__drawn.done = now;
  if (!window.__drawn.first && (text.includes("Reranked") || window.__drawn.done)) window.__drawn.first = now;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def session(browser, url: str, query: str, since: float, backend: str, settle: bool = False) -> tuple[float, float]:
    """Seconds from `since` (time.time()) to first results and to the finished page, in a new page of `browser` (a
    Browser or a BrowserContext). With `settle`, the page stays open until its script run is over (the backend's
    check against fp32 included), as a user who watched the page finish saw it: the check's scores are then cached
    too."""
    page = browser.new_page()
    page.add_init_script(DRAWN % {"finished": json.dumps(COMPACT_CAPTION)})
    page.goto(f"{url}/?builtin_name=python&ce_backend={quote_plus(backend)}&query={quote_plus(query)}")
    expect(page.get_by_text(COMPACT_CAPTION).first).to_be_visible(timeout=600_000)
    drawn = page.evaluate("window.__drawn")
    if settle:
        wait_until_idle(page)
    page.close()
    return drawn["first"] / 1000 - since, drawn["done"] / 1000 - since


def start(
    home: str, port: int, query: str, backend: str, playwright, kept_open=None, settle: bool = False
) -> tuple[tuple[float, float], tuple[float, float]]:
    """From launching the server to first results and to the finished page, in `kept_open` (a browser already open)
    or else in a Chromium launched once the server answers; then the same for a second page on the running server,
    from opening it (`settle`: see session)."""
    env = {**os.environ, "RANKLENS_HOME": home}
    launched = time.time()  # the page's clock (Date.now()) is the same wall clock
    with serving_app(Path(home) / "server.log", env, port=port) as url:
        browser = kept_open or launch(playwright)
        first = session(browser, url, query, launched, backend, settle)
        again = session(browser, url, query, time.time(), backend)
        if kept_open is None:
            browser.close()
    return first, again


def measured_choice(home: str) -> str:
    """What `auto` chose for the default cross-encoder in `home`, in words."""
    before = os.environ.get("RANKLENS_HOME")
    os.environ["RANKLENS_HOME"] = home
    try:
        choice = cached_choice(fingerprint(in_use(DEFAULT_CROSS_ENCODER)[0]))
    finally:
        if before is None:
            del os.environ["RANKLENS_HOME"]
        else:
            os.environ["RANKLENS_HOME"] = before
    return f"auto chose {choice.backend}" if choice else "auto measured nothing"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="relaunches of each kind")
    parser.add_argument("--backend", default="auto", help="the cross-encoder backend the view asks for")
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="ranklens-app-startup-") as home, sync_playwright() as playwright:
        browser = launch(playwright, Path(home) / "chromium-profile")
        port = free_port()
        cold, _ = start(home, port, QUERY, args.backend, playwright, browser, settle=True)
        times["cold (empty RANKLENS_HOME)"] = [cold]
        for run in range(args.runs):
            for kind, reused in (("browser open", browser), ("fresh browser", None)):
                new, _ = start(home, port, f"{QUERY} {run + 1} {kind}", args.backend, playwright, reused)
                repeated, reopened = start(home, port, QUERY, args.backend, playwright, reused)
                times.setdefault(f"relaunch, new query, {kind}", []).append(new)
                times.setdefault(f"relaunch, repeated query, {kind}", []).append(repeated)
                times.setdefault(f"new session, running server, {kind}", []).append(reopened)
        browser.close()
        chosen = measured_choice(home)
    print(
        f"App start to results in Chromium, built-in `python` corpus, backend {args.backend} ({chosen}), {cpu_name()} "
        f"({cpu_cores()} cores); "
        f"medians of {args.runs} relaunches; baseline: the cold start"
    )
    baseline = cold[0]
    print(f"{'start':<45} {'first results s':>16} {'finished page s':>16} {'cold/this':>10}")
    for what, runs in times.items():
        first = statistics.median(t[0] for t in runs)
        done = statistics.median(t[1] for t in runs)
        print(f"{what:<45} {first:>16.2f} {done:>16.2f} {baseline / first:>9.1f}x")


if __name__ == "__main__":
    main()
