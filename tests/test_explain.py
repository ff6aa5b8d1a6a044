"""Explanations are measurements: a word's contribution is what removing it does to the real model's score."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, STAND_IN_CE, dataset, kept_passages
from ranklens.corpus.loading import load_builtin
from ranklens.ranking import explain as explaining
from ranklens.ranking.explain import explain
from ranklens.ranking.fusion import Shift


def test_removing_the_top_word_lowers_the_score_by_its_contribution(reranker, embedder):
    corpus = load_builtin("negation")
    doc = corpus.get("hotel-01")
    query = "hotel without a pool"
    found = explain(reranker, embedder, query, doc.id, doc.full_text, shift=Shift(-7))
    top = found.top(1)[0]
    words = doc.full_text.split(" ")  # built here, not with the engine's own helper
    starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
    place = starts.index(top.start)
    variant = " ".join(words[:place] + words[place + 1 :])
    assert top.text in words and variant.split(" ").count(top.text) == words.count(top.text) - 1, "the word is gone"
    rescored = float(reranker.score([(query, variant)])[0])
    assert found.score == pytest.approx(float(reranker.score([(query, doc.full_text)])[0]), abs=1e-5)
    assert abs(top.contribution) > 0.05, "the top word weighs something"
    assert found.score - rescored == pytest.approx(top.contribution, abs=1e-4), "by its contribution, sign included"
    assert (rescored < found.score) == (top.contribution > 0)
    vectors = embedder.encode([query, variant])
    assert found.bi_score - float(vectors[1] @ vectors[0]) == pytest.approx(top.bi_contribution, abs=1e-5)
    assert {t.text.strip(",.").lower() for t in found.tokens if t.query_term} >= {"hotel", "pool"}
    assert found.summary.startswith("reranked down 7: the cross-encoder's score") and " is pulled down most by “" in (
        found.summary
    )
    lowering = sorted(t.contribution for t in found.tokens if t.contribution is not None)[:2]
    assert [f"({c:+.2f})" in found.summary for c in lowering] == [True, True], "the two words that lower it most"
    again = explain(reranker, embedder, query, doc.id, doc.full_text, shift=Shift(None))
    assert again.tokens == found.tokens and again.summary.startswith("new to the reranked top-k"), "cached"
    raising = sorted((t.contribution for t in found.tokens if t.contribution is not None), reverse=True)[:2]
    assert " is lifted most by “" in again.summary and all(f"({c:+.2f})" in again.summary for c in raising)


def test_an_explanation_is_kept_on_disk_and_read_back_without_calling_either_model(reranker, embedder):
    doc = load_builtin("negation").get("hotel-02")
    query = "a hotel explained twice, in two processes"
    made = explain(reranker, embedder, query, doc.id, doc.full_text, shift=Shift(2))
    explaining._cache.clear()  # what a new process starts without
    calls = (reranker.calls, embedder.calls)
    again = explain(reranker, embedder, query, doc.id, doc.full_text, shift=Shift(2))
    assert (reranker.calls, embedder.calls) == calls, "read from explanations.sqlite"
    assert again == made
    explain(reranker, embedder, query, doc.id, doc.full_text, max_tokens=64)
    assert reranker.calls == calls[0] + 1, "another token budget is another explanation"


def test_an_explanation_keeps_no_token_ids_of_its_variants(reranker, embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))  # an empty cache: what the explanation writes, alone
    doc = load_builtin("negation").get("hotel-03")
    found = explain(reranker, embedder, "a hotel explained word by word", doc.id, doc.full_text)
    assert sum(t.contribution is not None for t in found.tokens) > 10, "each of these words was a variant"
    assert kept_passages(tmp_path) == 0, "the variants' ids were written to the passage token cache"
    assert (tmp_path / "cache" / "explanations.sqlite").exists()


def test_words_past_the_cross_encoders_window_are_marked_unread(reranker, embedder):
    passage = " ".join(f"word{i}" for i in range(400))
    end = reranker.window_end("a query", passage)
    assert 0 < end < len(passage)
    found = explain(reranker, embedder, "a query", "long", passage, words=8)
    assert found.window_end == end
    assert found.tokens[0].read and not found.tokens[-1].read
    assert [t.contribution is not None for t in found.tokens[:9]] == [True] * 8 + [False], "only the first N measured"


def test_the_window_ends_where_scoring_cuts_with_or_without_the_pair_tokenizer(reranker, monkeypatch):
    """The model's own tokenizer (for a tokenizer the pair tokenizer cannot read) cuts as scoring does: both
    sequences, the longer first, so a long query takes its share of the window."""
    passage = " ".join(f"word{i}" for i in range(300))
    queries = ["a query", " ".join(f"term{i}" for i in range(120))]
    expected = [reranker.window_end(query, passage, 64) for query in queries]
    monkeypatch.setattr(reranker, "_pair_tokenizer", lambda: None)
    assert [reranker.window_end(query, passage, 64) for query in queries] == expected
    assert expected[1] > 0 and expected[1] < expected[0] < len(passage), "the long query shares the window"


@pytest.mark.parametrize(
    ("name", "first_stage"), [("adi", "faiss"), ("med", "bm25"), ("cranfield", "bm25"), ("scifact", "bm25")]
)
def test_explain_json_on_every_shared_dataset(name, first_stage):
    corpus = dataset(name)
    with (corpus / "queries.jsonl").open() as handle:
        query = json.loads(handle.readline())["text"]
    with (corpus / "corpus.jsonl").open() as handle:
        doc = json.loads(handle.readline())["_id"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ranklens",
            "explain",
            "--corpus",
            str(corpus),
            "--query",
            query,
            "--doc",
            doc,
            "--first-stage",
            first_stage,
            "--ce-model",
            str(STAND_IN_CE),
            "--words",
            "24",
            "--json",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["doc_id"] == doc and found["model"] == str(STAND_IN_CE) and found["first_stage"] == first_stage
    measured = [t for t in found["tokens"] if t["contribution"] is not None]
    assert len(measured) == min(24, len(found["tokens"])) and isinstance(found["score"], float)
    assert all(
        {"text", "start", "end", "contribution", "bi_contribution", "query_term", "read"} <= set(t)
        for t in found["tokens"]
    )


def test_a_damaged_explanation_file_costs_only_the_explaining(reranker, embedder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    (tmp_path / "cache").mkdir()
    damaged = tmp_path / "cache" / "explanations.sqlite"
    damaged.write_bytes(b"not a database " * 100)
    doc = load_builtin("negation").get("hotel-04")
    found = explain(reranker, embedder, "a hotel explained beside a damaged file", doc.id, doc.full_text, words=8)
    assert found.tokens and found.summary
    assert capsys.readouterr().err.count(f"the cache file {damaged} cannot be used") == 1
    assert damaged.read_bytes() == b"not a database " * 100
