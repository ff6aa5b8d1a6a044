"""`ranklens eval`: nDCG@10, MRR@10, recall and MAP of the bi-encoder, the reranked list and the hybrid."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ranklens.cli import common
from ranklens.cli.output import print_frame
from ranklens.ranking.results import RANKER_LABELS

if TYPE_CHECKING:
    from ranklens.evaluation.evaluate import Evaluation


def register(commands) -> None:
    """Add `ranklens eval` and its options to the subcommands."""
    parser = commands.add_parser(
        "eval", help="nDCG@10, MRR@10, recall and MAP for the first stage, reranked and hybrid"
    )
    common.add_judgement_options(parser, split="test")
    common.add_bi_encoder_options(parser)
    common.add_search_options(parser)
    parser.add_argument("--no-rerank", action="store_true", help="the first stage only (fast)")
    parser.add_argument("--sweep", action="store_true", help="hybrid nDCG@10 and MRR@10 for alpha 0..1 by 0.05")
    parser.add_argument("--significance", action="store_true", help="paired t-tests against the bi-encoder")
    parser.add_argument("--write-runs", metavar="DIR", help="write each ranker's run in TREC format")
    parser.add_argument("--json", metavar="FILE", help="write the metrics table as JSON (full precision)")
    parser.set_defaults(run=run)


def _write_runs(folder: Path, runs: dict) -> None:
    from ranklens.evaluation.evaluate import trec_run

    folder.mkdir(parents=True, exist_ok=True)
    for ranker, run in runs.items():
        (folder / f"{ranker}.trec").write_text(trec_run(run, f"ranklens-{ranker}"), encoding="utf-8")
    print(f"runs written to {folder}/ ({', '.join(f'{r}.trec' for r in runs)}, TREC format)")


def _extras(args: argparse.Namespace, evaluation: Evaluation) -> None:
    from ranklens.evaluation.alpha import cross_validated_alpha
    from ranklens.evaluation.evaluate import significance

    print()
    print_frame(evaluation.coverage(), digits=2)
    if args.sweep:
        sweep = evaluation.sweep(method=args.fusion)
        best = sweep.loc[sweep["ndcg@10"].idxmax()]
        print(f"\nalpha sweep ({args.fusion}; alpha = bi-encoder weight):")
        print_frame(sweep, index=False)
        choice = cross_validated_alpha(evaluation, method=args.fusion)
        print(
            f"best alpha for nDCG@10 on these queries: {best['alpha']:.2f} ({best['ndcg@10']:.4f}; optimistic: "
            "picked on the queries it is measured on)"
        )
        print(
            f"cross-validated ({choice.folds} folds over queries): alpha {choice.cross_validated_alpha:.2f}, "
            f"held-out nDCG@10 {choice.cross_validated:.4f} (the folds picked "
            f"{', '.join(f'{a:.2f}' for a in choice.fold_alphas)})"
        )
    if args.significance:
        per_query = evaluation.per_query("ndcg@10")
        print()
        for other in ("reranked", "hybrid"):
            print(significance(per_query, other, evaluation.labels["bi"]).verdict)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens eval` with the parsed options."""
    # Here, not at the top: they import pandas (half a second), which every other command's start would pay for.
    from ranklens.evaluation.evaluate import NDCG_GAIN, collect, collect_first_stage_runs, score_runs

    inputs = common.judged_inputs(args)
    searcher = common.searcher(args, inputs.corpus, rerank=not args.no_rerank)
    print(
        f"corpus: {inputs.corpus.name} ({len(inputs.corpus)} documents); {len(inputs.qrels)} queries with a "
        f"relevant judgement, from {inputs.source}"
    )
    first = searcher.first
    labels = {**RANKER_LABELS, "bi": first.label}
    settings = ", ".join(f"{k}: {v}" for k, v in first.describe().items() if k != "first_stage")
    print(f"first stage: {first.name} ({first.label}); {settings}")
    evaluation = None
    if searcher.reranker is None:
        runs = {"bi": collect_first_stage_runs(searcher, inputs.queries, inputs.qrels, args.top_n)}
    else:
        reranker = searcher.reranker
        if reranker.fallback_reason:
            print(f"note: {reranker.fallback_reason}")
        print(
            f"cross-encoder: {reranker.name} ({reranker.backend}), top-N {args.top_n}; hybrid: {args.fusion} at "
            f"alpha {args.alpha:g}"
        )
        evaluation = collect(
            searcher,
            inputs.queries,
            inputs.qrels,
            top_n=args.top_n,
            alpha=args.alpha,
            fusion_method=args.fusion,
            ce_passages=args.ce_passages,
            progress=common.progress_bar("queries", unit="queries"),
        )
        runs = evaluation.runs()
        scored = sum(r.timings.pairs_scored for r in evaluation.results.values())
        cached = sum(r.timings.pairs_cached for r in evaluation.results.values())
        print(f"cross-encoder calls: {scored} pairs scored, {cached} from the score cache")
    print(f"metrics: trec_eval's (pytrec_eval); nDCG uses {NDCG_GAIN}; unjudged documents count as non-relevant")
    table = score_runs(inputs.qrels, runs, labels=labels)
    print_frame(table)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(table.to_json(orient="index", double_precision=15), encoding="utf-8")
    if args.write_runs:
        _write_runs(Path(args.write_runs), runs)
    if evaluation is not None:
        _extras(args, evaluation)
