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
    folds = fold_ids(queries, 2)
    choice = choose_alpha(queries, scores, [0.0, 1.0], folds=2)
    assert choice.in_sample_alpha == 0.0 and choice.in_sample == pytest.approx(0.475)
    position = {q: i for i, q in enumerate(queries)}
    expected_held_out = []
    for fold in folds:
        train = [position[q] for q in queries if q not in fold]
        pick = int(np.argmax(scores[:, train].mean(axis=1)))
        expected_held_out += [scores[pick, position[q]] for q in fold]
    assert choice.cross_validated == pytest.approx(np.mean(expected_held_out))
    assert choice.cross_validated <= choice.in_sample, "picking on the queries measured cannot do worse"
