"""The app through streamlit.testing.v1.AppTest, with the real models and built-in corpora."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import subprocess
import sys

import pytest
import streamlit as st
from browser import COMPACT_CAPTION
from streamlit.testing.v1 import AppTest

from components.model_settings import forget_measured
from components.text import literal
from conftest import ROOT, STAND_IN_CE, kept_passages, measured_backend_of, open_tab
from ranklens.models.files import fingerprint
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, in_use, load_embedder, load_reranker
from ranklens.speed.bench import SEED, SEED_INDEX
from ranklens.speed.calibration import forget_known_choice, known_choice

ROW = re.compile(r"^\*\*(\d+)\.\*\* ")


def start(view: str = "cards") -> AppTest:
    """The app, with the results shown as cards (one column per ranker) unless `view` is "compact"."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["results_view"] = view
    return at.run()


def rows(at: AppTest, column: int) -> list[str]:
    """The ranked rows of the n-th ranking column of the cards view."""
    ranked = [[m.value for m in c.markdown if ROW.match(m.value)] for c in at.columns]
    return [r for r in ranked if r][column]


def search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="query").set_value(query)
    return at.run()


def test_builtin_corpus_index_query_shows_both_rankings_with_arrows():
    at = start()
    assert not at.exception
    chosen = measured_backend_of(DEFAULT_CROSS_ENCODER)
    shown = [c.value.replace("\\", "") for c in at.caption]  # Markdown escapes removed
    assert any(c.startswith(f"auto → **{chosen}: ") and "measured on" in c for c in shown), (
        "the sidebar says which backend the measurement chose, and why"
    )
    at.selectbox(key="builtin_name").set_value("negation")
    at.selectbox(key="ce_backend").set_value("torch-bf16").run()  # a lower precision: its agreement is shown
    assert any("Index: 41 documents" in c.value for c in at.caption)
    search(at, "hotel without a pool")
    assert not at.exception and not at.error
    bi, reranked, hybrid = rows(at, 0), rows(at, 1), rows(at, 2)
    assert len(bi) == len(reranked) == len(hybrid) == 10
    assert all(re.search(r"(▲\d+|▼\d+|new|=)", row) for row in reranked)
    assert not any(re.search(r"(▲\d+|▼\d+|new)", row) for row in bi), "the baseline has no arrows"
    assert bi != reranked
    assert any(re.search(r"\b0 truncated at the cross-encoder's 192-token window", c.value) for c in at.caption), (
        "short hotel reviews: none cut at the stand-in's window"
    )
    assert any("Cross-encoder in use" in c.value and "could not be loaded" in c.value for c in at.caption), (
        "the fallback cross-encoder is named"
    )
    assert any("with fp32 (onnx)" in c.value and "Spearman" in c.value for c in at.caption), "the backend's agreement"


def _statuses(node) -> list[str]:
    """The labels of the st.status blocks under an AppTest node."""
    found = [node.label] if getattr(node, "type", None) == "status" else []
    for child in getattr(node, "children", {}).values():
        found += _statuses(child)
    return found


def test_the_backend_measurement_is_shown_once_and_not_as_running_again_at_a_rerun():
    forget_known_choice(DEFAULT_CROSS_ENCODER)  # on disk and in this process: the first run measures
    forget_measured(DEFAULT_CROSS_ENCODER)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["query"] = " "  # no search: a new query's page reruns itself into its results, a second run
    at.run()
    assert not at.exception
    assert _statuses(at.sidebar) == [f"Measured: {measured_backend_of(DEFAULT_CROSS_ENCODER)}"], "shown, and done"
    at.run()
    assert _statuses(at.sidebar) == [], "a rerun must not show the measurement again, as running or at all"
    assert any(c.value.startswith("auto → ") for c in at.caption), "the choice is still said"


def test_measure_again_times_the_backends_anew_and_keeps_the_new_choice():
    at = start()
    before = known_choice(DEFAULT_CROSS_ENCODER)
    assert before is not None, "measured at the app's first start in this session"
    at.button(key="ce_backend_measure_again").click().run()
    assert not at.exception
    after = known_choice(DEFAULT_CROSS_ENCODER)
    assert after is not None and after.measured != before.measured, "timed anew (real timings), and kept on disk"
    shown = [c.value.replace("\\", "") for c in at.caption]
    assert any(c.startswith(f"auto → **{after.backend}: ") for c in shown), "the sidebar says the new choice"
    at.run()
    assert known_choice(DEFAULT_CROSS_ENCODER) == after, "once: the next rerun uses the new choice"


def test_a_bi_encoder_backend_builds_its_own_index_and_is_measured_against_fp32():
    at = start()
    at.selectbox(key="builtin_name").set_value("negation").run()
    at.selectbox(key="bi_backend").set_value("torch-bf16").run()
    assert not at.exception
    assert any("(torch-bf16)" in c.value and "Index: 41 documents" in c.value for c in at.caption)
    assert any("Bi-encoder backend torch-bf16: cosine with torch fp32" in c.value for c in at.caption)
    assert not any("Bi-encoder backend" in w.value for w in at.warning), "bf16 keeps the embeddings"
    at.selectbox(key="bi_backend").set_value("onnx-int8").run()
    assert any(
        "Bi-encoder backend onnx-int8" in w.value and "may retrieve other documents" in w.value for w in at.warning
    ), "int8 embeddings drift: said, not hidden"


def test_the_index_passages_are_tokenized_for_the_cross_encoder_when_the_app_builds_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))  # nothing of other tests' indexes on disk
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["builtin_name"] = "negation"
    at.query_params["ce_backend"] = "torch"  # chosen: no measurement of the backends in this fresh home
    at.run()
    assert not at.exception
    counts = next(
        re.search(r"Index: (\d+) documents, (\d+) passages", c.value) for c in at.caption if "Index:" in c.value
    )
    assert kept_passages(tmp_path) == int(counts.group(2)) > 0, "every passage of the index, and only those"
    with contextlib.closing(sqlite3.connect(tmp_path / "cache" / "passage_tokens.sqlite")) as db:
        recorded = db.execute("SELECT model FROM filled").fetchall()
    assert recorded == [(fingerprint(in_use(DEFAULT_CROSS_ENCODER)[0]),)], "the index recorded as tokenized"


def test_alpha_change_resorts_with_no_model_call():
    at = search(start(), "is a python bite dangerous")
    embedder = load_embedder(DEFAULT_BI_ENCODER)
    reranker = load_reranker(DEFAULT_CROSS_ENCODER, backend=measured_backend_of(DEFAULT_CROSS_ENCODER))  # the app's
    calls = (embedder.calls, reranker.calls)
    at.slider(key="alpha").set_value(1.0).run()
    assert rows(at, 2)[0].split("·")[-1] == rows(at, 0)[0].split("·")[-1], "alpha 1 is the bi-encoder's ranking"
    at.slider(key="alpha").set_value(0.0).run()
    assert [r.split("·")[-1] for r in rows(at, 2)] == [r.split("·")[-1] for r in rows(at, 1)]
    at.selectbox(key="fusion_method").set_value("rrf").run()
    assert (embedder.calls, reranker.calls) == calls


def test_bad_upload_shows_the_error_and_keeps_the_corpus():
    at = start()
    at.radio(key="corpus_mode").set_value("Upload").run()
    at.file_uploader(key="upload_files").set_value(
        [
            ("good.txt", b"a fine document", "text/plain"),
            ("broken.jsonl", b'{"_id": "1", "text": "ok"}\n{oops\n', "application/json"),
        ]
    ).run()
    at.button(key="load_upload").click().run()
    assert any("broken.jsonl, line 2: not valid JSON" in e.value.replace("\\", "") for e in at.error)
    assert any("Still using" in c.value and "python" in c.value for c in at.caption)
    assert rows(at, 0), "the previous corpus still searches"


def test_csv_upload_with_column_picker():
    at = start()
    at.radio(key="corpus_mode").set_value("Upload").run()
    data = b"sku,name,blurb\n1,Kettle,Boils water fast\n2,Toaster,Browns bread evenly\n3,Fan,Moves air quietly\n"
    at.file_uploader(key="upload_files").set_value(("items.csv", data, "text/csv")).run()
    picker = {s.key.split("|")[0]: s for s in at.selectbox if s.key.startswith("csv_")}
    assert picker["csv_text"].value == "blurb", "the longest-text column, never the id-like sku"
    assert any("Boils water fast" in str(d.value.values) for d in at.dataframe), "a preview before Load"
    picker["csv_id"].set_value("sku")
    picker["csv_title"].set_value("name")
    at.button(key="load_upload").click().run()
    assert not at.error
    assert any("Index: 3 documents" in c.value for c in at.caption)
    search(at, "make toast")
    assert "Toaster" in rows(at, 0)[0]


def test_corpus_text_is_never_rendered_as_html():
    at = start()
    at.radio(key="corpus_mode").set_value("Upload").run()
    hostile = (
        b'{"_id": "x", "title": "<script>alert(1)</script>", "text": "<img src=x onerror=alert(1)> **bold** $x$"}\n'
    )
    at.file_uploader(key="upload_files").set_value(("evil.jsonl", hostile, "application/json")).run()
    at.button(key="load_upload").click().run()
    search(at, "alert")
    shown = "\n".join(m.value for m in at.markdown)
    assert re.search(r"(?<!\\)<", shown) is None, "every < reaches Markdown escaped"
    assert r"\<script\>alert\(1\)\</script\>" in shown and r"\<img src\=x onerror\=alert\(1\)\>" in shown
    assert r"\*\*bold\*\* \$x\$" in shown


def test_throughput_panel_reports_pairs_per_second():
    at = start()
    open_tab(at, "Throughput")
    repeat = "python has 44 passages: to make more candidates, they repeat"
    assert any(c.value.startswith(repeat) for c in at.caption), "100 candidates of 44 passages: said"
    at.multiselect(key="throughput_sizes").set_value([10])
    at.number_input(key="throughput_repeats").set_value(1)
    at.checkbox(key="throughput_index").check()
    at.button(key="throughput_run").click().run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert (
        list(table["measure"])
        == ["latency, 10 candidates (ms)"] * 2 + ["pairs/s, 10 candidates"] * 2 + ["indexing docs/s"] * 2
    )
    assert not any(c.value.startswith(repeat) for c in at.caption), "10 candidates: no repeat"
    assert list(table["implementation"]) == [SEED, f"ranklens {measured_backend_of(DEFAULT_CROSS_ENCODER)}"] * 2 + [
        SEED_INDEX,
        "ranklens index, torch (chunked, no cache)",
    ]
    assert (table["value"] > 0).all()
    latency = table[table["measure"] == "latency, 10 candidates (ms)"].set_index("implementation")["value"]
    per_second = table[table["measure"] == "pairs/s, 10 candidates"].set_index("implementation")["value"]
    assert (per_second * latency / 1000).to_dict() == pytest.approx(dict.fromkeys(latency.index, 10.0), rel=1e-3), (
        "pairs/s is the pairs over the latency, for every row"
    )
    ours = f"ranklens {measured_backend_of(DEFAULT_CROSS_ENCODER)}"
    ratio = table[(table["measure"] == "latency, 10 candidates (ms)") & (table["implementation"] == ours)][
        "vs tutorial"
    ]
    assert float(ratio.iloc[0]) == pytest.approx(latency[SEED] / latency[ours], rel=1e-3), (
        "the ratio is the seed's time over ours"
    )


@pytest.fixture(autouse=True)
def _stand_in_is_configured(monkeypatch):
    monkeypatch.setenv("RANKLENS_CE_FALLBACKS", str(STAND_IN_CE))


def test_bm25_as_the_first_stage_with_the_dense_one_beside_it():
    at = start()
    at.selectbox(key="first_stage").set_value("bm25").run()
    at.selectbox(key="compare_first_stage").set_value("faiss").run()
    search(at, "is a python bite dangerous")
    assert not at.exception and not at.error, [e.value for e in at.error]
    headings = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert headings == ["#### BM25", "#### Reranked", "#### Hybrid", "#### bi\\-encoder"]
    assert any("first stage **BM25** (bm25)" in c.value for c in at.caption)
    side = rows(at, 3)
    assert len(side) == 10 and all(re.search(r"(▲\d+|▼\d+|new|=)", row) for row in side), "arrows against BM25's ranks"
    assert any("BM25" in row for row in rows(at, 0)), "the BM25 column shows BM25 scores"


def test_an_approximate_first_stage_says_its_recall():
    at = start()
    at.selectbox(key="first_stage").set_value("faiss-hnsw").run()
    assert not at.exception
    said = [
        re.search(r"recall@100 against the flat index: (\d\.\d{3}) over (\d+) queries", c.value) for c in at.caption
    ]
    found = [m for m in said if m]
    assert len(found) == 1 and 0.9 <= float(found[0][1]) <= 1.0 and int(found[0][2]) == 8


NEW_QUERY_PAGE = """
import sys
import threading
from streamlit.testing.v1 import AppTest
started = []
start_thread = threading.Thread.start
threading.Thread.start = lambda thread: started.append(thread.name) or start_thread(thread)
at = AppTest.from_file(sys.argv[1], default_timeout=300)
at.query_params["builtin_name"] = "python"
at.query_params["ce_backend"] = "openvino-bf16"
at.query_params["query"] = "how long can a python go without food"
at.session_state["results_view"] = "compact"  # the view that explains its top document at once
at.run()
at.run()  # the progressive first run reruns into the finished page
assert not at.exception, [e.value for e in at.exception]
captions = [c.value for c in at.caption]
assert any("with fp32 (onnx)" in c for c in captions), "the accuracy guard ran"
assert any("Cross-encoder logit" in c for c in captions), "the top document was explained"
assert "torch" not in sys.modules, "the page imported torch"
assert "huggingface_hub.file_download" not in sys.modules, "its HTTP stack: 50 ms (ranklens.models.files)"
assert "ranklens-load-ahead" in started, "a new query's models load ahead of the index (ranklens.ranking.search.load_ahead)"
"""


def test_a_new_query_on_an_export_backend_never_imports_torch():
    """Reranking, the accuracy guard (ONNX Runtime fp32) and the explanation of the top document all run exports:
    a new process answers a new query's whole page without torch (6-8 s to import here), its two models loaded
    ahead while the index loads."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["builtin_name"] = "python"
    at.query_params["ce_backend"] = "openvino-bf16"
    at.session_state["results_view"] = "compact"
    at.run()
    at.run()  # this process loads the models once, so the next one finds their loads remembered
    assert not at.exception
    done = subprocess.run(
        [sys.executable, "-c", NEW_QUERY_PAGE, str(ROOT / "app.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_latency_tab_lists_the_caches_and_a_cleared_score_cache_scores_afresh():
    query = "do pythons hunt at night"
    at = search(start(), query)
    open_tab(at, "Latency")
    caches = at.dataframe[-1].value.set_index("cache")
    assert caches.loc["scores", "entries"] > 0 and caches.loc["indexes", "entries"] >= 1
    assert "milvus-lite" not in at.multiselect(key="caches_to_clear").options, "the command line clears it"
    at.multiselect(key="caches_to_clear").set_value(["scores"])
    at.button(key="caches_clear").click().run()
    assert not at.exception
    assert any(s.value.startswith("Cleared: scores (") for s in at.success)
    assert at.dataframe[-1].value.set_index("cache").loc["scores", "entries"] == 0

    again = search(start(), query)  # a new session, the same process: nothing left in memory either
    open_tab(again, "Latency")
    scored = [c.value for c in again.caption if "pairs scored by the cross-encoder" in c.value]
    assert scored and re.search(r"; [1-9]\d* pairs scored by the cross-encoder, 0 from its cache", scored[0]), scored


def test_a_query_whose_scores_are_all_cached_gets_its_finished_page_without_a_rerun(monkeypatch):
    """A reload, a shared link or a relaunch on a query already reranked: no progressive view and no second run of
    the whole page (about half a second here) before the results."""
    reruns = []
    rerun = st.rerun
    monkeypatch.setattr(st, "rerun", lambda *args, **kwargs: (reruns.append(args), rerun(*args, **kwargs)))

    def page() -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.query_params["builtin_name"] = "python"
        at.query_params["query"] = "how often does a python eat"
        return at.run()

    assert not page().exception and len(reruns) == 1, "a new query: the progressive view, then the finished page"
    at = page()
    assert not at.exception and len(reruns) == 1, "every score cached: the finished page in the first run"
    assert any(re.search(r"\(0 pairs scored, \d+ cached\)", c.value) for c in at.caption)


def test_a_damaged_cache_file_is_said_on_the_page_and_clearing_it_ends_that(tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    (tmp_path / "cache").mkdir()
    damaged = tmp_path / "cache" / "ce_scores.sqlite"
    damaged.write_bytes(b"not a database " * 100)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ce_backend"] = "torch"  # chosen: no measurement of the backends in this fresh home
    at.query_params["query"] = "what do pythons eat"
    at.session_state["results_view"] = "compact"
    at.run()
    assert not at.exception
    assert any(c.value.startswith(COMPACT_CAPTION) for c in at.caption), "the search went on without the score cache"
    # the process's other damaged files (other tests') are said too: this one's warning, by its path
    said = [w.value for w in at.warning if literal(str(damaged)) in w.value]
    assert len(said) == 1 and "cannot be used" in said[0] and "Latency tab" in said[0]
    open_tab(at, "Latency")
    at.multiselect(key="caches_to_clear").set_value(["scores"])
    at.button(key="caches_clear").click().run()
    assert not any(literal(str(damaged)) in w.value for w in at.warning), "cleared: said no more"
    assert not damaged.exists(), "the damaged file was removed"
    open_tab(at, "Search")
    search(at, "how long do pythons live")
    assert not at.exception
    assert not any(literal(str(damaged)) in w.value for w in at.warning), "the next search made the file anew"
    with contextlib.closing(sqlite3.connect(damaged)) as db:
        assert db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] > 0, "and kept its scores there"
