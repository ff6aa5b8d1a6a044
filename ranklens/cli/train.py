"""`ranklens train`: fine-tune the cross-encoder on judgements; base against tuned on held-out queries."""

from __future__ import annotations

import argparse
from pathlib import Path

from ranklens.cli import common
from ranklens.cli.output import print_frame
from ranklens.labelling.labels import default_project


def register(commands) -> None:
    """Add `ranklens train` and its options to the subcommands."""
    parser = commands.add_parser("train", help="fine-tune the cross-encoder; base vs tuned on held-out queries")
    common.add_judgement_options(parser, split="train")
    parser.add_argument("--project", help="with --dataset: the project folder the tuned model is saved in")
    parser.add_argument("--out", help="a new folder for the tuned model (default: PROJECT/models/NAME-tuned-TIME)")
    common.add_bi_encoder_options(parser)
    common.add_search_options(parser)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--loss", choices=["bce", "listnet"], default="bce")
    parser.add_argument("--heldout-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=12)
    parser.set_defaults(run=run)


def _epoch_line(row: dict) -> None:
    loss = "" if row["loss"] is None else f", loss {row['loss']:.4f}"
    common.say(f"epoch {row['epoch']}: held-out nDCG@10 {row['held-out ndcg@10']:.4f}{loss}")


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens train` with the parsed options."""
    # Here, not at the top: training's modules import pandas (half a second), which every command would pay for.
    from ranklens.training.data import TrainSettings, build_training_data
    from ranklens.training.train import TrainingProgress, default_output, train

    inputs = common.judged_inputs(args)
    if args.labels:
        project = common.project_store(args.labels).path.parent
    else:
        project = Path(args.project) if args.project else default_project()
    settings = TrainSettings(
        epochs=args.epochs,
        learning_rate=args.lr,
        batch_size=args.batch_size,
        loss=args.loss,
        heldout_fraction=args.heldout_fraction,
        seed=args.seed,
    )
    searcher = common.searcher(args, inputs.corpus)
    if searcher.reranker.fallback_reason:
        print(f"note: {searcher.reranker.fallback_reason}")
    data = build_training_data(searcher, inputs.queries, inputs.qrels, settings, grade_scale=inputs.grade_scale)
    print("data: " + ", ".join(f"{v} {k}" for k, v in data.summary().items()))
    print(f"held-out queries: {', '.join(data.heldout_queries)}")
    output = Path(args.out) if args.out else default_output(project, searcher.reranker.name)
    progress = TrainingProgress(on_epoch=_epoch_line, on_step=common.progress_bar("training", unit="steps"))
    result = train(searcher, inputs.queries, data, settings, output, progress)
    import pandas as pd

    print_frame(pd.DataFrame(result.history), index=False)
    print_frame(result.comparison)
    print(result.verdict)
    print(f"saved to {result.model_dir} (with RANKLENS_MODEL_CARD.md); use it with --ce-model {result.model_dir}")
