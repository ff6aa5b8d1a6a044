"""Time to results in a real browser, from launching the server as `make run` does to the page showing them.

    python bench/app_startup.py [--runs 3] [--backend auto]        # about 3 minutes on 2 cores

On a fresh home (a scratch folder under $RANKLENS_HOME/bench, removed afterwards), on the built-in `python` corpus:
a cold start (index, exports and `auto`'s measurement made on the way), relaunches with a new query and with a
repeated one, and a new browser session on the running server. Each relaunch is timed with a browser kept open (as
a user's is) and with a fresh one. Two times each, read from the page's own clock: the first results (the first
stage drawn, the reranking under way) and the finished page. Prints medians of --runs relaunches.
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
from ranklens.speed.bench import bench_folder
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
    with (
        tempfile.TemporaryDirectory(prefix="app-startup-", dir=bench_folder()) as home,
        sync_playwright() as playwright,
    ):
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
