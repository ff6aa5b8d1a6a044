import json
import math
import os
import subprocess
import sys

import faiss
import numpy as np
import pytest
import pytrec_eval
from ranx import Qrels, Run, evaluate

from conftest import ROOT, dataset
from ranklens.corpus.beir import load_beir
from ranklens.evaluation.alpha import cross_validated_alpha
from ranklens.evaluation.evaluate import (
    METRICS,
    SWEEP_ALPHAS,
    collect,
    collect_first_stage_runs,
    judged,
    paired_t_p_value,
    per_query_scores,
    score_runs,
    significance,
    strictly_decreasing,
    trec_run,
)
from ranklens.evaluation.runs import RunStore

# ranx, the independent figures here, warns from inside its own numba kernels; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:unsafe cast from uint64 to int64")

# all-MiniLM-L6-v2 on adi, title + text, exact inner product, trec_eval's linear-gain nDCG@10
ADI_BI_NDCG10 = 0.4975
TREC_MEASURES = {"ndcg@10": "ndcg_cut_10", "recall@10": "recall_10", "recall@100": "recall_100", "map": "map"}


@pytest.fixture(scope="module")
def adi_bi_run(adi, adi_searcher):
    return collect_first_stage_runs(adi_searcher, adi.queries, adi.qrels, top_n=100)


@pytest.fixture(scope="module")
def adi_evaluation(adi, adi_searcher):
    first = dict(list(judged(adi.qrels).items())[:8])
    return collect(adi_searcher, adi.queries, first, top_n=20, alpha=0.5)


def independent_bi_run(corpus, embedder, k=100):
    """Plain FAISS over whole documents, without RankLens' index, chunking or search code."""
    docs = corpus.documents
    index = faiss.IndexFlatIP(384)
    index.add(embedder.encode([f"{d.title} {d.text}".strip() for d in docs]))
    qids = list(corpus.judged_queries())
    scores, positions = index.search(embedder.encode([corpus.queries[q] for q in qids]), k)
    return {q: {docs[p].id: float(s) for s, p in zip(scores[i], positions[i])} for i, q in enumerate(qids)}


def trec_eval_figures(qrels, run_file) -> dict[str, float]:
    """trec_eval's measures through pytrec_eval, on a TREC run file as RankLens wrote it."""
    with open(run_file) as handle:
        run = pytrec_eval.parse_run(handle)
    top10 = {q: dict(sorted(d.items(), key=lambda item: -item[1])[:10]) for q, d in run.items()}
    full = pytrec_eval.RelevanceEvaluator(qrels, set(TREC_MEASURES.values())).evaluate(run)
    mrr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
    figures = {ours: float(np.mean([m[theirs] for m in full.values()])) for ours, theirs in TREC_MEASURES.items()}
    figures["mrr@10"] = float(np.mean([m["recip_rank"] for m in mrr.values()]))
    return figures


def test_bi_encoder_ndcg_agrees_with_an_independent_computation(adi, embedder, adi_bi_run):
    table = score_runs(adi.qrels, {"bi": adi_bi_run})
    independent = evaluate(Qrels(adi.qrels), Run(independent_bi_run(adi, embedder)), "ndcg@10")
    assert table.loc["bi-encoder", "ndcg@10"] == pytest.approx(independent, abs=0.01)
    assert table.loc["bi-encoder", "ndcg@10"] == pytest.approx(ADI_BI_NDCG10, abs=0.002)


def test_every_metric_of_every_query_is_ranx_s_too(adi, adi_bi_run):
    """RankLens computes metrics with trec_eval's code (pytrec_eval); ranx is an implementation of its own."""
    metrics = [*METRICS, "precision@5", "map@10", "mrr"]
    relevant = judged(adi.qrels)
    run = {q: docs for q, docs in adi_bi_run.items() if q != next(iter(relevant))}  # a query with no result: 0
    table = score_runs(adi.qrels, {"bi": run}, metrics=metrics)
    ranx_run = Run({q: run[q] for q in relevant if q in run})
    means = evaluate(Qrels(relevant), ranx_run, metrics, make_comparable=True)
    for metric in metrics:
        assert table.loc["bi-encoder", metric] == pytest.approx(float(means[metric]), abs=1e-9), metric
        ours = per_query_scores(adi.qrels, run, metric)
        assert ours.to_dict() == pytest.approx({q: ranx_run.scores[metric].get(q, 0.0) for q in relevant}, abs=1e-9)
    assert table.loc["bi-encoder", "ndcg@10"] > 0.3, "a real ranking, not one that scores zero everywhere"


def test_unknown_metrics_are_refused_by_name(adi, adi_bi_run):
    with pytest.raises(ValueError, match="unknown metric 'ndcg'"):
        score_runs(adi.qrels, {"bi": adi_bi_run}, metrics=("ndcg",))


def test_ndcg_is_trec_eval_linear_gain():
    qrels = {"q": {"a": 3, "b": 1, "c": 2}}
    run = {"q": {"a": 0.9, "x": 0.8, "b": 0.7}}  # x is unjudged: it counts as not relevant
    ours = score_runs(qrels, {"bi": run}, metrics=("ndcg@10",)).loc["bi-encoder", "ndcg@10"]
    # gain = grade: DCG = 3/log2(2) + 0 + 1/log2(4); the ideal order a, c, b: 3/log2(2) + 2/log2(3) + 1/log2(4)
    # (exponential gain, 2^grade - 1, would give 0.7985)
    assert ours == pytest.approx((3 + 1 / 2) / (3 + 2 / math.log2(3) + 1 / 2), abs=1e-9)  # 0.7350


def test_sweep_endpoints_are_the_bi_encoder_and_reranked_figures(adi_evaluation):
    table = adi_evaluation.table()
    sweep = adi_evaluation.sweep()
    assert list(sweep["alpha"]) == pytest.approx([i / 20 for i in range(21)])
    for metric in ("ndcg@10", "mrr@10"):
        assert sweep[metric].iloc[-1] == table.loc["bi-encoder", metric]
        assert sweep[metric].iloc[0] == table.loc["reranked", metric]


def test_alpha_sweep_and_tables_make_no_model_call(adi_evaluation, adi_searcher):
    calls = (adi_searcher.first.embedder.calls, adi_searcher.reranker.calls)
    adi_evaluation.sweep()
    adi_evaluation.table(alpha=0.3, method="rrf")
    adi_evaluation.per_query(alpha=0.8)
    assert (adi_searcher.first.embedder.calls, adi_searcher.reranker.calls) == calls


def test_per_query_table_and_coverage(adi_evaluation):
    frame = adi_evaluation.per_query("ndcg@10")
    assert len(frame) == 8 and list(frame.columns) == [
        "query",
        "bi-encoder",
        "reranked",
        "hybrid",
        "reranked − first stage",
        "hybrid − first stage",
    ]
    assert frame["reranked − first stage"].to_numpy() == pytest.approx(
        (frame["reranked"] - frame["bi-encoder"]).to_numpy()
    )
    assert frame["bi-encoder"].mean() == pytest.approx(adi_evaluation.table().loc["bi-encoder", "ndcg@10"])
    coverage = adi_evaluation.coverage()
    assert ((coverage.iloc[:, 0] >= 0) & (coverage.iloc[:, 0] <= 10)).all()
    assert coverage.loc["bi-encoder"].iloc[0] > 5, "adi judges few documents per query: most of a top-10 is unjudged"


def test_significance_verdicts(adi_evaluation):
    frame = adi_evaluation.per_query("ndcg@10")
    result = significance(frame, "reranked", "bi-encoder")
    assert 0 <= result.p_value <= 1 and result.queries == 8
    assert "bi-encoder" in result.verdict and "p = " in result.verdict
    same = significance(frame, "bi-encoder", "bi-encoder")
    assert "no difference to test" in same.verdict
    frame = frame.assign(better=frame["bi-encoder"] + 0.2 + np.linspace(0, 0.01, len(frame)))
    assert "unlikely to be chance" in significance(frame, "better", "bi-encoder").verdict


def test_the_paired_t_test_is_scipy_s():
    from scipy import stats

    rng = np.random.default_rng(7)
    for n in (2, 3, 8, 35, 300):
        a, b = rng.random(n), rng.random(n)
        assert paired_t_p_value(a - b) == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-9, abs=1e-15)
    assert paired_t_p_value(np.full(5, 0.1)) == 0.0, "the same gain on every query"
    assert np.isnan(paired_t_p_value(np.array([0.2])))


def test_saved_runs_round_trip_and_trec_export(adi_evaluation, tmp_path):
    store = RunStore(tmp_path / "project")
    run = adi_evaluation.runs(alpha=0.7)["hybrid"]
    run_id = store.save("hybrid 0.7", "adi", {"alpha": 0.7, "top_n": 20}, run)
    other = store.save("bi", "adi", {"ranker": "bi"}, adi_evaluation.runs()["bi"])
    assert [r.name for r in store.list("adi")] == ["hybrid 0.7", "bi"] and store.list("other") == []
    assert store.list()[0].settings == {"alpha": 0.7, "top_n": 20}
    loaded = store.load(run_id)
    assert {q: list(d) for q, d in loaded.items()} == {q: list(d) for q, d in sorted(run.items())}
    (tmp_path / "run.trec").write_text(trec_run(loaded, "hybrid"))
    with open(tmp_path / "run.trec") as handle:
        assert pytrec_eval.parse_run(handle) == loaded, "repr() of a float reads back as the same float"
    store.delete(other)
    assert [r.run_id for r in store.list()] == [run_id]


# med and cranfield (graded qrels, the case where nDCG's gain matters) on BM25: a dense index of either would be
# built for this test alone (med's took a minute of make test on 2 cores), and the claim is about the figures of
# whatever runs were written; adi's dense index is the session's own
@pytest.mark.parametrize(
    ("name", "first_stage"),
    [
        ("adi", "faiss"),
        ("med", "bm25"),
        ("cranfield", "bm25"),
        pytest.param("scifact", "faiss", marks=pytest.mark.slow),
    ],
)
def test_cli_figures_equal_trec_eval_on_the_exported_runs(name, first_stage, tmp_path):
    """`python -m ranklens eval` against pytrec_eval on the TREC runs it wrote, on each shared dataset."""
    max_queries = "300" if name == "scifact" else "8"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ranklens",
            "eval",
            "--dataset",
            str(dataset(name)),
            "--first-stage",
            first_stage,
            "--top-n",
            "20",
            "--max-queries",
            max_queries,
            "--write-runs",
            str(tmp_path),
            "--json",
            str(tmp_path / "metrics.json"),
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=3000,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ours = json.loads((tmp_path / "metrics.json").read_text())
    qrels = dict(list(judged(load_beir(dataset(name)).qrels).items())[: int(max_queries)])
    first_label = {"faiss": "bi-encoder", "bm25": "BM25"}[first_stage]
    for ranker, label in (("bi", first_label), ("ce", "reranked"), ("hybrid", "hybrid")):
        theirs = trec_eval_figures(qrels, tmp_path / f"{ranker}.trec")
        for metric, value in theirs.items():
            assert ours[label][metric] == pytest.approx(value, abs=1e-6), (ranker, metric)


def test_ties_are_split_where_trec_eval_can_see_it():
    """trec_eval reads scores as float32 and breaks ties by doc id; bf16 logits tie often."""
    ranked = [("b", 2.125), ("c", 2.125), ("a", 2.125), ("d", 2.0000000001), ("e", 2.0), ("f", -1.5)]
    run = strictly_decreasing(ranked)
    assert list(run) == ["b", "c", "a", "d", "e", "f"]
    as_float32 = np.array(list(run.values()), dtype=np.float32)
    assert (np.diff(as_float32) < 0).all()
    assert run["b"] == 2.125 and run["f"] == -1.5, "scores that do not tie are left as they are"
    assert abs(run["a"] - 2.125) < 1e-6


def test_cross_validation_on_adi_is_at_most_the_in_sample_best(adi_evaluation):
    choice = cross_validated_alpha(adi_evaluation)
    sweep = adi_evaluation.sweep()
    assert choice.in_sample == pytest.approx(sweep["ndcg@10"].max(), abs=1e-9)
    assert choice.in_sample_alpha == sweep.loc[sweep["ndcg@10"].idxmax(), "alpha"]
    assert choice.cross_validated <= choice.in_sample + 1e-12
    assert len(choice.fold_alphas) == 5 and set(choice.fold_alphas) <= set(SWEEP_ALPHAS)
