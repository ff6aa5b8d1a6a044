"""Throughput: how long the loaded cross-encoder takes to rerank 10, 100, 1000 candidates."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import cycle, islice

from ranklens.models import Reranker

DEFAULT_SIZES = (10, 100, 1000)


@dataclass(frozen=True)
class ThroughputRow:
    candidates: int
    median_ms: float
    pairs_per_s: float
    repeats: int


def rerank_throughput(
    reranker: Reranker,
    queries: Sequence[str],
    passages: Sequence[str],
    sizes: Sequence[int] = DEFAULT_SIZES,
    repeats: int = 3,
    batch_size: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> list[ThroughputRow]:
    """Median wall time of scoring N (query, passage) pairs, for each N; passages repeat when the corpus is smaller."""
    if not queries or not passages:
        raise ValueError("throughput needs at least one query and one passage")
    rows = []
    steps = len(sizes) * repeats
    for step_size_index, size in enumerate(sizes):
        query = queries[step_size_index % len(queries)]
        pairs = [(query, passage) for passage in islice(cycle(passages), size)]
        seconds = []
        for repeat in range(repeats):
            started = time.perf_counter()
            reranker.score(pairs, batch_size=batch_size)
            seconds.append(time.perf_counter() - started)
            if progress:
                progress(step_size_index * repeats + repeat + 1, steps)
        median = statistics.median(seconds)
        rows.append(ThroughputRow(size, median * 1000, size / median, repeats))
    return rows
