"""serve.py, the server `make run` starts: it serves app.py, and at its start imports the page's modules and makes
the default models ready to run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from browser import measure_default_backend

from ranklens.models.loading import DEFAULT_CROSS_ENCODER, load_reranker

ROOT = Path(__file__).resolve().parents[1]


def _run(check: str, home: Path) -> None:
    """`check` in a new interpreter (this test process has imported the panels and loaded models already)."""
    env = {**os.environ, "RANKLENS_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_serve_serves_app_py_and_imports_every_panel(tmp_path):
    _run(
        f"""
import sys
from pathlib import Path
import serve
assert serve.app.script_path.resolve() == Path({str(ROOT / "app.py")!r}), serve.app.script_path
assert "components.search_panel" not in sys.modules
serve.import_page_modules()
wanted = ("components.search_panel", "components.eval_panel", "pandas", "altair", *serve.FIRST_RESULTS_NEED)
missing = [name for name in wanted if name not in sys.modules]
assert not missing, missing
""",
        tmp_path,
    )


def test_a_first_start_loads_no_model_before_the_page_asks(tmp_path):
    _run(
        """
import sys
import serve
assert serve.warm_default_models() == []
assert "torch" not in sys.modules and "openvino" not in sys.modules
""",
        tmp_path,
    )


def test_a_relaunch_has_the_default_models_ready_before_the_page_asks(ranklens_home, embedder):
    """The query encoder always; the cross-encoder where `auto` chose an export backend here. A torch backend is
    left to the page (it would import torch, 6-8 s, in front of every first page): which one `auto` chooses moves
    between measurements on this machine, so each case checks what it must."""
    backend = measure_default_backend()  # and `embedder` has loaded the default bi-encoder on torch fp32 here
    load_reranker(DEFAULT_CROSS_ENCODER, backend=backend)  # as the page's first query does: this load is remembered
    _run(
        f"""
import sys
import serve
from ranklens.backends.registry import IN_TORCH
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_embedder, load_reranker
ready = serve.warm_default_models()
ce = load_reranker(DEFAULT_CROSS_ENCODER, backend={backend!r})
if {backend!r} in IN_TORCH:
    assert ready == [f"{{DEFAULT_BI_ENCODER}} (torch)"], ready
    assert not ce.runnable and "torch" not in sys.modules, "the page loads a torch cross-encoder when it needs it"
else:
    assert ready == [f"{{DEFAULT_BI_ENCODER}} (torch)", f"{{DEFAULT_CROSS_ENCODER}} ({backend})"], ready
    assert ce.runnable and ce.calls == 0
bi = load_embedder(DEFAULT_BI_ENCODER)
assert bi.runnable and bi.calls == 0
""",
        ranklens_home,
    )
