"""Train: fine-tune a cross-encoder on judgements, and measure it against the base on held-out queries.

Fine-tuning often makes a cross-encoder worse, so nothing here is trusted unmeasured: the
base model's held-out nDCG@10 is measured first, the held-out nDCG@10 after every epoch, and
the epoch that scored best is the model that is kept, not the last one (the base itself when
no epoch beats it). The training data is `ranklens.training.data`.

A little over 300 lines: the trainer, its per-epoch evaluation callback, the reload of the best
epoch and the model card describe one run and share its state.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ranklens import inference
from ranklens.progress import OnProgress
from ranklens.ranking.search import Searcher
from ranklens.training.data import LOSSES, TrainingData, TrainingError, TrainSettings, heldout_figures


@dataclass
class TrainingProgress:
    """What a running training has done so far; read by the UI from another thread."""

    total_steps: int = 0
    step: int = 0
    epoch: float = 0.0
    loss: float | None = None
    history: list[dict] = field(default_factory=list)  # one row per held-out evaluation
    state: str = "starting"  # starting, training, evaluating, done, cancelled, failed
    cancel: threading.Event = field(default_factory=threading.Event)
    on_epoch: Callable[[dict], None] | None = None  # hears each held-out evaluation row (the CLI prints it)
    on_step: OnProgress | None = None  # hears (step, total steps) after every training step


@dataclass
class TrainResult:
    """What a fine-tuning run produced: the kept model, base against tuned on held-out queries, the history."""

    model_dir: Path
    base_model: str
    comparison: pd.DataFrame  # rows: base/tuned x reranked/hybrid; columns: held-out metrics
    history: list[dict]
    best_epoch: int
    data_summary: dict[str, int]

    @property
    def verdict(self) -> str:
        """Base against tuned in one sentence."""
        base = self.comparison.loc[("base", "reranked"), "ndcg@10"]
        tuned = self.comparison.loc[("tuned", "reranked"), "ndcg@10"]
        queries = self.data_summary["held-out queries"]
        if self.best_epoch == 0:
            return (
                f"No epoch beat the base model on the {queries} held-out queries (nDCG@10 {base:.3f}), so the "
                "saved model is the base model unchanged: keep using the base."
            )
        change = "better" if tuned > base else "worse"
        return (
            f"The tuned cross-encoder is {change} than the base on the {queries} held-out queries: reranked nDCG@10 "
            f"{base:.3f} -> {tuned:.3f} ({tuned - base:+.3f}), best after epoch {self.best_epoch}. "
            f"With {queries} held-out queries, differences under a few points can be noise."
        )


def _dataset(pairs: list[tuple[str, str, float]], loss: str):
    from datasets import Dataset

    if loss == "bce":
        return Dataset.from_dict(
            {"query": [q for q, _, _ in pairs], "passage": [p for _, p, _ in pairs], "label": [t for _, _, t in pairs]}
        )
    grouped: dict[str, tuple[list[str], list[float]]] = {}
    for query, passage, target in pairs:
        docs, labels = grouped.setdefault(query, ([], []))
        docs.append(passage)
        labels.append(target)
    return Dataset.from_dict(
        {
            "query": list(grouped),
            "docs": [d for d, _ in grouped.values()],
            "labels": [lab for _, lab in grouped.values()],
        }
    )


def _model_card(
    folder: Path,
    base: str,
    settings: TrainSettings,
    summary: dict,
    comparison: pd.DataFrame,
    history: list[dict],
    best_epoch: int,
) -> None:
    figures = comparison.reset_index().rename(columns={"level_0": "model", "level_1": "ranking"})
    lines = [
        "# RankLens fine-tuned cross-encoder",
        "",
        f"- base model: `{base}`",
        f"- trained: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- loss: {settings.loss} ({LOSSES[settings.loss]})",
        f"- best epoch kept: {best_epoch} (0 = the base model: no epoch beat it)",
        "",
        "## Data",
        "",
        *[f"- {k}: {v}" for k, v in summary.items()],
        "",
        "## Settings",
        "",
        "```json",
        json.dumps(asdict(settings), indent=2),
        "```",
        "",
        "## Held-out figures (base vs tuned)",
        "",
        figures.to_markdown(index=False, floatfmt=".4f"),
        "",
        "## Held-out nDCG@10 by epoch",
        "",
        pd.DataFrame(history).to_markdown(index=False, floatfmt=".4f"),
        "",
    ]
    (folder / "RANKLENS_MODEL_CARD.md").write_text("\n".join(lines), encoding="utf-8")
    (folder / "ranklens_training.json").write_text(
        json.dumps(
            {
                "base_model": base,
                "settings": asdict(settings),
                "data": summary,
                "history": history,
                "best_epoch": best_epoch,
            },
            indent=2,
        ),
        encoding="utf-8",
    )


def _fresh_cross_encoder(name: str, max_length: int):
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    return CrossEncoder(name, activation_fn=torch.nn.Identity(), max_length=max_length)


class _Model:
    """The model being trained, behind a name that stays valid when the best epoch is reloaded into it."""

    def __init__(self, model) -> None:
        self.model = model

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        with inference.LOCK:
            return self.model.predict(pairs, batch_size=32, show_progress_bar=False, convert_to_numpy=True)


def _heldout_ndcg(figures: pd.DataFrame) -> float:
    return float(figures.loc["reranked", "ndcg@10"])


def _epoch_watch(
    holder: _Model,
    heldout: Callable[[], pd.DataFrame],
    progress: TrainingProgress,
    best_dir: Path,
    history: list[dict],
    best: dict,
):
    """A trainer callback that reports steps and loss, honours Cancel, and after each epoch scores the held-out
    queries and saves the model when it is the best seen."""
    from transformers import TrainerCallback

    class EpochWatch(TrainerCallback):
        steps = inference.StepLock()  # one training step at a time with searches and evaluations

        def on_step_begin(self, args, state, control, **kwargs):
            self.steps.acquire()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                progress.loss = float(logs["loss"])

        def on_step_end(self, args, state, control, **kwargs):
            self.steps.release()
            progress.step, progress.total_steps, progress.epoch = state.global_step, state.max_steps, state.epoch or 0
            if progress.on_step:
                progress.on_step(progress.step, progress.total_steps)
            if progress.cancel.is_set():
                control.should_training_stop = True

        def on_epoch_end(self, args, state, control, **kwargs):
            if progress.cancel.is_set():
                return
            progress.state = "evaluating"
            score = _heldout_ndcg(heldout())
            epoch = round(state.epoch or 0)
            history.append(
                {"epoch": epoch, "step": state.global_step, "loss": progress.loss, "held-out ndcg@10": score}
            )
            progress.history = list(history)
            if progress.on_epoch:
                progress.on_epoch(history[-1])
            if score > best["score"]:
                best.update(epoch=epoch, score=score)
                holder.model.save_pretrained(str(best_dir))
            progress.state = "training"

    return EpochWatch()


def _run_trainer(holder: _Model, data: TrainingData, settings: TrainSettings, work_dir: Path, watch) -> None:
    import torch
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, ListNetLoss
    from transformers import PrinterCallback

    model = holder.model
    loss = BinaryCrossEntropyLoss(model) if settings.loss == "bce" else ListNetLoss(model)
    args = CrossEncoderTrainingArguments(
        output_dir=str(work_dir / "checkpoints"),
        num_train_epochs=settings.epochs,
        per_device_train_batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        warmup_ratio=settings.warmup_ratio,
        seed=settings.seed,
        save_strategy="no",
        report_to="none",
        logging_steps=1,
        use_cpu=not torch.cuda.is_available(),
        disable_tqdm=True,
    )
    trainer = CrossEncoderTrainer(
        model=model, args=args, train_dataset=_dataset(data.pairs, settings.loss), loss=loss, callbacks=[watch]
    )
    trainer.remove_callback(PrinterCallback)  # progress goes to `progress`, not to stdout
    try:
        trainer.train()
    finally:
        watch.steps.release_all()


def _check_output(output_dir: Path) -> None:
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise TrainingError(f"{output_dir} already exists and is not empty: name a new folder for the tuned model")


def train(
    searcher: Searcher,
    queries: Mapping[str, str],
    data: TrainingData,
    settings: TrainSettings,
    output_dir: Path,
    progress: TrainingProgress | None = None,
) -> TrainResult:
    """Fine-tune the searcher's cross-encoder; the best held-out epoch (or the base, if none beats it) is saved
    to `output_dir`, which must not exist yet or be empty. Work files go to a folder of our own beside it."""
    if settings.loss not in LOSSES:
        raise TrainingError(f"unknown loss {settings.loss!r}; choose from {', '.join(LOSSES)}")
    if not data.pairs:
        raise TrainingError("no training pairs: the train queries' judged documents are not in this corpus")
    output_dir = Path(output_dir)
    _check_output(output_dir)
    progress = progress or TrainingProgress()
    base = searcher.reranker.name
    # a copy of its own: the searcher's model keeps serving the app while this one trains
    holder = _Model(_fresh_cross_encoder(base, settings.max_length))

    def heldout() -> pd.DataFrame:
        return heldout_figures(holder.predict, data, searcher, queries)

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-training-", dir=output_dir.parent))
    try:
        base_figures = heldout()
        history = [{"epoch": 0, "step": 0, "loss": None, "held-out ndcg@10": _heldout_ndcg(base_figures)}]
        progress.history = list(history)
        best = {"epoch": 0, "score": history[0]["held-out ndcg@10"]}
        progress.state = "training"
        watch = _epoch_watch(holder, heldout, progress, work_dir / "best", history, best)
        _run_trainer(holder, data, settings, work_dir, watch)
        # nothing beat the base: what is kept is the base itself
        holder.model = _fresh_cross_encoder(base if best["epoch"] == 0 else str(work_dir / "best"), settings.max_length)
        comparison = pd.concat({"base": base_figures, "tuned": heldout()})
        _save(holder.model, work_dir / "final", output_dir)
        _model_card(output_dir, base, settings, data.summary(), comparison, history, best["epoch"])
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    progress.state = "cancelled" if progress.cancel.is_set() else "done"
    return TrainResult(output_dir, base, comparison, history, best["epoch"], data.summary())


def _save(model, staging: Path, output_dir: Path) -> None:
    """Saved aside, then moved into place, so a crash never leaves half a model under the output name."""
    model.save_pretrained(str(staging))
    _check_output(output_dir)
    if output_dir.is_dir():
        output_dir.rmdir()  # empty, as checked: nothing of the user's is deleted
    os.replace(staging, output_dir)


def default_output(project: Path, base: str) -> Path:
    """A new folder for a tuned model under the project, named after the base model and the time."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(project) / "models" / f"{Path(base).name}-tuned-{stamp}"


def tuned_models(project: Path) -> list[Path]:
    """Models fine-tuned in a project folder, newest first: the UI's model picker offers them."""
    folder = Path(project) / "models"
    found = [p for p in folder.glob("*") if (p / "ranklens_training.json").is_file()] if folder.is_dir() else []
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)
