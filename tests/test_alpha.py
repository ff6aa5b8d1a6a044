"""The honest alpha: picked on the other folds, measured on the held-out one (on real data: test_evaluate)."""

from __future__ import annotations

import numpy as np
import pytest

from ranklens.evaluation.alpha import choose_alpha, fold_ids


def test_folds_deal_every_query_once():
    queries = [f"q{i}" for i in range(23)]
    folds = fold_ids(queries, 5, seed=3)
    assert len(folds) == 5 and sorted(q for f in folds for q in f) == sorted(queries)
    assert fold_ids(queries, 5, seed=3) == folds, "seeded"


def test_two_folds_by_hand():
    # alphas 0 and 1; q1 and q2 like alpha 1, q3 and q4 like alpha 0 (q4 strongly)
    queries = ["q1", "q2", "q3", "q4"]
    scores = np.array([[0.2, 0.2, 0.6, 0.9], [0.5, 0.5, 0.4, 0.1]])
    assert fold_ids(queries, 2) == [["q3", "q2"], ["q1", "q4"]]
    choice = choose_alpha(queries, scores, [0.0, 1.0], folds=2)
    # in sample: alpha 0 averages (0.2 + 0.2 + 0.6 + 0.9) / 4 = 0.475, alpha 1 0.375
    assert choice.in_sample_alpha == 0.0 and choice.in_sample == pytest.approx(0.475)
    # fold q3, q2: trained on q1, q4 (alpha 0: 0.55, alpha 1: 0.30) -> alpha 0 -> held out 0.6 and 0.2
    # fold q1, q4: trained on q3, q2 (alpha 0: 0.40, alpha 1: 0.45) -> alpha 1 -> held out 0.5 and 0.1
    assert choice.fold_alphas == (0.0, 1.0)
    assert choice.cross_validated == pytest.approx((0.6 + 0.2 + 0.5 + 0.1) / 4)  # 0.35, below the in-sample 0.475
    assert choice.cross_validated_alpha == 0.5, "the median of the folds' picks"
