"""The one-file report: it opens from disk with the network blocked, its charts are drawn, nothing in it runs,
and corpus text full of markup stays text."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from browser import launch
from playwright.sync_api import sync_playwright

from conftest import ROOT

HOSTILE = [
    {"_id": "x1", "title": "<script>window.pwned = 1</script>Pythons", "text": "Pythons are large constrictor snakes."},
    {"_id": "x2", "title": "Install Python", "text": '<img src=x onerror="window.pwned = 2"> Run the installer.'},
    {"_id": "x3", "title": '=HYPERLINK("http://evil")', "text": "A python tutorial for beginners."},
    *[
        {"_id": f"d{i}", "title": f"Note {i}", "text": f"Python note number {i} about snakes and code."}
        for i in range(8)
    ],
]


def _report(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ranklens", "report", *args]
    return subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _open_offline(path):
    """The page's script flag, console errors, <script> count, drawn chart count and text, with every request
    but the file itself refused."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context()
        requested = []

        def route(r):
            requested.append(r.request.url)
            return r.continue_() if r.request.url.startswith("file://") else r.abort()

        context.route("**/*", route)
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        drawn = page.evaluate(
            "[...document.querySelectorAll('img.chart')].filter(i => i.complete && i.naturalWidth > 0).length"
        )
        found = {
            "pwned": page.evaluate("window.pwned === undefined ? null : window.pwned"),
            "scripts": page.evaluate("document.querySelectorAll('script').length"),
            "charts": drawn,
            "text": page.inner_text("body"),
            "errors": errors,
            "requested": requested,
        }
        browser.close()
    return found


def test_a_report_of_hostile_text_runs_nothing_and_draws_offline(tmp_path):
    corpus = tmp_path / "hostile.jsonl"
    corpus.write_text("\n".join(json.dumps(d) for d in HOSTILE) + "\n", encoding="utf-8")
    out, table = tmp_path / "report.html", tmp_path / "comparison.csv"
    done = _report(
        "--corpus",
        str(corpus),
        "--query",
        "python tutorial",
        "<script>alert(1)</script> snakes",
        "--top-k",
        "5",
        "--out",
        str(out),
        "--csv",
        str(table),
    )
    assert done.returncode == 0, done.stderr
    page = _open_offline(out)
    assert page["pwned"] is None and page["scripts"] == 0, "no corpus text ran as a script"
    assert page["errors"] == [], page["errors"]
    assert page["requested"] == [out.as_uri()], "nothing but the file itself was requested"
    assert page["charts"] == 2, "a rank-flow chart per query, drawn from the file alone"
    assert "<script>window.pwned = 1</script>Pythons" in page["text"], "markup in the corpus shows as text"
    assert "<script>alert(1)</script> snakes" in page["text"]
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert {r["query"] for r in rows} == {"python tutorial", "<script>alert(1)</script> snakes"}
    assert all(r["title"] != '=HYPERLINK("http://evil")' for r in rows), "a formula is never a bare CSV cell"
    assert any(r["title"] == '\'=HYPERLINK("http://evil")' for r in rows)


def test_a_judged_query_set_report_has_metrics_the_sweep_and_verdicts(tmp_path):
    out = tmp_path / "negation.html"
    done = _report("--corpus", "negation", "--all-queries", "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = _open_offline(out)
    assert page["errors"] == [] and page["scripts"] == 0
    text = page["text"]
    assert "ndcg@10" in text and "cross-validated over" in text and "p = " in text
    assert "Queries, most disagreement first" in text and "Latency" in text
    queries = text.count("Query: ")
    assert queries >= 2 and page["charts"] == queries + 1, "a rank flow per query and the alpha sweep"
