"""The real thing: `streamlit run app.py` driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# A closed network: Chromium must not try to reach anything but the app.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, f"streamlit exited:\n{log.read_text()}"
            assert time.time() < deadline, f"streamlit did not start in 90 s:\n{log.read_text()}"
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def wait_until_idle(page) -> None:
    """Streamlit shows its status widget ("Running…") while a script or fragment runs."""
    for _ in range(2):  # twice: a rerun can start just after the first quiet moment
        page.wait_for_timeout(700)
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=120_000)
        expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=30_000)


def test_query_slider_and_screenshots(app_url):
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium package"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1300})
        page.goto(app_url)
        expect(page.get_by_text("Reranked", exact=True)).to_be_visible(timeout=120_000)
        wait_until_idle(page)

        query = page.get_by_label("Query", exact=True)
        query.fill("how to install python packages")
        query.press("Enter")
        wait_until_idle(page)
        expect(page.get_by_text("Installing packages with pip").first).to_be_visible(timeout=30_000)
        body = page.get_by_test_id("stMain").inner_text()
        assert "Bi-encoder" in body and "Reranked" in body and "Hybrid" in body
        assert any(arrow in body for arrow in ("▲", "▼", "new"))
        page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=False)

        hybrid_before = page.locator("[data-testid='stColumn']").nth(2).inner_text()
        slider = page.get_by_test_id("stMain").get_by_role("slider")  # the sidebar has the batch-size slider
        slider.focus()
        for _ in range(10):  # 0.50 -> 1.00 in steps of 0.05: the hybrid becomes the bi-encoder ranking
            slider.press("ArrowRight")
        expect(slider).to_have_attribute("aria-valuetext", "1.00", timeout=10_000)
        wait_until_idle(page)
        hybrid_after = page.locator("[data-testid='stColumn']").nth(2).inner_text()
        assert hybrid_after != hybrid_before

        def first_title(column_text: str) -> str:
            return next(line for line in column_text.splitlines() if line.startswith("1.") and "·" in line).split("·")[
                -1
            ]

        bi_column = page.locator("[data-testid='stColumn']").nth(0).inner_text()
        assert first_title(hybrid_after) == first_title(bi_column), "at alpha 1 the hybrid is the bi-encoder's ranking"
        page.screenshot(path=str(SCREENSHOTS / "alpha-1.png"), full_page=False)

        page.get_by_role("tab", name="Latency").click()
        expect(page.get_by_text("This session")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SCREENSHOTS / "latency.png"), full_page=False)
        browser.close()
