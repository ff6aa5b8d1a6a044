"""Shared by the real-browser tests: `streamlit run serve.py` (as `make run` starts the app) on a free port,
Debian's Chromium, and waits."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
COMPACT_CAPTION = "Every document in any ranker's top-"  # under the compact comparison, once a search is done
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


@contextlib.contextmanager
def serving_app(
    log: Path,
    env: dict[str, str] | None = None,
    options: tuple[str, ...] = (),
    port: int | None = None,
    script: str | Path = "serve.py",
    address: str | None = "127.0.0.1",
):
    """`streamlit run serve.py` (or `script`) on `port` (else a free one) and `address` (None: every address, as
    `make run` serves) until the block ends, with extra command-line options; yields its URL."""
    port = port or free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(script),
                "--server.port",
                str(port),
                *(("--server.address", address) if address else ()),
                "--server.headless",
                "true",
                *options,
            ],
            cwd=ROOT,
            env=env or os.environ.copy(),
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
            time.sleep(0.1)  # bench/app_startup.py times a relaunch through this wait
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a page still connected, or a run still going: it has had its chance
            server.kill()
            server.wait()


def measure_default_backend() -> str:
    """The default cross-encoder's backend on this machine, measured on the built-in corpus as the app's first start
    does (about a minute), unless measured already."""
    from ranklens.corpus.loading import load_builtin
    from ranklens.models.loading import DEFAULT_CROSS_ENCODER
    from ranklens.speed.calibration import measured_backend

    corpus = load_builtin("python")
    queries, passages = list(corpus.queries.values()), [d.text for d in corpus.documents]
    return measured_backend(DEFAULT_CROSS_ENCODER, queries, passages).backend


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """One `streamlit run serve.py` for every browser test, on RANKLENS_HOME of the test session. The cross-encoder's
    backend is measured first, as the app does on its first start (about a minute here): in the full suite an
    earlier test has done it, and a browser test run alone should not spend its page timeouts on it."""
    measure_default_backend()
    with serving_app(tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


def wait_until_idle(page) -> None:
    """Streamlit shows its status widget ("Running…") while a script or fragment runs."""
    for _ in range(2):  # twice: a rerun can start just after the first quiet moment
        page.wait_for_timeout(700)
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=120_000)
        expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=30_000)


def launch(playwright, profile: Path | None = None):
    """Debian's Chromium; with a `profile` folder, one that keeps its cache there between pages, as a user's browser
    does (a persistent context: it opens pages itself)."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium package"
    if profile is None:
        return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    return playwright.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
