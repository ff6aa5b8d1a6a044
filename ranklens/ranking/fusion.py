"""Fusion: combine bi-encoder and cross-encoder scores into one ranking, and rank shifts.

`hybrid` is the product's blend, `alpha * bi + (1 - alpha) * sigmoid(ce)`, where alpha is
the bi-encoder's weight (0 = cross-encoder only, 1 = bi-encoder only). Min-max and
reciprocal-rank fusion are offered as labelled alternatives. All of it is arithmetic on
scores already computed: no model runs here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_ALPHA = 0.5
RRF_K = 60

METHODS = {
    "hybrid": "alpha·bi + (1−alpha)·sigmoid(CE)",
    "minmax": "alpha·minmax(bi) + (1−alpha)·minmax(CE), per query",
    "rrf": f"reciprocal-rank fusion, alpha-weighted: alpha/({RRF_K}+rank_bi) + (1−alpha)/({RRF_K}+rank_CE)",
}


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """The logistic function, in float64 (cross-encoder logits to 0..1)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks, highest score first; ties keep the input order, so results are stable."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    result = np.empty(len(order), dtype=np.int64)
    result[order] = np.arange(1, len(order) + 1)
    return result


def _minmax(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    spread = values.max() - values.min() if len(values) else 0.0
    return np.zeros_like(values) if spread == 0 else (values - values.min()) / spread


def fuse(bi: np.ndarray, ce: np.ndarray, alpha: float, method: str = "hybrid", bi_bounded: bool = True) -> np.ndarray:
    """Fused scores for candidates whose first-stage and cross-encoder scores are given.

    `bi_bounded` False (BM25, a run's scores): the hybrid min-max scales the first-stage scores
    per query first, so that an unbounded score cannot drown the cross-encoder's sigmoid.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    bi = np.asarray(bi, dtype=np.float64)
    ce = np.asarray(ce, dtype=np.float64)
    if method == "hybrid":
        return alpha * (bi if bi_bounded else _minmax(bi)) + (1.0 - alpha) * sigmoid(ce)
    if method == "minmax":
        return alpha * _minmax(bi) + (1.0 - alpha) * _minmax(ce)
    if method == "rrf":
        return alpha / (RRF_K + ranks(bi)) + (1.0 - alpha) / (RRF_K + ranks(ce))
    raise ValueError(f"unknown fusion method {method!r}; choose from {', '.join(METHODS)}")


@dataclass(frozen=True)
class Shift:
    """How a document moved from a baseline ranking to another one."""

    change: int | None  # places moved up (negative: down); None when it entered the top-k from outside it

    @property
    def label(self) -> str:
        """The arrow shown: ▲n, ▼n, = or new."""
        if self.change is None:
            return "new"
        if self.change > 0:
            return f"▲{self.change}"
        if self.change < 0:
            return f"▼{-self.change}"
        return "="


def shift(baseline_rank: int, rank: int, top_k: int) -> Shift:
    """A document at `rank` now, `baseline_rank` before: 'new' only where it entered the top-k from outside the
    baseline's top-k; elsewhere the places it moved, whatever the ranks."""
    return Shift(None if rank <= top_k < baseline_rank else baseline_rank - rank)
