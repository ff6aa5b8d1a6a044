"""How long one grade takes, from the key press or click to the server's answer, in a real browser.

    python bench/grading_roundtrip.py [--grades 12] [--out FILE]        # about 2 minutes

On a fresh home (a scratch folder under $RANKLENS_HOME/bench, removed afterwards) and the built-in `python` corpus:
a grade clicked in the Search tab's cards (the whole app reruns: the baseline) and a grade key pressed in the Label
tab (its fragment reruns), each with the project's .streamlit/config.toml and with Streamlit's defaults. The time is
from the press to the server's `script_finished` message on the page's websocket, and for a key also to the
progress bar showing the new count. Prints medians over --grades grades and the ratio to the baseline.
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

from playwright.sync_api import expect, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import launch, serving_app, wait_until_idle

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.speed.bench import bench_folder

PROJECT, QUERY = "bench-grading", "what do pythons eat"
PER_RATER = 8  # fewer than the query's pool, so that no key press is a regrade
WARM_UP = 2
GRADES = ("Poor", "Fair", "Good", "Perfect")


class Answers:
    """The moments the server said a script or fragment run had finished, from the page's websocket."""

    def __init__(self, page) -> None:
        self.page = page
        self.finished: list[float] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        if isinstance(payload, bytes) and ForwardMsg.FromString(payload).HasField("script_finished"):
            self.finished.append(time.perf_counter())

    def after(self, pressed: float, timeout: float = 60.0) -> float:
        """Seconds from `pressed` to the first answer after it."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            later = [t for t in self.finished if t > pressed]
            if later:
                return later[0] - pressed
            self.page.wait_for_timeout(5)  # sync Playwright delivers events only while it is called
        raise TimeoutError(f"no script_finished within a minute ({len(self.finished)} before)")


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    answers = Answers(page)
    page.goto(url)
    return page, answers


def cards_clicks(browser, base: str, count: int) -> list[float]:
    page, answers = open_page(browser, f"{base}&results_view=cards&rater=clicks")
    expect(page.get_by_text("Reranked", exact=True).first).to_be_visible(timeout=180_000)
    wait_until_idle(page)
    controls = page.locator("[class*='st-key-grade-bi-']").all()
    times = []
    for i in range(count + WARM_UP):
        radio = controls[i % len(controls)].get_by_role("radio", name=GRADES[i % 4], exact=True)
        page.wait_for_timeout(300)
        pressed = time.perf_counter()
        radio.click()
        times.append(answers.after(pressed))
        wait_until_idle(page)
    page.close()
    return times[WARM_UP:]


def keyboard_grades(browser, base: str, count: int) -> tuple[list[float], list[float]]:
    """Each rater grades fresh pairs of the query's pool, so that every key press moves the progress bar."""
    answered: list[float] = []
    shown: list[float] = []
    for batch in range(-(-(count + WARM_UP) // PER_RATER)):
        page, answers = open_page(browser, f"{base}&tab=Label&rater=keys-{batch}")
        expect(page.get_by_text(re.compile(r"^Pair \d+ of \d+"))).to_be_visible(timeout=180_000)
        wait_until_idle(page)
        page.get_by_test_id("stMain").get_by_text("Guidelines", exact=True).click()  # focus off the note box
        progress = page.get_by_test_id("stProgress").first
        for i in range(min(PER_RATER, count + WARM_UP - len(answered))):
            before = progress.inner_text()
            page.wait_for_timeout(300)
            pressed = time.perf_counter()
            page.keyboard.press(str(i % 4))
            expect(progress).not_to_have_text(before, timeout=60_000)
            shown.append(time.perf_counter() - pressed)
            answered.append(answers.after(pressed))
        page.close()
    return answered[WARM_UP:], shown[WARM_UP:]


def measure(home: str, count: int, options: tuple[str, ...]) -> dict[str, list[float]]:
    env = {**os.environ, "RANKLENS_HOME": home}
    base = f"?project_name={PROJECT}&query={QUERY.replace(' ', '+')}"
    with serving_app(Path(home) / "server.log", env, options) as url, sync_playwright() as playwright:
        browser = launch(playwright)
        clicks = cards_clicks(browser, f"{url}/{base}", count)
        answered, shown = keyboard_grades(browser, f"{url}/{base}", count)
        browser.close()
    return {
        "click in Search cards (whole app reruns)": clicks,
        "key in Label (fragment): answer": answered,
        "key in Label: progress bar shows it": shown,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grades", type=int, default=12, help="grades of each kind, after two warm-up grades")
    args = parser.parse_args()
    rows = []
    for setting, options in (("Streamlit default", ("--runner.postScriptGC", "true")), ("RankLens config", ())):
        with tempfile.TemporaryDirectory(prefix="grading-", dir=bench_folder()) as home:
            os.environ["RANKLENS_HOME"] = home
            from ranklens.labelling.labels import LabelStore
            from ranklens.labelling.projects import project_folder

            LabelStore(project_folder(PROJECT))
            rows += [(setting, how, times) for how, times in measure(home, args.grades, options).items()]
    baseline = statistics.median(rows[0][2])
    print(
        f"Grade round trip, built-in `python` corpus, {cpu_name()} ({cpu_cores()} cores), Chromium; "
        f"median of {args.grades} grades each; baseline: the first row"
    )
    print(f"{'server':<18} {'how':<42} {'median s':>9} {'min s':>7} {'max s':>7} {'baseline/this':>14}")
    for setting, how, times in rows:
        median = statistics.median(times)
        print(
            f"{setting:<18} {how:<42} {median:>9.3f} {min(times):>7.3f} {max(times):>7.3f} {baseline / median:>13.1f}x"
        )


if __name__ == "__main__":
    main()
