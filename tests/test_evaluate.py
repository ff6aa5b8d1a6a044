import faiss
import numpy as np
import pytest
import pytrec_eval
from ranx import Qrels, Run, evaluate

from ranklens.evaluate import collect_runs, score_runs

# all-MiniLM-L6-v2 on adi, title + text, exact inner product, trec_eval's linear-gain nDCG@10
ADI_BI_NDCG10 = 0.4975


@pytest.fixture(scope="module")
def adi_bi_runs(adi, adi_searcher):
    return collect_runs(adi_searcher, adi.judged_queries(), top_n=100, rerank=False)


def independent_bi_run(corpus, embedder, k=100):
    """Plain FAISS over whole documents, without RankLens' index, chunking or search code."""
    docs = corpus.documents
    index = faiss.IndexFlatIP(384)
    index.add(embedder.encode([f"{d.title} {d.text}".strip() for d in docs]))
    qids = list(corpus.judged_queries())
    scores, positions = index.search(embedder.encode([corpus.queries[q] for q in qids]), k)
    return {q: {docs[p].id: float(s) for s, p in zip(scores[i], positions[i])} for i, q in enumerate(qids)}


def test_bi_encoder_ndcg_agrees_with_an_independent_computation(adi, embedder, adi_bi_runs):
    table = score_runs(adi.qrels, adi_bi_runs)
    independent = evaluate(Qrels(adi.qrels), Run(independent_bi_run(adi, embedder)), "ndcg@10")
    assert table.loc["bi-encoder", "ndcg@10"] == pytest.approx(independent, abs=0.01)
    assert table.loc["bi-encoder", "ndcg@10"] == pytest.approx(ADI_BI_NDCG10, abs=0.002)


def test_ranx_ndcg_is_trec_eval_linear_gain(adi, adi_bi_runs):
    graded = {q: {d: (g + 1 if i % 2 else g) for i, (d, g) in enumerate(docs.items())} for q, docs in adi.qrels.items()}
    ours = score_runs(graded, adi_bi_runs, metrics=("ndcg@10",)).loc["bi-encoder", "ndcg@10"]
    per_query = pytrec_eval.RelevanceEvaluator(graded, {"ndcg_cut.10"}).evaluate(adi_bi_runs["bi"])
    assert ours == pytest.approx(np.mean([m["ndcg_cut_10"] for m in per_query.values()]), abs=1e-6)


def test_reranked_and_hybrid_runs(adi, adi_searcher):
    queries = dict(list(adi.judged_queries().items())[:6])
    runs = collect_runs(adi_searcher, queries, top_n=10, alpha=1.0)
    assert set(runs) == {"bi", "ce", "hybrid"} and all(len(run) == 6 for run in runs.values())
    table = score_runs({q: adi.qrels[q] for q in queries}, runs)
    assert list(table.index) == ["bi-encoder", "reranked", "hybrid"]
    assert list(table.columns) == ["ndcg@10", "mrr@10", "recall@100"]
    # alpha = 1 is the bi-encoder's ranking, so its figures are the bi-encoder's
    assert table.loc["hybrid"].tolist() == pytest.approx(table.loc["bi-encoder"].tolist())
    assert ((table >= 0) & (table <= 1)).all().all()
