"""Training jobs: at most one fine-tuning per process, in a background thread that any page can find again.

The job lives in the process, not in a browser session, so a refreshed page (or another tab)
reconnects to its progress and its Cancel, and a second start is refused while it runs.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ranklens.labelling.store import now
from ranklens.ranking.search import Searcher
from ranklens.training.data import TrainingData, TrainingError, TrainSettings
from ranklens.training.train import TrainingProgress, TrainResult, train


class TrainingBusy(TrainingError):
    """A training is already running in this process."""


@dataclass
class TrainingJob:
    """One fine-tuning run in a background thread; pages only read it (and may set its cancel event)."""

    base_model: str
    output: Path
    project: Path
    summary: dict[str, int]
    progress: TrainingProgress = field(default_factory=TrainingProgress)
    started_at: str = field(default_factory=now)
    result: TrainResult | None = None
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether its thread is still training."""
        return self.thread is not None and self.thread.is_alive()


_current: TrainingJob | None = None
_lock = threading.Lock()


def current_job() -> TrainingJob | None:
    """The running training, or the last one to finish, in this process."""
    return _current


def _run(
    job: TrainingJob, searcher: Searcher, queries: Mapping[str, str], data: TrainingData, settings: TrainSettings
) -> None:
    try:
        job.result = train(searcher, queries, data, settings, job.output, job.progress)
    except Exception as err:  # noqa: BLE001 -- the page shows what went wrong; the thread must not die silently
        job.error = f"{type(err).__name__}: {err}"
        job.progress.state = "failed"
        traceback.print_exc()


def start_training(
    searcher: Searcher,
    queries: Mapping[str, str],
    data: TrainingData,
    settings: TrainSettings,
    output: Path,
    project: Path,
) -> TrainingJob:
    """Start fine-tuning in the background; refuses (TrainingBusy) while another training runs in this process."""
    global _current
    with _lock:
        if _current is not None and _current.running:
            raise TrainingBusy(
                f"a training of {_current.base_model} is already running (started {_current.started_at});"
                " wait for it, or cancel it, before starting another"
            )
        job = TrainingJob(searcher.reranker.name, Path(output), Path(project), data.summary())
        job.thread = threading.Thread(
            target=_run, args=(job, searcher, queries, data, settings), daemon=True, name="ranklens-training"
        )
        _current = job
        job.thread.start()
    return job
