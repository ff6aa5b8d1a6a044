import itertools

import numpy as np
import pytest

from ranklens.corpus.corpus import Corpus, Document
from ranklens.index.dense import DenseRetriever
from ranklens.index.embeddings import embed_corpus
from ranklens.ranking import fusion
from ranklens.ranking.results import Candidate, SearchResult, Timings
from ranklens.ranking.score_cache import ScoreCache
from ranklens.ranking.search import Searcher, SearchError

QUERY = "automatic indexing of documents by computer"


def test_result_holds_both_rankings_scores_and_timings(adi_searcher):
    result = adi_searcher.search(QUERY, top_n=20, alpha=0.5)
    assert len(result.candidates) == 20
    bi = result.ranking("bi")
    assert [c.bi_rank for c in bi] == list(range(1, 21))
    assert all(a.bi_score >= b.bi_score for a, b in itertools.pairwise(bi))
    ce = result.ranking("ce")
    assert all(a.ce_score >= b.ce_score for a, b in itertools.pairwise(ce))
    hybrid = result.ranking("hybrid")
    assert all(a.hybrid_score >= b.hybrid_score for a, b in itertools.pairwise(hybrid))
    top = ce[0]
    assert top.hybrid_score == pytest.approx(0.5 * top.bi_score + 0.5 / (1 + np.exp(-top.ce_score)))
    assert top.text == adi_searcher.corpus.get(top.doc_id).text
    t = result.timings
    assert t.total_ms >= t.embed_ms + t.search_ms + t.rerank_ms > 0
    assert result.ce_model == adi_searcher.reranker.name


def test_bi_ranking_matches_exact_faiss_search(adi_searcher, embedder):
    result = adi_searcher.search(QUERY, top_n=10)
    doc_vectors = embedder.encode([d.full_text for d in adi_searcher.corpus.documents])
    scores = doc_vectors @ embedder.encode([QUERY])[0]
    expected = [adi_searcher.corpus.documents[i].id for i in np.argsort(-scores)[:10]]
    assert [c.doc_id for c in result.ranking("bi")] == expected


def test_same_query_again_reuses_cross_encoder_scores(adi_searcher):
    first = adi_searcher.search("information retrieval evaluation", top_n=15)
    calls = adi_searcher.reranker.calls
    second = adi_searcher.search("information retrieval evaluation", top_n=15)
    assert adi_searcher.reranker.calls == calls
    assert second.timings.pairs_scored == 0 and second.timings.pairs_cached == 15
    assert [c.ce_score for c in second.ranking("ce")] == [c.ce_score for c in first.ranking("ce")]
    assert first.timings.pairs_scored == 15


def test_moving_alpha_is_arithmetic_only(adi_searcher):
    result = adi_searcher.search(QUERY, top_n=20)
    calls = (adi_searcher.reranker.calls, adi_searcher.first.embedder.calls)
    bi_only = result.with_fusion(1.0)
    ce_only = result.with_fusion(0.0)
    assert (adi_searcher.reranker.calls, adi_searcher.first.embedder.calls) == calls
    assert [c.doc_id for c in bi_only.ranking("hybrid")] == [c.doc_id for c in result.ranking("bi")]
    assert [c.doc_id for c in ce_only.ranking("hybrid")] == [c.doc_id for c in result.ranking("ce")]
    assert result.with_fusion(0.5, "rrf").fusion_method == "rrf"


def moved(label: str) -> int | None:
    """The places an arrow says a document moved up (negative: down); None for "new"."""
    if label == "new":
        return None
    return {"▲": 1, "▼": -1}[label[0]] * int(label[1:]) if label != "=" else 0


def shifts_hold(result: SearchResult, top_k: int) -> tuple[list[str], int, int]:
    """What breaks the arrows' rules over every row of every ranker, and how many rows said "new" and how many
    said a number of places."""
    broken, new, numbered = [], 0, 0
    for ranker in ("ce", "hybrid"):
        for candidate in result.ranking(ranker):
            before, now = candidate.bi_rank, candidate.rank(ranker)
            label = result.shift(candidate, ranker, top_k).label
            if moved(label) is None:
                new += 1
                if not (before > top_k and now <= top_k):
                    broken.append(f"{ranker} {candidate.doc_id}: {before} -> {now} said new")
            else:
                numbered += 1
                if moved(label) != before - now:
                    broken.append(f"{ranker} {candidate.doc_id}: {before} -> {now} said {label}")
    return broken, new, numbered


def random_result(rng: np.random.Generator, size: int, alpha: float, method: str) -> SearchResult:
    bi, ce = rng.uniform(-1, 1, size), rng.normal(0, 3, size)
    bi_ranks, ce_ranks = fusion.ranks(bi), fusion.ranks(ce)
    candidates = tuple(
        Candidate(f"d{i}", "", "", "", 1, False, float(bi[i]), int(bi_ranks[i]), float(ce[i]), int(ce_ranks[i]), 0, 0)
        for i in range(size)
    )
    timings = Timings(0, 0, 0, 0, 0, 0)
    return SearchResult("q", candidates, timings, "bi", "ce", None, 0.5, "hybrid", "best", size).with_fusion(
        alpha, method
    )


def test_the_arrows_hold_on_random_rankings_and_alpha_ends_where_it_should():
    rng = np.random.default_rng(46)
    broken, new, numbered = [], 0, 0
    for trial in range(300):
        size = int(rng.integers(2, 60))
        top_k = int(rng.integers(1, size + 1))
        alpha = float(rng.choice([0.0, 1.0, rng.uniform()]))
        method = str(rng.choice(["hybrid", "minmax", "rrf"]))
        result = random_result(rng, size, alpha, method)
        found = shifts_hold(result, top_k)
        broken += [f"trial {trial}: {b}" for b in found[0]]
        new, numbered = new + found[1], numbered + found[2]
        hybrid = [result.shift(c, "hybrid", top_k).label for c in result.candidates]
        if alpha == 1.0 and method == "hybrid":
            broken += [f"trial {trial}: alpha 1 moved {label}" for label in hybrid if label != "="]
        reranked = [result.shift(c, "ce", top_k).label for c in result.candidates]
        if alpha == 0.0 and method == "hybrid" and hybrid != reranked:
            broken.append(f"trial {trial}: alpha 0 moved otherwise than the reranking")
    assert broken == []
    assert new > 100 and numbered > 1000, "both kinds of arrow were drawn"


def test_the_arrows_hold_on_every_row_of_a_real_search(adi_searcher):
    result = adi_searcher.search(QUERY, top_n=30)
    broken, new, numbered = shifts_hold(result, top_k=10)
    assert broken == []
    assert new > 0 and numbered > 20, "documents entered the top-10, and the rest moved or stayed"
    at_one = result.with_fusion(1.0)
    assert {at_one.shift(c, "hybrid", 10).label for c in at_one.candidates} == {"="}, "alpha 1 is the first stage"


def test_empty_query_and_bad_knobs(adi_searcher):
    with pytest.raises(SearchError, match="the query is empty"):
        adi_searcher.search("   ")
    with pytest.raises(SearchError, match="top-N must be at least 1"):
        adi_searcher.search("x", top_n=0)


def test_top_n_larger_than_the_corpus_returns_every_document(adi_searcher):
    assert len(adi_searcher.search("retrieval", top_n=500).candidates) == 82


def test_long_documents_are_chunked_and_truncation_is_reported(embedder, reranker, tmp_path):
    filler = " ".join(f"The committee met on day {i} to discuss the budget." for i in range(60))
    corpus = Corpus(
        "long",
        [
            Document(id="long", text=filler + " Pythons are large constricting snakes found in Africa and Asia."),
            Document(id="short", text="Python is a programming language."),
            Document(id="other", text="Rainfall in the desert is rare."),
        ],
    )
    searcher = Searcher(
        DenseRetriever(embed_corpus(corpus, embedder, cache_dir=tmp_path), embedder), reranker, score_cache=ScoreCache()
    )
    result = searcher.search("constricting snakes of Africa", top_n=3)
    long_doc = next(c for c in result.candidates if c.doc_id == "long")
    assert long_doc.passage_count > 1 and "best of" in long_doc.coverage
    assert "constricting snakes" in long_doc.passage, "the bi-encoder's best passage is the one about snakes"
    assert result.ranking("bi")[0].doc_id == "long"
    by_max = searcher.search("constricting snakes of Africa", top_n=3, ce_passages="max")
    assert next(c for c in by_max.candidates if c.doc_id == "long").ce_score >= long_doc.ce_score
    short = next(c for c in result.candidates if c.doc_id == "short")
    assert short.passage_count == 1 and not short.ce_truncated and short.coverage == "whole text"
    # a passage of the bi-encoder's 256-token window is longer than the cross-encoder's 192
    first_passage = searcher.search("committee budget day 3", top_n=1, ce_passages="max")
    assert first_passage.candidates[0].doc_id == "long" and first_passage.candidates[0].ce_truncated


def test_first_stage_then_rerank_is_the_search_and_reports_each_batch(adi_dense, reranker):
    searcher = Searcher(adi_dense, reranker, ce_batch_size=8, score_cache=ScoreCache())
    first = searcher.first_stage("  computer indexing of text  ", top_n=20)
    assert not first.reranked and first.query == "computer indexing of text"
    assert [c.bi_rank for c in first.ranking("bi")] == list(range(1, 21)) and first.timings.rerank_ms == 0
    heard = []
    result = searcher.rerank(first, alpha=0.4, progress=lambda done, total: heard.append((done, total)))
    assert result.reranked and heard == [(8, 20), (16, 20), (20, 20)]
    again = Searcher(adi_dense, reranker, score_cache=ScoreCache()).search(
        "computer indexing of text", top_n=20, alpha=0.4
    )
    assert [c.doc_id for c in result.ranking("ce")] == [c.doc_id for c in again.ranking("ce")]
    assert [c.ce_score for c in result.candidates] == pytest.approx([c.ce_score for c in again.candidates], abs=1e-4)


def test_an_exception_from_progress_stops_the_rest_and_caches_nothing(adi_dense, reranker):
    """How the app cancels a query that a newer one replaced: its progress callback raises."""
    searcher = Searcher(adi_dense, reranker, ce_batch_size=4, score_cache=ScoreCache())
    calls = []

    def stop_after_two(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        searcher.search(QUERY, top_n=20, progress=stop_after_two)
    assert calls == [4, 8], "the remaining three batches never ran"
    result = searcher.search(QUERY, top_n=20)
    assert result.timings.pairs_scored == 20, "a stopped query leaves no half-filled cache behind"


def test_all_scores_cached_only_once_every_pair_of_these_candidates_is_scored(adi_dense, reranker):
    searcher = Searcher(adi_dense, reranker, ce_batch_size=8, score_cache=ScoreCache())
    first = searcher.first_stage("indexing by computer", top_n=12)
    assert not searcher.all_scores_cached(first)
    searcher.rerank(Searcher(adi_dense).first_stage("indexing by computer", top_n=6))
    assert not searcher.all_scores_cached(first), "half of the twelve pairs are scored"
    calls = reranker.calls
    assert searcher.all_scores_cached(searcher.first_stage("indexing by computer", top_n=6))
    searcher.rerank(first)
    assert searcher.all_scores_cached(first) and reranker.calls == calls + 1, "only the missing six were scored"
    budget = Searcher(adi_dense, reranker, score_cache=searcher.score_cache, ce_max_tokens=64)
    assert not budget.all_scores_cached(first), "another token budget is another score"
    assert not Searcher(adi_dense, score_cache=searcher.score_cache).all_scores_cached(first), "no cross-encoder"
