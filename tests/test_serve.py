"""serve.py, the server `make run` starts: it serves app.py and imports the page's modules in the background."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_serve_serves_app_py_and_imports_every_panel():
    # a new interpreter: this test process may have imported the panels already
    check = f"""
import sys
from pathlib import Path
import serve
assert serve.app.script_path.resolve() == Path({str(ROOT / "app.py")!r}), serve.app.script_path
assert "components.search_panel" not in sys.modules
serve.import_page_modules()
wanted = ("components.search_panel", "components.eval_panel", "pandas", "altair", *serve.FIRST_RESULTS_NEED)
missing = [name for name in wanted if name not in sys.modules]
assert not missing, missing
"""
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
