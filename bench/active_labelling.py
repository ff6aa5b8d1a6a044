"""Active against blind labelling order, with the shared datasets' qrels playing the labeller.

    python bench/active_labelling.py [--datasets adi med cranfield] [--top-n 30] [--seeds 5] [--out DIR]

The bi-encoder and the configured cross-encoder search every judged query; the pairs to judge are each query's pool
(the first stage's, the reranked and the hybrid top-10). A simulated labeller answers from the qrels in the active
order (ranklens.labelling.queue.ACTIVE_RULE) and in a blind shuffle (median of --seeds). After every 5 % of the pool
it compares the estimated "does reranking help?" (the nDCG@10 difference) and the best alpha with the full qrels'.
About 10 minutes on 2 cores; prints a table per dataset and writes the chart to --out ($RANKLENS_HOME/bench).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytrec_eval
import vl_convert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.corpus.beir import load_beir
from ranklens.evaluation.evaluate import SWEEP_ALPHAS, ranked_run
from ranklens.index.registry import FirstStageSettings, build_first_stage
from ranklens.labelling.queue import QueueItem, active_queue, blind_queue
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_embedder, load_reranker
from ranklens.ranking.search import Searcher
from ranklens.settings import data_dir, datasets_dir

STEPS = 20  # checkpoints: every 5 % of the pool
SETTLED = 0.05  # the best alpha has settled once it stays within this of the full-qrels best alpha


def search_all(name: str, top_n: int) -> tuple[dict, dict[str, dict[str, int]]]:
    corpus = load_beir(datasets_dir() / name)
    judged = {q: d for q, d in corpus.qrels.items() if any(g > 0 for g in d.values()) and q in corpus.queries}
    stage = build_first_stage(FirstStageSettings("faiss"), corpus, load_embedder(DEFAULT_BI_ENCODER))
    searcher = Searcher(stage, load_reranker(DEFAULT_CROSS_ENCODER))
    results = {q: searcher.search(corpus.queries[q], top_n=top_n) for q in sorted(judged)}
    return results, judged


def ndcg(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> float:
    """Mean nDCG@10 over every query of `qrels` (trec_eval's ndcg_cut.10; a query with nothing judged is 0)."""
    padded = {q: docs or {"-": 0} for q, docs in qrels.items()}
    measured = pytrec_eval.RelevanceEvaluator(padded, {"ndcg_cut.10"}).evaluate({q: run[q] for q in padded if q in run})
    return float(np.mean([measured.get(q, {"ndcg_cut_10": 0.0})["ndcg_cut_10"] for q in padded]))


class Runs:
    """Every ranking the simulation judges, made once: the first stage, the reranked list, the hybrid per alpha."""

    def __init__(self, results: dict) -> None:
        self.bi = {q: ranked_run(r, "bi") for q, r in results.items()}
        self.ce = {q: ranked_run(r, "ce") for q, r in results.items()}
        self.hybrid = {
            alpha: {q: ranked_run(r.with_fusion(alpha, "hybrid"), "hybrid") for q, r in results.items()}
            for alpha in SWEEP_ALPHAS
        }

    def figures(self, qrels: dict[str, dict[str, int]]) -> tuple[float, float, float]:
        """nDCG@10 of the first stage and the reranked list, and the best alpha of the sweep (ties: the smallest)."""
        sweep = [ndcg(qrels, self.hybrid[alpha]) for alpha in SWEEP_ALPHAS]
        return ndcg(qrels, self.bi), ndcg(qrels, self.ce), SWEEP_ALPHAS[int(np.argmax(sweep))]


def simulate(order: list[QueueItem], truth: dict[str, dict[str, int]], runs: Runs, full: tuple) -> pd.DataFrame:
    """Judge `order` one pair at a time; at each checkpoint, the estimates' distance from the full figures."""
    judged: dict[str, dict[str, int]] = {q: {} for q in truth}
    rows = []
    marks = {round(len(order) * step / STEPS) for step in range(1, STEPS + 1)}
    for done, item in enumerate(order, start=1):
        judged[item.query_id][item.doc_id] = truth[item.query_id].get(item.doc_id, 0)
        if done in marks:
            bi, ce, alpha = runs.figures(judged)
            rows.append(
                {
                    "judgements": done,
                    "share": done / len(order),
                    "first stage error": abs(bi - full[0]),
                    "reranked error": abs(ce - full[1]),
                    "difference error": abs((ce - bi) - (full[1] - full[0])),
                    "alpha distance": abs(alpha - full[2]),
                }
            )
    return pd.DataFrame(rows)


def settled_at(frame: pd.DataFrame) -> str:
    """The share of the pool judged from which on the best alpha stays within SETTLED of the full one."""
    within = (frame["alpha distance"] <= SETTLED + 1e-9).to_numpy()
    first = next((i for i in range(len(within)) if within[i:].all()), None)
    return "never" if first is None else f"{frame['share'].iloc[first]:.0%}"


def run_dataset(name: str, top_n: int, seeds: int) -> pd.DataFrame:
    results, truth = search_all(name, top_n)
    runs = Runs(results)
    full = runs.figures(truth)
    order = active_queue(results, set())
    active = simulate(order, truth, runs, full).assign(order="active")
    blind = [simulate(blind_queue(results, set(), seed=s), truth, runs, full) for s in range(seeds)]
    median = pd.concat(blind).groupby(["judgements", "share"], as_index=False).median().assign(order="blind")
    print(
        f"\n== {name}: {len(results)} queries, {len(order)} pairs to judge; on the full qrels "
        f"first stage {full[0]:.4f}, reranked {full[1]:.4f}, best alpha {full[2]:.2f}"
    )
    return pd.concat([active, median]).assign(dataset=name)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (dataset, order), part in frame.groupby(["dataset", "order"], sort=False):
        part = part.reset_index(drop=True)
        row = {"dataset": dataset, "order": order}
        for share in (0.1, 0.25, 0.5):
            at = part.iloc[(part["share"] - share).abs().argmin()]
            row[f"difference error @{share:.0%}"] = at["difference error"]
        row["mean difference error"] = part["difference error"].mean()
        row["alpha settles at"] = settled_at(part)
        rows.append(row)
    return pd.DataFrame(rows)


def chart(frame: pd.DataFrame) -> alt.VConcatChart:
    base = alt.Chart(frame).encode(
        x=alt.X("share:Q", title="share of the pool judged", axis=alt.Axis(format="%")),
        color=alt.Color("order:N", title="order"),
    )
    error = base.mark_line(point=True).encode(y=alt.Y("difference error:Q", title="|Δ nDCG@10 error|"))
    alpha = base.mark_line(point=True).encode(y=alt.Y("alpha distance:Q", title="|best alpha − full-qrels best|"))
    return alt.vconcat(
        error.properties(width=220, height=160).facet(column="dataset:N"),
        alpha.properties(width=220, height=160).facet(column="dataset:N"),
        title="Active vs blind labelling order (blind: median of shuffles)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["adi", "med", "cranfield"])
    parser.add_argument("--top-n", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=5, help="blind shuffles (their median is reported)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the chart (default $RANKLENS_HOME/bench)")
    args = parser.parse_args()
    print(f"CPU: {cpu_name()} ({cpu_cores()} cores); labeller: the datasets' qrels")
    frame = pd.concat([run_dataset(name, args.top_n, args.seeds) for name in args.datasets], ignore_index=True)
    table = summary(frame)
    print()
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    for dataset in args.datasets:
        part = table[table["dataset"] == dataset].set_index("order")["mean difference error"]
        if {"active", "blind"} <= set(part.index):
            better = "active" if part["active"] < part["blind"] else "blind"
            ratio = part["blind"] / max(part["active"], 1e-12)
            print(f"{dataset}: {better} order estimates the difference better (blind / active error {ratio:.2f})")
    out = args.out or data_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    spec = chart(frame).to_dict()
    (out / "active_labelling.svg").write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
    (out / "active_labelling.png").write_bytes(vl_convert.vegalite_to_png(spec, scale=2))
    frame.to_csv(out / "active_labelling.csv", index=False)
    print(f"chart: {out / 'active_labelling.png'} (and .svg, .csv)")


if __name__ == "__main__":
    main()
