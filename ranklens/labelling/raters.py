"""Raters: how far several people's grades for the same pairs agree."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import combinations

import pandas as pd

from ranklens.labelling.labels import GRADES, Judgement

COLUMNS = ["rater A", "rater B", "pairs both judged", "exact agreement", "weighted kappa"]


def agreement(judgements: Iterable[Judgement]) -> pd.DataFrame:
    """For each pair of raters: how many pairs both graded, exact agreement, and quadratic-weighted Cohen's kappa."""
    from sklearn.metrics import cohen_kappa_score

    by_rater: dict[str, dict[tuple[str, str, str], int]] = defaultdict(dict)
    for j in judgements:
        if j.grade is not None:
            by_rater[j.rater][(j.corpus, j.query_id, j.doc_id)] = j.grade
    rows = []
    for first, second in combinations(sorted(by_rater), 2):
        shared = sorted(set(by_rater[first]) & set(by_rater[second]))
        if not shared:
            continue
        a = [by_rater[first][k] for k in shared]
        b = [by_rater[second][k] for k in shared]
        exact = sum(x == y for x, y in zip(a, b)) / len(shared)
        varied = len(set(a) | set(b)) > 1
        kappa = cohen_kappa_score(a, b, weights="quadratic", labels=sorted(GRADES)) if varied else float("nan")
        rows.append(dict(zip(COLUMNS, [first, second, len(shared), round(exact, 3), round(float(kappa), 3)])))
    return pd.DataFrame(rows, columns=COLUMNS)
