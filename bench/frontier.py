"""The speed-quality frontier of the cross-encoder: latency against nDCG@10 per backend and token budget.

    python bench/frontier.py [--datasets adi med] [--top-n 30] [--max-queries N] [--budgets 64 96 128 192]
                             [--backends torch torch-bf16 openvino-bf16 openvino-int8-static] [--out DIR]

For each dataset the bi-encoder retrieves the top-N of every judged query; every backend reranks them at every
budget (tokens per pair) and gives nDCG@10; the latency is the median of 5 rerankings of 100 candidates, beside the
tutorial's code (CrossEncoder.predict, torch fp32) in the same run, with each backend's share of this machine's
matmul peak. 10-20 minutes on 2 cores. Writes frontier.png / .svg / .csv to --out ($RANKLENS_HOME/bench).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from itertools import cycle, islice
from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.corpus.beir import load_beir
from ranklens.evaluation.evaluate import judged, score_runs, strictly_decreasing
from ranklens.index.registry import FirstStageSettings, build_first_stage
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_embedder, load_reranker
from ranklens.settings import data_dir, datasets_dir
from ranklens.speed.bench import seed_reranker, with_peak_shares
from ranklens.speed.peak import best_peaks, described, matmul_peaks, precision_of, reranker_flops

KEEP = 0.995  # a budget keeps the quality when its nDCG@10 is at least this share of the full window's
REPEATS = 5
SEED = "seed"


def timed(function, repeats: int = REPEATS) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def candidates(
    name: str, top_n: int, max_queries: int | None = None
) -> tuple[dict[str, list[tuple[str, str]]], dict, dict[str, list[str]]]:
    """Per judged query (the first `max_queries`): its (query, text) pairs and doc ids of the bi-encoder's top-N, and
    the qrels."""
    corpus = load_beir(datasets_dir() / name)
    qrels = dict(list(judged(corpus.qrels).items())[:max_queries])
    stage = build_first_stage(FirstStageSettings("faiss"), corpus, load_embedder(DEFAULT_BI_ENCODER))
    pairs, ids = {}, {}
    for qid in qrels:
        hits = stage.retrieve(corpus.queries[qid], top_n).hits
        ids[qid] = [h.doc_id for h in hits]
        pairs[qid] = [(corpus.queries[qid], corpus.get(h.doc_id).full_text) for h in hits]
    return pairs, qrels, ids


def ndcg(score, pairs: dict, ids: dict, qrels: dict) -> float:
    run = {}
    for qid, query_pairs in pairs.items():
        scores = score(query_pairs)
        run[qid] = strictly_decreasing(sorted(zip(ids[qid], map(float, scores)), key=lambda p: -p[1]))
    return float(score_runs(qrels, {"x": run}, ("ndcg@10",)).loc["x", "ndcg@10"])


def measure_dataset(name: str, args) -> list[dict]:
    pairs, qrels, ids = candidates(name, args.top_n, args.max_queries)
    hundred = list(islice(cycle([p for query_pairs in pairs.values() for p in query_pairs]), 100))
    resolved = load_reranker(DEFAULT_CROSS_ENCODER).name
    seed = seed_reranker(resolved)
    rows = [
        {
            "dataset": name,
            "backend": SEED,
            "budget": load_reranker(resolved).max_tokens,
            "ms per 100": timed(lambda: seed(hundred)) * 1000,
            "nDCG@10": ndcg(seed, pairs, ids, qrels),
        }
    ]
    for backend in args.backends:
        reranker = load_reranker(resolved, fallbacks=[], backend=backend)
        for budget in sorted({min(b, reranker.max_tokens) for b in args.budgets}):
            print(f"[{name}] {backend} at {budget} tokens…", file=sys.stderr)

            def score(pairs, reranker=reranker, budget=budget):
                return reranker.score(pairs, max_tokens=budget)

            seconds = timed(lambda: score(hundred))
            flops = reranker_flops(reranker, hundred, budget)
            rows.append(
                {
                    "dataset": name,
                    "backend": backend,
                    "budget": budget,
                    "ms per 100": seconds * 1000,
                    "nDCG@10": ndcg(score, pairs, ids, qrels),
                    "GFLOP/s": flops / seconds / 1e9,
                    "precision": precision_of(backend),
                }
            )
    return rows


def with_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    seed = frame[frame["backend"] == SEED].set_index("dataset")
    frame["vs seed (speed)"] = frame["dataset"].map(seed["ms per 100"]) / frame["ms per 100"]
    frame["nDCG vs seed"] = frame["nDCG@10"] / frame["dataset"].map(seed["nDCG@10"])
    return frame


def cheapest_keeping(frame: pd.DataFrame, backend: str) -> int | None:
    """The smallest budget whose nDCG@10 is at least KEEP of the seed's on every dataset, for this backend."""
    rows = frame[frame["backend"] == backend]
    for budget in sorted(rows["budget"].unique()):
        if (rows[rows["budget"] == budget]["nDCG vs seed"] >= KEEP).all():
            return int(budget)
    return None


def chart(frame: pd.DataFrame) -> alt.FacetChart:
    """One panel per dataset: a line per backend through its budgets (labelled), the seed as a cross."""
    ranked = alt.Chart().transform_filter(alt.datum.backend != SEED)
    encoded = ranked.encode(
        x=alt.X("ms per 100:Q", title="ms to rerank 100 candidates", scale=alt.Scale(zero=False)),
        y=alt.Y("nDCG@10:Q", scale=alt.Scale(zero=False)),
        color=alt.Color("backend:N"),
        order="budget:Q",
        tooltip=[
            "backend",
            "budget",
            alt.Tooltip("ms per 100:Q", format=".0f"),
            alt.Tooltip("nDCG@10:Q", format=".4f"),
        ],
    )
    labels = encoded.mark_text(dy=-9, fontSize=9).encode(text="budget:Q")
    seed = (
        alt.Chart()
        .transform_filter(alt.datum.backend == SEED)
        .mark_point(shape="cross", size=120, color="black")
        .encode(x="ms per 100:Q", y="nDCG@10:Q", tooltip=["backend", "ms per 100", "nDCG@10"])
    )
    return (
        alt.layer(encoded.mark_line(point=True), labels, seed, data=frame)
        .properties(width=300, height=240)
        .facet(column="dataset:N")
        .resolve_scale(x="independent", y="independent")
        .properties(title=f"Speed-quality frontier by token budget ({cpu_name()}, {cpu_cores()} cores; + = seed)")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["adi", "med"])
    parser.add_argument("--top-n", type=int, default=30)
    parser.add_argument("--max-queries", type=int, help="the first N judged queries of each dataset (default: all)")
    parser.add_argument("--budgets", nargs="+", type=int, default=[64, 96, 128, 192])
    parser.add_argument(
        "--backends", nargs="+", default=["torch", "torch-bf16", "openvino-bf16", "openvino-int8-static"]
    )
    parser.add_argument("--out", type=Path, default=data_dir() / "bench")
    args = parser.parse_args()
    before = matmul_peaks()
    rows = [row for name in args.datasets for row in measure_dataset(name, args)]
    after = matmul_peaks()
    peaks = best_peaks(before, after)
    print(f"{cpu_name()}, {cpu_cores()} cores; matmul peak {SIZE_NOTE}, the better of before and after the run:")
    print(f"  {described(peaks)} (before: {described(before)}; after: {described(after)})")
    frame = with_ratios(pd.DataFrame(with_peak_shares(rows, peaks)))
    pd.set_option("display.width", 200)
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for backend in args.backends:
        print(
            f"cheapest budget keeping ≥ {KEEP:.1%} of the seed's nDCG@10 on every dataset, {backend}: "
            f"{cheapest_keeping(frame, backend)}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "frontier.csv", index=False)
    spec = chart(frame).to_json()
    (args.out / "frontier.svg").write_text(vl_convert.vegalite_to_svg(spec))
    (args.out / "frontier.png").write_bytes(vl_convert.vegalite_to_png(spec, scale=2))
    print(f"written: {args.out}/frontier.png, .svg, .csv")


SIZE_NOTE = "(2048² matmul, torch, best of 5)"

if __name__ == "__main__":
    main()
