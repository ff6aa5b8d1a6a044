"""Judging queues: the order in which a rater is shown (query, document) pairs to judge.

The blind order shuffles a query's pooled candidates so that no ranker's order sways the
judgement; it is the default, for unbiased judging.
"""

from __future__ import annotations

import random
from collections.abc import Iterable


def pool(rankings: Iterable[Iterable[str]], seed: str) -> list[str]:
    """The union of several rankings' documents in an order that hides every ranker's order.

    Shuffled with a seed (the query), so a rater who comes back sees the same order.
    """
    unique = sorted({doc_id for ranking in rankings for doc_id in ranking})
    random.Random(seed).shuffle(unique)
    return unique
