"""The first stages on the shared datasets: BM25 against plain bm25s, Milvus Lite against FAISS, approximate
indexes' recall, a run from another engine reranked, resumable ingestion (Milvus and streaming)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import dataset
from ranklens.corpus.beir import load_beir
from ranklens.evaluation.evaluate import collect_first_stage_runs, judged, score_runs, strictly_decreasing, trec_run
from ranklens.index.base import FirstStage, Hit, RetrievalError, Retrieved
from ranklens.index.dense import AnnSettings, DenseRetriever, ann_recall, recall_queries
from ranklens.index.embeddings import corpus_passages, embed_corpus
from ranklens.index.fused import FusedRetriever
from ranklens.index.lexical import BM25Retriever, BM25Settings
from ranklens.index.milvus import MilvusCollection, MilvusRetriever, MilvusSettings, close_clients
from ranklens.index.query_vectors import query_vector
from ranklens.index.runfile import RunRetriever
from ranklens.ranking.score_cache import ScoreCache
from ranklens.ranking.search import Searcher, side_ranking


def ndcg(stage, corpus, top_n: int = 100) -> float:
    run = collect_first_stage_runs(Searcher(stage), corpus.queries, corpus.qrels, top_n)
    return float(score_runs(corpus.qrels, {"bi": run}, ("ndcg@10",)).iloc[0, 0])


@pytest.fixture(scope="module")
def med():
    return load_beir(dataset("med"))


@pytest.fixture(scope="module")
def med_embeddings(med, embedder):
    return embed_corpus(med, embedder)


@pytest.fixture
def milvus_file(tmp_path):
    yield str(tmp_path / "milvus.db")
    close_clients()


def test_bm25_equals_a_plain_bm25s_run_on_med(med, embedder):
    import bm25s
    import Stemmer

    stage = BM25Retriever(med, corpus_passages(med, embedder))
    ours = ndcg(stage, med)

    def plain_terms(texts: list[str]) -> list[list[str]]:  # bm25s's own tokenizer and PyStemmer, not ours
        stemmer = Stemmer.Stemmer("english")
        return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)

    plain = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    plain.index(plain_terms([d.full_text for d in med.documents]), show_progress=False)
    ids = med.documents.ids()
    run = {}
    for qid in judged(med.qrels):
        scores = plain.get_scores([t for t in plain_terms([med.queries[qid]])[0] if t in plain.vocab_dict])
        top = np.argsort(-scores, kind="stable")[:100]
        run[qid] = strictly_decreasing((ids[i], float(scores[i])) for i in top if scores[i] > 0)
    assert ours == pytest.approx(float(score_runs(med.qrels, {"bi": run}, ("ndcg@10",)).iloc[0, 0]), abs=1e-9)
    assert 0.66 < ours < 0.73, "BM25 on med: about 0.70, below the bi-encoder's 0.78"
    again = BM25Retriever(med, stage.passages)  # from the disk cache
    assert (again.folder / "params.index.json").is_file()
    assert again.retrieve("cancer in children", 5).hits == stage.retrieve("cancer in children", 5).hits


def test_bm25_with_no_known_term_returns_nothing(adi, embedder):
    stage = BM25Retriever(adi, corpus_passages(adi, embedder))
    assert stage.retrieve("the and of", 10).hits == [], "only stopwords"
    assert stage.retrieve("zzzqqq", 10).hits == []


def test_milvus_lite_answers_as_faiss_and_bm25_do(adi, adi_embeddings, adi_dense, embedder, milvus_file):
    settings = MilvusSettings(uri=milvus_file)
    dense = MilvusRetriever(adi_embeddings, embedder, "milvus", settings)
    assert dense.collection.rows() == adi_embeddings.passage_count
    assert ndcg(dense, adi) == pytest.approx(ndcg(adi_dense, adi), abs=0.005)
    lexical = MilvusRetriever(adi_embeddings, embedder, "milvus-bm25", settings)
    bm25 = BM25Retriever(adi, adi_embeddings.passages, BM25Settings(level="passage"))
    assert ndcg(lexical, adi) == pytest.approx(ndcg(bm25, adi), abs=0.02)
    hybrid = MilvusRetriever(adi_embeddings, embedder, "milvus-hybrid", settings)
    hits = hybrid.retrieve("computer indexing", 10).hits
    assert len(hits) == 10 and len({h.doc_id for h in hits}) == 10
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits)), "RRF scores, best first"


def test_milvus_ingestion_resumes_where_it_was_stopped(adi_embeddings, embedder, tmp_path):
    stopped = MilvusSettings(uri=str(tmp_path / "stopped.db"), batch=16)
    collection = MilvusCollection(adi_embeddings, stopped)
    assert collection.ingest(stop_after=2) == 32 and collection.rows() == 32
    close_clients()  # as a killed process would
    resumed = MilvusRetriever(adi_embeddings, embedder, "milvus", stopped)
    assert resumed.collection.rows() == adi_embeddings.passage_count, "no passage twice, none missing"
    straight = MilvusRetriever(adi_embeddings, embedder, "milvus", MilvusSettings(uri=str(tmp_path / "whole.db")))
    for query in ["computer indexing", "information retrieval evaluation", "automatic abstracting"]:
        assert resumed.retrieve(query, 20).hits == straight.retrieve(query, 20).hits
    close_clients()


def test_an_ingestion_stopped_in_one_milvus_resumes_after_the_same_corpus_went_whole_into_another(
    adi_embeddings, embedder, tmp_path
):
    stopped = MilvusSettings(uri=str(tmp_path / "stopped.db"), batch=16)
    assert MilvusCollection(adi_embeddings, stopped).ingest(stop_after=2) == 32
    close_clients()
    whole = MilvusCollection(adi_embeddings, MilvusSettings(uri=str(tmp_path / "whole.db")))
    assert whole.ingest() == adi_embeddings.passage_count, "one collection name in both: its own checkpoint"
    close_clients()
    resumed = MilvusCollection(adi_embeddings, stopped)
    assert resumed.ingest() == adi_embeddings.passage_count
    assert resumed.rows() == adi_embeddings.passage_count, "resumed at 32, not taken as done by the other's checkpoint"
    close_clients()


def test_approximate_indexes_say_how_much_they_miss(med_embeddings, embedder):
    flat = DenseRetriever(med_embeddings, embedder, "faiss")
    queries = recall_queries(med_embeddings)
    assert len(queries) == 30
    hnsw = DenseRetriever(med_embeddings, embedder, "faiss-hnsw", AnnSettings(ef_search=128))
    assert 0.9 <= ann_recall(hnsw, flat, queries) <= 1.0
    cells = AnnSettings().cells(med_embeddings.passage_count)
    narrow = DenseRetriever(med_embeddings, embedder, "faiss-ivf", AnnSettings(nprobe=1))
    every_cell = DenseRetriever(med_embeddings, embedder, "faiss-ivf", AnnSettings(nprobe=cells))
    assert ann_recall(every_cell, flat, queries) == 1.0, "probing every cell is exact"
    assert ann_recall(narrow, flat, queries) < 1.0, "probing one cell of many misses documents"


def test_a_run_from_another_engine_is_reranked_and_evaluated(adi, embedder, reranker, adi_embeddings, tmp_path):
    bm25 = BM25Retriever(adi, adi_embeddings.passages)
    run = collect_first_stage_runs(Searcher(bm25), adi.queries, adi.qrels, 50)
    text = trec_run(run, "elasticsearch") + "1 Q0 not-in-the-corpus 51 0.1 elasticsearch\n"
    (tmp_path / "es.trec").write_text(text)
    stage = RunRetriever(adi, adi_embeddings.passages, tmp_path / "es.trec")
    assert stage.unknown == ["not-in-the-corpus"]
    assert ndcg(stage, adi, 50) == pytest.approx(float(score_runs(adi.qrels, {"bi": run}, ("ndcg@10",)).iloc[0, 0]))
    query = adi.queries["1"]
    result = Searcher(stage, reranker, score_cache=ScoreCache()).search(query, top_n=20)
    assert [c.doc_id for c in result.ranking("bi")] == list(run["1"])[:20], "the run's own order"
    assert result.reranked and len({c.ce_rank for c in result.candidates}) == 20
    with pytest.raises(RetrievalError, match="has no ranking for this query"):
        stage.retrieve("a query the run never saw", 10)
    (tmp_path / "bad.trec").write_text("1 Q0 d1 1 high tag\n")
    with pytest.raises(RetrievalError, match="bad.trec, line 1: score 'high' is not a number"):
        RunRetriever(adi, adi_embeddings.passages, tmp_path / "bad.trec")


class Ranked(FirstStage):
    """A first stage that answers every query with the same ranking: RRF's arithmetic, worked by hand below."""

    name = label = score_name = "fixed"
    embedder = corpus = passages = None

    def __init__(self, key: str, doc_ids: list[str]) -> None:
        self.key, self.doc_ids = key, doc_ids

    def retrieve(self, query: str, top_n: int) -> Retrieved:
        return Retrieved([Hit(d, 1.0 / rank) for rank, d in enumerate(self.doc_ids[:top_n], start=1)], 0.0, 0.0)

    def describe(self) -> dict:
        return {"first_stage": self.key}


def test_rrf_fuses_the_two_rankings_by_their_ranks(adi, adi_dense, adi_embeddings):
    # dense: a, b, c; lexical: c, a, d. With k = 60: a 1/61 + 1/62, c 1/63 + 1/61, b 1/62, d 1/63.
    fused = FusedRetriever(Ranked("dense", ["a", "b", "c"]), Ranked("lexical", ["c", "a", "d"]))
    hits = fused.retrieve("any query", 3).hits
    assert [h.doc_id for h in hits] == ["a", "c", "b"], "d, found by one engine only and last, is cut at top-3"
    assert [h.score for h in hits] == pytest.approx([1 / 61 + 1 / 62, 1 / 63 + 1 / 61, 1 / 62], abs=1e-12)

    bm25 = BM25Retriever(adi, adi_embeddings.passages)
    real = FusedRetriever(adi_dense, bm25).retrieve("computer indexing of documents", 10).hits
    dense_rank = {h.doc_id: r for r, h in enumerate(adi_dense.retrieve("computer indexing of documents", 20).hits, 1)}
    bm25_rank = {h.doc_id: r for r, h in enumerate(bm25.retrieve("computer indexing of documents", 20).hits, 1)}
    expected = {
        d: sum(1 / (60 + ranks[d]) for ranks in (dense_rank, bm25_rank) if d in ranks)
        for d in {*dense_rank, *bm25_rank}
    }
    assert len(real) == 10
    assert {h.doc_id: h.score for h in real} == pytest.approx({d: expected[d] for d in (h.doc_id for h in real)})
    scores = [h.score for h in real]
    assert scores == sorted(scores, reverse=True)
    assert {d for d, score in expected.items() if score > scores[-1] + 1e-12} <= {h.doc_id for h in real}


def test_an_unbounded_first_stage_is_scaled_in_the_hybrid_and_compared_side_by_side(
    adi, adi_embeddings, adi_dense, reranker
):
    bm25 = BM25Retriever(adi, adi_embeddings.passages)
    result = Searcher(bm25, reranker, score_cache=ScoreCache()).search("automatic abstracting", top_n=20)
    assert result.first_label == "BM25" and not result.first_bounded
    assert [c.doc_id for c in result.with_fusion(1.0).ranking("hybrid")] == [c.doc_id for c in result.ranking("bi")]
    assert [c.doc_id for c in result.with_fusion(0.0).ranking("hybrid")] == [c.doc_id for c in result.ranking("ce")]
    side = side_ranking(result, adi_dense, 10)
    bm25_rank = {c.doc_id: c.bi_rank for c in result.candidates}
    assert [e.rank for e in side.entries] == list(range(1, 11))
    for entry in side.entries:
        before = bm25_rank.get(entry.doc_id, 11)
        assert entry.shift.change == (None if before > 10 else before - entry.rank)


def test_a_query_embedded_once_is_read_back_not_embedded_again(adi_dense, embedder):
    query = "a query no other test asks, embedded once"
    before = embedder.calls
    first = adi_dense.retrieve(query, 10)
    assert embedder.calls == before + 1
    again = adi_dense.retrieve(query, 10)
    assert embedder.calls == before + 1, "the second retrieval read the vector from query_vectors.sqlite"
    assert [h.doc_id for h in again.hits] == [h.doc_id for h in first.hits]
    assert query_vector(embedder, query) == pytest.approx(embedder.encode([query]), abs=1e-6)
