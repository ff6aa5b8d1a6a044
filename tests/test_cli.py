import json
import os
import subprocess
import sys

from conftest import ROOT, STAND_IN_CE, dataset

# `python -m ranklens`, saying on stderr at exit which model libraries the command imported
REPORTING_IMPORTS = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print('model libraries imported:', [m for m in ('torch', 'sentence_transformers') "
    "if m in sys.modules], file=sys.stderr))\n"
    "runpy.run_module('ranklens', run_name='__main__', alter_sys=True)\n"
)


def ranklens(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", REPORTING_IMPORTS, *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_search_prints_both_rankings_with_arrows_and_timings():
    done = ranklens(
        "search",
        "--corpus",
        str(dataset("adi")),
        "--query",
        "computer indexing",
        "--top-n",
        "20",
        "--ce-model",
        str(STAND_IN_CE),
    )
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.lstrip().startswith("#"))
    assert "bi-encoder" in header and "reranked" in header and "hybrid" in header
    rows = [line for line in done.stdout.splitlines() if line[:3].strip().isdigit()]
    assert len(rows) == 10
    assert any(mark in done.stdout for mark in ("▲", "▼", "new"))
    assert "timings: query embed" in done.stdout and "cross-encoder" in done.stdout
    assert f"cross-encoder: {STAND_IN_CE}" in done.stdout and "fallback" not in done.stdout


def test_search_says_which_cross_encoder_stands_in_for_one_that_cannot_load():
    done = ranklens("search", "--corpus", "seed", "--query", "neural ranking", "--ce-model", "/no/such/cross-encoder")
    assert done.returncode == 0, done.stderr
    assert f"cross-encoder: {STAND_IN_CE}" in done.stdout
    assert "note: /no/such/cross-encoder could not be loaded" in done.stdout and "using the fallback" in done.stdout


def test_eval_prints_the_metrics_table():
    done = ranklens("eval", "--dataset", str(dataset("adi")), "--no-rerank")
    assert done.returncode == 0, done.stderr
    assert "ndcg@10" in done.stdout and "mrr@10" in done.stdout and "recall@100" in done.stdout
    assert "linear gain" in done.stdout
    line = next(line for line in done.stdout.splitlines() if line.startswith("bi-encoder "))
    assert float(line.split()[1]) == __import__("pytest").approx(0.4975, abs=0.002)


def test_eval_finds_a_dataset_by_name_under_ranklens_datasets(monkeypatch):
    monkeypatch.setenv("RANKLENS_DATASETS", str(dataset("adi").parent))
    done = ranklens("eval", "--dataset", "adi", "--first-stage", "bm25", "--no-rerank", "--max-queries", "5")
    assert done.returncode == 0, done.stderr
    assert f"from {dataset('adi')}/qrels/test.tsv" in done.stdout
    assert next(line for line in done.stdout.splitlines() if line.startswith("BM25 "))


def test_bad_input_exits_with_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"_id": "1", "text": "fine"}\n{broken\n')
    done = ranklens("search", "--corpus", str(bad), "--query", "x")
    assert done.returncode == 2
    assert "error: " in done.stderr and "bad.jsonl, line 2: not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr
    empty = ranklens("search", "--corpus", str(dataset("adi")), "--query", "  ")
    assert empty.returncode == 2 and "the query is empty" in empty.stderr


def test_search_with_bm25_as_the_first_stage_and_a_run_file(tmp_path):
    done = ranklens(
        "search",
        "--corpus",
        str(dataset("adi")),
        "--query",
        "computer indexing",
        "--top-n",
        "20",
        "--first-stage",
        "bm25",
        "--ce-model",
        str(STAND_IN_CE),
    )
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.lstrip().startswith("#"))
    assert "BM25 (BM25)" in header and "reranked" in header
    assert "first stage: bm25" in done.stdout and "BM25" in done.stdout.split("timings:")[1]
    run = tmp_path / "other-engine.csv"
    run.write_text("query,doc_id,score\n1,3,9.5\n1,7,8.0\n1,12,1.5\n")
    ranked = ranklens(
        "search",
        "--corpus",
        str(dataset("adi")),
        "--query",
        "1",
        "--first-stage",
        "run",
        "--run",
        str(run),
        "--ce-model",
        str(STAND_IN_CE),
    )
    assert ranked.returncode == 0, ranked.stderr
    rows = [line for line in ranked.stdout.splitlines() if line[:3].strip().isdigit()]
    assert [row.split()[2] for row in rows] == ["3", "7", "12"], "the run's documents, in its order"


# assertions in a loop: over two literal commands, each checked the same way
def test_a_repeated_query_and_a_repeated_eval_make_no_cross_encoder_call_in_a_new_process():
    """The score cache and the query embeddings live on disk under RANKLENS_HOME: a second process finds every
    pair scored and every query embedded by the first, so it loads no model at all (torch is never imported).
    A token budget no other test uses keeps the first process's pairs fresh."""
    fresh = ("--backend", "torch", "--top-n", "30", "--ce-max-tokens", "128")
    search = ("search", "--corpus", "negation", "--query", "hotels with a repeated query", *fresh)
    evaluate = ("eval", "--dataset", str(dataset("adi")), "--max-queries", "4", *fresh)
    for command, (scored, again) in (
        (search, ("(30 pairs scored, 0 cached)", "(0 pairs scored, 30 cached)")),
        (evaluate, ("120 pairs scored, 0 from", "0 pairs scored, 120 from")),
    ):
        first, second = ranklens(*command), ranklens(*command)
        assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
        assert scored in first.stdout, first.stdout
        assert again in second.stdout, second.stdout
        assert "model libraries imported: ['torch', 'sentence_transformers']" in first.stderr, first.stderr
        assert "model libraries imported: []" in second.stderr, second.stderr


def test_index_caches_the_cross_encoders_token_ids_of_its_passages(tmp_path):
    """The passages a reranking reads are tokenized for the cross-encoder when the index is built, once."""
    lines = (dataset("adi") / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:25]
    docs = [json.loads(line) for line in lines]
    corpus = tmp_path / "indexed-once.jsonl"  # texts of its own: no other test has indexed this corpus
    corpus.write_text("".join(json.dumps({**doc, "text": f"{doc['text']} (indexed once)"}) + "\n" for doc in docs))
    first, second = ranklens("index", "--corpus", str(corpus)), ranklens("index", "--corpus", str(corpus))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "cross-encoder token ids of 25 passages cached with the index" in first.stderr, first.stderr
    assert "token ids" not in second.stderr, "recorded with the index: nothing tokenized again"
    assert "model libraries imported: []" in second.stderr, second.stderr


def test_a_new_query_in_a_new_process_runs_the_exports_without_importing_torch():
    """With an export backend, a later process embeds a new query with the bi-encoder's fp32 export and reranks
    with the cross-encoder's, tokenized by `tokenizers`: neither torch nor sentence-transformers is imported. (The
    first process makes the exports, or finds them made by earlier tests of the session.)"""
    fresh = ("--corpus", "negation", "--backend", "onnx", "--top-n", "30", "--ce-max-tokens", "96")
    first = ranklens("search", *fresh, "--query", "hotels that load their models")
    second = ranklens("search", *fresh, "--query", "a query no process has embedded")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "(30 pairs scored, 0 cached)" in second.stdout and "loading models" in second.stdout, second.stdout
    assert "model libraries imported: []" in second.stderr, second.stderr
