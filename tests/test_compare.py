"""Label-free comparison, checked on cases computed by hand from the definitions (Webber et al. 2010 for RBO) and,
for the rank correlations, against scipy.stats."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from ranklens.ranking.compare import agreement, jaccard, kendall_tau, mean_agreement, overlap, rbo, spearman


def test_overlap_and_jaccard_by_hand():
    first, second = ["a", "b", "c", "d"], ["c", "a", "e", "f"]
    assert overlap(first, second, 4) == 2 and jaccard(first, second, 4) == pytest.approx(2 / 6)
    assert overlap(first, second, 1) == 0 and jaccard(first, second, 1) == 0.0
    assert jaccard([], [], 10) == 1.0


def test_rbo_by_hand():
    p = 0.9
    assert rbo(list("abcdef"), list("abcdef")) == pytest.approx(1.0)
    assert rbo(list("abc"), list("xyz")) == pytest.approx(0.0)
    # two items swapped: X1 = 0, X2 = 2 -> (1-p)/p * (0 + 2/2 p^2) + (0 + 2/2) p^2 = p(1-p) + p^2 = p
    assert rbo(["a", "b"], ["b", "a"]) == pytest.approx(p)
    # the same first item, then different: X1 = 1, X2 = 1 -> (1-p)/p (p + p^2/2) + (1/2) p^2
    assert rbo(["a", "b"], ["a", "c"]) == pytest.approx((1 - p) / p * (p + p**2 / 2) + p**2 / 2)
    # uneven lengths, S = [a], L = [a, b]: s = 1, l = 2, X1 = 1, X2 = 1
    # sum X_d/d p^d = p + p^2/2; tail X_s (d-s)/(s d) p^d at d = 2: 1/2 p^2; end ((X_l - X_s)/l + X_s/s) p^l = p^2
    expected = (1 - p) / p * (p + p**2 / 2 + p**2 / 2) + p**2
    assert rbo(["a"], ["a", "b"]) == pytest.approx(expected) == pytest.approx(rbo(["a", "b"], ["a"]))
    assert rbo(list("abcdefghij"), list("abcdefghij")[::-1]) < rbo(list("abcdefghij"), list("bacdefghij")) < 1


def test_kendall_tau_over_the_shared_documents():
    assert kendall_tau(list("abcd"), list("abcd")) == pytest.approx(1.0)
    assert kendall_tau(list("abcd"), list("dcba")) == pytest.approx(-1.0)
    assert kendall_tau(list("abcx"), list("ybac")) == pytest.approx(1 / 3), "a,b,c against b,a,c: 2 of 3 pairs agree"
    assert math.isnan(kendall_tau(["a", "b"], ["a", "z"]))


def test_agreement_over_a_query_set_is_the_mean():
    pairs = {"q1": (list("abcd"), list("abcd")), "q2": (list("abcd"), list("wxyz"))}
    mean = mean_agreement(pairs, k=4)
    assert mean["overlap"] == 2 and mean["jaccard"] == pytest.approx(0.5) and mean["rbo"] == pytest.approx(0.5)
    assert mean["kendall_tau"] == pytest.approx(1.0), "a query sharing no document has no tau: left out"
    assert agreement(list("abcd"), list("abcd"), 4).rbo == pytest.approx(1.0)


def test_kendall_tau_is_scipys_on_random_rankings():
    rng = np.random.default_rng(7)
    ours, scipys = [], []
    for size in (2, 3, 10, 200):
        docs = [f"d{i}" for i in range(size)]
        first, second = list(rng.permutation(docs)), list(rng.permutation(docs))
        second = second[: max(2, size - 3)] + ["other"]  # some documents only the first ranks
        in_second = {doc: rank for rank, doc in enumerate(second)}
        shared = [doc for doc in first if doc in in_second]
        scipys.append(kendalltau(range(len(shared)), [in_second[doc] for doc in shared]).statistic)
        ours.append(kendall_tau(first, second))
    assert len(ours) == 4 and ours == pytest.approx(scipys, abs=1e-12)


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")  # a constant list: nan from both
def test_spearman_is_scipys_with_and_without_ties():
    rng = np.random.default_rng(11)
    for size in (2, 5, 48, 300):
        a = rng.normal(size=size)
        b = a + rng.normal(scale=0.5, size=size)
        tied_a, tied_b = np.round(a, 1), np.round(b, 0)  # bf16-like scores share values
        for x, y in ((a, b), (tied_a, tied_b), (a, -a), (tied_a, tied_a)):
            assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12, nan_ok=True)
    assert spearman([1, 2, 3], [3, 1, 2]) == pytest.approx(-0.5)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3])), "a constant list has no rank correlation"
    assert math.isnan(spearman([1, float("nan"), 3], [1, 2, 3]))
    with pytest.raises(ValueError, match="one length"):
        spearman([1, 2], [1, 2, 3])
