"""serve.py, the server `make run` starts: it serves app.py, and at its start imports the page's modules (and loads
no model)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from browser import free_port, measure_default_backend, serving_app

from ranklens.models.loading import DEFAULT_CROSS_ENCODER, load_reranker

ROOT = Path(__file__).resolve().parents[1]


def _run(check: str, home: Path) -> subprocess.CompletedProcess:
    """`check` in a new interpreter (this test process has imported the panels and loaded models already)."""
    env = {**os.environ, "RANKLENS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_serve_serves_app_py_and_imports_every_panel_but_not_altair(tmp_path):
    done = _run(
        f"""
import sys
from pathlib import Path
import serve
assert serve.app.script_path.resolve() == Path({str(ROOT / "app.py")!r}), serve.app.script_path
assert "components.search_panel" not in sys.modules
serve.import_page_modules()
wanted = ("components.search_panel", "components.eval_panel", "ranklens.reports.charts", "pandas", *serve.FIRST_RESULTS_NEED)
missing = [name for name in wanted if name not in sys.modules]
assert not missing, missing
# 0.2 s the first page need not wait for: the Search tab's charts are plain specifications, the others import it
assert "altair" not in sys.modules, "altair is imported at the start again"
# and 40 ms more: the Search tab's tables are formatted by the browser, not by pandas' Styler (and jinja2)
assert "pandas.io.formats.style" not in sys.modules, "pandas' Styler is imported at the start again"
""",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_start_imports_the_page_and_loads_no_model_even_where_they_were_loaded_before(ranklens_home, embedder):
    """Readying the default models beside the browser's page load and the first script run made every first page
    slower on two cores: the page loads the models its query needs, and a cached query needs none."""
    backend = measure_default_backend()  # and `embedder` has loaded the default bi-encoder on torch fp32 here
    load_reranker(DEFAULT_CROSS_ENCODER, backend=backend)  # as the page's first query does: this load is remembered
    done = _run(
        f"""
import asyncio
import sys
import threading
import serve
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_embedder, load_reranker


async def start():
    async with serve._prepare_in_the_background(None):  # as the server's start runs it
        for thread in threading.enumerate():
            if thread.name == "prepare-first-page":
                thread.join(120)


asyncio.run(start())
assert "components.search_panel" in sys.modules
assert "torch" not in sys.modules and "openvino" not in sys.modules, "no model was made ready"
assert not load_reranker(DEFAULT_CROSS_ENCODER, backend={backend!r}).runnable
assert not load_embedder(DEFAULT_BI_ENCODER).runnable
""",
        ranklens_home,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_make_runs_server_asks_no_outside_address_for_the_url_it_prints(tmp_path):
    """Headless and bound to every address (as `make run` starts it), Streamlit looked up this machine's external
    address with HTTP requests to the internet before its server answered; .streamlit/config.toml names the address
    to print instead. The URL is printed before the server answers."""
    port = free_port()
    log = tmp_path / "server.log"
    with serving_app(log, {**os.environ, "RANKLENS_HOME": str(tmp_path)}, port=port, address=None):
        printed = log.read_text()
    assert f"URL: http://localhost:{port}" in printed, printed
    assert "External URL" not in printed and "external IP" not in printed, printed
