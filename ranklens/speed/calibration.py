"""Choosing the cross-encoder's backend by measuring this machine, not by reading its CPU flags.

Every backend reranks the same few dozen real pairs; those that keep the ranking (Spearman with torch fp32 of at
least DEFAULT_MIN_SPEARMAN on those pairs, and logits not astray from fp32's: logits_astray) compete on their median
time, and the fastest is the choice, except that a backend running an export is preferred to a torch one less than
START_MARGIN faster (a new process runs an export without importing torch, which takes seconds). Backends within
SAME_SPEED of the fastest are told apart by their Spearman instead, since a difference that small swaps sides from
one measurement to the next. The choice is kept in
$RANKLENS_HOME/cache/backends.json under a key naming the CPU, its core count, the model's weights and the runtimes'
versions, so one machine measures once per model and a changed library measures again.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ranklens import cachedir
from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.backends.exports import library_versions
from ranklens.backends.registry import BACKENDS, DEFAULT_MIN_SPEARMAN, IN_TORCH, offered
from ranklens.models.files import fingerprint
from ranklens.models.loading import first_line, forget_loaded, in_use, load_reranker
from ranklens.progress import OnProgress
from ranklens.ranking.compare import spearman
from ranklens.settings import data_dir

AUTO = "auto"
PAIRS = 48  # enough for a stable median on 2 cores, few enough to take seconds
PASSAGE_WORDS = 150  # about a scientific abstract: more than a 192-token window holds
ROUNDS = 3
VERSION = 3  # bump when what is measured changes, so old choices are measured again (3: OpenVINO in streams)
RUNTIMES = ("torch", "transformers", "onnxruntime", "openvino")
CLEARLY_SLOWER = 1.5  # a first round this many times the best that keeps the ranking ends a backend's timing
START_MARGIN = 0.10  # how much slower per pair an export may be and still be chosen over torch, for its start
SAME_SPEED = 0.05  # backends this close in time are as fast as each other: the measurement's own spread on 2 cores

Pair = tuple[str, str]


@dataclass(frozen=True)
class Measured:
    """One backend on the calibration pairs: seconds per 100 pairs and how well it keeps fp32's ranking."""

    backend: str
    seconds_per_100: float
    spearman: float
    error: str | None = None  # why it could not run

    @property
    def keeps_ranking(self) -> bool:
        """Whether it ran and agrees with torch fp32 well enough to be chosen."""
        return self.error is None and self.spearman >= DEFAULT_MIN_SPEARMAN


@dataclass(frozen=True)
class Choice:
    """The backend chosen for a model on this machine, and the measurements it was chosen from."""

    backend: str
    measured: tuple[Measured, ...]
    machine: str

    def reason(self) -> str:
        """One line for the sidebar and the CLI, e.g. "openvino-bf16: 1.48 s per 100 vs torch-bf16 1.72 s"."""
        ranked = sorted((m for m in self.measured if m.keeps_ranking), key=lambda m: m.seconds_per_100)
        chosen = next((m for m in ranked if m.backend == self.backend), None)
        if chosen is None:
            return f"{self.backend}: no backend kept the ranking on the calibration pairs, measured on {self.machine}"
        fastest = ranked[0]
        if chosen is not fastest:
            why = (
                f"within {START_MARGIN:.0%} and starting without torch"
                if fastest.backend in IN_TORCH and chosen.backend not in IN_TORCH
                else f"as fast within {SAME_SPEED:.0%} and closer to torch fp32's ranking (Spearman "
                f"{chosen.spearman:.4f} vs {fastest.spearman:.4f})"
            )
            return (
                f"{chosen.backend}: {chosen.seconds_per_100:.2f} s per 100 pairs vs {fastest.backend} "
                f"{fastest.seconds_per_100:.2f} s, {why}, measured on {self.machine}"
            )
        runner_up = f" vs {ranked[1].backend} {ranked[1].seconds_per_100:.2f} s" if len(ranked) > 1 else ""
        return f"{chosen.backend}: {chosen.seconds_per_100:.2f} s per 100 pairs{runner_up}, measured on {self.machine}"


def machine() -> str:
    """This machine in words: the CPU's name and the cores this process has."""
    return f"{cpu_name() or 'unknown CPU'}, {cpu_cores()} cores"


def choice_key(model_fingerprint: str) -> str:
    """What a measurement depends on: the CPU, the cores this process has, the weights and the runtimes."""
    return f"v{VERSION}|{machine()}|{model_fingerprint}|{library_versions(RUNTIMES)}"


def choose(measured: Sequence[Measured]) -> str:
    """The fastest backend that keeps the ranking, or an export within START_MARGIN of a faster torch backend;
    of those within SAME_SPEED of that one, the closest to fp32's ranking. torch fp32 where none keeps it (it is the
    reference)."""
    keeping = sorted((m for m in measured if m.keeps_ranking), key=lambda m: m.seconds_per_100)
    if not keeping:
        return "torch"
    if keeping[0].backend in IN_TORCH:
        limit = keeping[0].seconds_per_100 * (1 + START_MARGIN)
        exported = [m for m in keeping if m.backend not in IN_TORCH and m.seconds_per_100 <= limit]
        keeping = exported or keeping
    tied = [m for m in keeping if m.seconds_per_100 <= keeping[0].seconds_per_100 * (1 + SAME_SPEED)]
    return max(tied, key=lambda m: m.spearman).backend  # the first, the fastest, of equal ones


def logits_astray(reference: Sequence[float], scores: Sequence[float]) -> str | None:
    """Why a backend's logits cannot be torch fp32's computed in lower precision, or None: one strays from fp32's
    further than fp32's own logits spread. Spearman cannot see a runtime that scales every logit wrong (OpenVINO
    2026.4.1 did so for one model in several streams, ranklens.backends.openvino_runtime), but the hybrid's sigmoid
    and the grades' thresholds would."""
    reference, scores = np.asarray(reference, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    spread, off = float(np.ptp(reference)), float(np.max(np.abs(scores - reference)))
    if off <= spread:
        return None
    return f"its logits stray up to {off:.3g} from torch fp32's, whose own spread is {spread:.3g}: computed wrong"


def measure(
    load: Callable[[str], object],
    pairs: Sequence[Pair],
    backends: Sequence[str] | None = None,
    timer: Callable[[], float] = time.perf_counter,
    rounds: int = ROUNDS,
    notify: Callable[[str], None] | None = None,
    progress: OnProgress | None = None,
) -> list[Measured]:
    """Each backend's median time over `rounds` on `pairs` after one warm-up, and its Spearman with torch fp32.

    Every backend is loaded (exported, where it runs an export) and warmed up first; then the rounds go through the
    backends in turn, forwards and then backwards, so that a drift in this shared machine's speed falls on all of
    them alike rather than on whichever was timed last. A backend whose first round loses fp32's ranking, or takes
    more than CLEARLY_SLOWER times the best first round of those that keep it, is not timed again: more rounds could
    not make it the choice (and a fast one that loses the ranking must not end the others' timing). `load(backend)`
    returns a reranker (anything with `.score(pairs)` and `.backend`); a backend that fails to load or run, or loads
    as another one (its runtime is missing), is measured as an error. `backends`: those this machine offers, unless
    named. `progress(done, total)` hears after each load and each round.
    """
    reference = load("torch").score(pairs)  # torch's warm-up as well
    chosen = offered() if backends is None else list(backends)
    steps = len(chosen) + rounds
    errors: dict[str, str] = {}
    ready: dict[str, object] = {}
    for step, backend in enumerate(chosen, start=1):
        if notify:
            notify(f"Loading the cross-encoder on {backend} (backend {step} of {len(chosen)})…")
        try:
            reranker = load(backend)
            if reranker.backend != backend:
                raise RuntimeError(getattr(reranker, "backend_note", None) or f"runs as {reranker.backend}")
            if backend != "torch":  # the warm-up (first calls allocate, compile and pick kernels), checked
                stray = logits_astray(reference, reranker.score(pairs))
                if stray:
                    raise RuntimeError(stray)
            ready[backend] = reranker
        except Exception as err:  # noqa: BLE001 - any runtime's failure only rules that backend out
            errors[backend] = first_line(err)[:200]
        if progress:
            progress(step, steps)
    times: dict[str, list[float]] = {backend: [] for backend in ready}
    scores: dict[str, object] = {}
    keeps: dict[str, bool] = {}  # whether a backend's first timed scores keep fp32's ranking
    for round_number in range(1, rounds + 1):
        if notify:
            notify(f"Timing {len(pairs)} pairs on each backend in turn (round {round_number} of {rounds})…")
        best = min((values[0] for b, values in times.items() if values and keeps[b]), default=math.inf)
        order = list(ready) if round_number % 2 else list(reversed(ready))  # no backend always timed last
        for backend in order:
            reranker = ready[backend]
            out_of_it = times[backend] and not (keeps[backend] and times[backend][0] <= CLEARLY_SLOWER * best)
            if backend in errors or out_of_it:
                continue
            try:
                started = timer()
                scores[backend] = reranker.score(pairs)
                times[backend].append(timer() - started)
            except Exception as err:  # noqa: BLE001
                errors[backend] = first_line(err)[:200]
                continue
            keeps.setdefault(backend, spearman(reference, scores[backend]) >= DEFAULT_MIN_SPEARMAN)
        if progress:
            progress(len(chosen) + round_number, steps)
    return [
        Measured(backend, math.inf, math.nan, errors[backend])
        if backend in errors
        else Measured(
            backend, statistics.median(times[backend]) * 100 / len(pairs), spearman(reference, scores[backend])
        )
        for backend in chosen
    ]


def choices_file() -> Path:
    """Where the measured choices are kept."""
    return data_dir() / "cache" / "backends.json"


def cached_choice(model_fingerprint: str) -> Choice | None:
    """The choice measured before for this model on this machine, if any."""
    try:
        stored = json.loads(choices_file().read_text()).get(choice_key(model_fingerprint))
    except (OSError, ValueError):
        return None
    if not stored:
        return None
    measured = tuple(Measured(**m) for m in stored["measured"])
    return Choice(choose(measured), measured, stored["machine"])  # chosen again: the rule may have changed


def calibrate(
    model_fingerprint: str,
    load: Callable[[str], object],
    pairs: Sequence[Pair],
    backends: Sequence[str] | None = None,
    notify: Callable[[str], None] | None = None,
    progress: OnProgress | None = None,
) -> Choice:
    """The cached choice for this model and machine, else measure every backend now and keep the choice."""
    found = cached_choice(model_fingerprint)
    if found is not None:
        return found
    measured = measure(load, pairs, backends, notify=notify, progress=progress)
    choice = Choice(choose(measured), tuple(measured), machine())
    path = choices_file()
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    known[choice_key(model_fingerprint)] = {
        "backend": choice.backend,
        "machine": choice.machine,
        "measured": [asdict(m) for m in measured],
    }
    cachedir.replace_file(path, json.dumps(known, indent=1))
    return choice


def calibration_pairs(queries: Sequence[str], passages: Sequence[str], count: int = PAIRS) -> list[Pair]:
    """Real pairs from the loaded corpus: its queries (or, without any, its passages' first words) against its
    passages, spread over both. Passages shorter than PASSAGE_WORDS are joined with the next ones, so that every
    pair fills the model's window as a typical abstract does: a backend's speed on very short inputs says little
    about the reranking it will do (the choice is kept for every corpus)."""
    if not passages:
        return []
    asked = list(queries) or [" ".join(p.split()[:6]) for p in passages[:8]]
    texts = [passages[(i * 7) % len(passages)] for i in range(len(passages))]
    joined, start = [], 0
    while len(joined) < count:
        words: list[str] = []
        for step in range(len(texts)):
            words += texts[(start + step) % len(texts)].split()
            if len(words) >= PASSAGE_WORDS:
                start += step + 1
                break
        else:
            start += 1
        joined.append(" ".join(words))
    return [(asked[i % len(asked)], joined[i]) for i in range(count)]


def kept_choices() -> int:
    """How many choices are kept on disk (one per machine, model and runtime versions measured)."""
    try:
        return len(json.loads(choices_file().read_text()))
    except (OSError, ValueError, TypeError):
        return 0


def forget_choice(model_fingerprint: str | None = None) -> bool:
    """Forget the choice measured for this model on this machine, or every kept choice with None, so that the next
    load measures again (a measurement taken while the machine was busy would otherwise stand for good); whether
    anything was forgotten."""
    path = choices_file()
    if model_fingerprint is None:
        existed = path.is_file()
        path.unlink(missing_ok=True)
        return existed
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if known.pop(choice_key(model_fingerprint), None) is None:
        return False
    cachedir.replace_file(path, json.dumps(known, indent=1))
    return True


def known_choice(name: str) -> Choice | None:
    """The backend measured before on this machine for cross-encoder `name` (the model a load of it uses), if any:
    read from the cache, nothing loaded or timed."""
    return cached_choice(fingerprint(in_use(name)[0]))


def forget_known_choice(name: str) -> bool:
    """Forget the backend measured on this machine for cross-encoder `name` (the model a load of it uses)."""
    return forget_choice(fingerprint(in_use(name)[0]))


def measured_backend(
    name: str,
    queries: Sequence[str],
    passages: Sequence[str],
    notify: Callable[[str], None] | None = None,
    progress: OnProgress | None = None,
) -> Choice:
    """The backend to run cross-encoder `name` on here: measured on real pairs of the loaded corpus the first time
    (the losers are unloaded afterwards), read from the cache after that."""
    found = known_choice(name)
    if found is not None:
        return found
    used, _ = in_use(name)
    pairs = calibration_pairs(queries, passages)
    choice = calibrate(
        fingerprint(used),
        lambda b: load_reranker(name, backend=b, notify=notify),
        pairs,
        notify=notify,
        progress=progress,
    )
    for backend in BACKENDS:
        if backend not in (choice.backend, "torch"):
            forget_loaded("cross", name, backend)
    return choice
