"""Comparing rankings without judgements: how far two rankers (or two backends) agree.

For two ranked lists of document ids: overlap@k (documents both top-k lists share), Jaccard@k
(shared over the union), rank-biased overlap (RBO, Webber, Moffat and Zobel 2010: p = 0.9,
extrapolated to the lists' full depth as their RBO_ext), and Kendall's tau over the documents
both lists rank. Spearman's rho compares two score lists over the same items.

Both correlations are computed with NumPy: importing scipy.stats takes about a second, which the app's first
results would wait for. tests/test_compare.py holds both to scipy's, ties included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

RBO_P = 0.9
DEFAULT_K = 10


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing the mean of the ranks they span (scipy.stats.rankdata's "average", less one)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(values)])
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(starts + (sizes - 1) / 2, sizes)
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation of two score lists over the same items (1 = the same order; nan when either
    list is constant or holds a nan)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) != len(y):
        raise ValueError(f"spearman needs two lists of one length, not {len(x)} and {len(y)}")
    if len(x) < 2 or np.isnan(x).any() or np.isnan(y).any():
        return float("nan")
    rx, ry = _average_ranks(x) - (len(x) - 1) / 2, _average_ranks(y) - (len(y) - 1) / 2
    scale = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry / scale) if scale else float("nan")


def overlap(first: Sequence[str], second: Sequence[str], k: int = DEFAULT_K) -> int:
    """How many documents the two top-k lists share."""
    return len(set(first[:k]) & set(second[:k]))


def jaccard(first: Sequence[str], second: Sequence[str], k: int = DEFAULT_K) -> float:
    """Shared documents over all documents of the two top-k lists (1 = the same set)."""
    union = set(first[:k]) | set(second[:k])
    return len(set(first[:k]) & set(second[:k])) / len(union) if union else 1.0


def rbo(first: Sequence[str], second: Sequence[str], p: float = RBO_P) -> float:
    """Extrapolated rank-biased overlap (RBO_ext, equation 32 of Webber et al. 2010) of two rankings without
    duplicates, possibly of different lengths; 1 = the same ranking, 0 = nothing shared. The top of the
    lists weighs most: with p = 0.9, the first 10 ranks carry 86 % of the weight."""
    if not first and not second:
        return 1.0
    long_, short_ = (list(first), list(second)) if len(first) >= len(second) else (list(second), list(first))
    s, length = len(short_), len(long_)
    if s == 0:
        return 0.0
    seen_long, seen_short = set(), set()
    overlaps = np.zeros(length + 1)
    shared = 0
    for depth in range(1, length + 1):
        item_long = long_[depth - 1]
        item_short = short_[depth - 1] if depth <= s else None
        if item_long in seen_short:
            shared += 1
        seen_long.add(item_long)
        if item_short is not None:
            if item_short in seen_long:
                shared += 1
            seen_short.add(item_short)
        overlaps[depth] = shared
    x_s, x_l = overlaps[s], overlaps[length]
    total = sum(overlaps[d] / d * p**d for d in range(1, length + 1))
    total += sum(x_s * (d - s) / (s * d) * p**d for d in range(s + 1, length + 1))
    return float((1 - p) / p * total + ((x_l - x_s) / length + x_s / s) * p**length)


def kendall_tau(first: Sequence[str], second: Sequence[str]) -> float:
    """Kendall's tau between the two rankings' orders of the documents both contain (nan below two). A ranking
    holds each document once, so there are no ties and tau-b is tau-a: 1 - 2 * discordant pairs / all pairs."""
    in_second = {doc: rank for rank, doc in enumerate(second)}
    ranks = np.array([in_second[doc] for doc in first if doc in in_second])
    n = len(ranks)
    if n < 2:
        return float("nan")
    discordant = int(np.triu(ranks[:, None] > ranks[None, :], k=1).sum())  # n is a few hundred at most
    return 1 - 4 * discordant / (n * (n - 1))


@dataclass(frozen=True)
class Agreement:
    """How two rankings of one query agree, without judgements."""

    overlap: int  # at k
    jaccard: float  # at k
    rbo: float  # p = 0.9, extrapolated
    kendall_tau: float  # over the shared documents
    k: int = DEFAULT_K


def agreement(first: Sequence[str], second: Sequence[str], k: int = DEFAULT_K) -> Agreement:
    """Every label-free measure of two rankings of the same query (RBO over the whole lists given)."""
    return Agreement(
        overlap(first, second, k), jaccard(first, second, k), rbo(first, second), kendall_tau(first, second), k
    )


def mean_agreement(pairs: Mapping[str, tuple[Sequence[str], Sequence[str]]], k: int = DEFAULT_K) -> dict[str, float]:
    """Each measure averaged over a query set: query id -> (first ranking, second ranking)."""
    rows = [asdict(agreement(a, b, k)) for a, b in pairs.values()]
    if not rows:
        return {}
    return {
        name: float(np.nanmean([row[name] for row in rows])) for name in ("overlap", "jaccard", "rbo", "kendall_tau")
    }
