"""Comparing rankings without judgements: how far two rankers, or two backends, agree."""

from __future__ import annotations

from collections.abc import Sequence


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation of two score lists over the same items (1 = the same order)."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)
