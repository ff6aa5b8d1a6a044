import numpy as np
import pytest

from ranklens.ranking import fusion


def test_hybrid_is_the_seed_formula():
    bi, ce = np.array([0.8, 0.2]), np.array([-1.0, 3.0])
    expected = 0.3 * bi + 0.7 / (1 + np.exp(-ce))
    assert fusion.fuse(bi, ce, 0.3) == pytest.approx(expected)


def test_alpha_endpoints_are_the_two_rankings():
    bi = np.array([0.9, 0.5, 0.7, 0.1])
    ce = np.array([-2.0, 4.0, 0.5, 1.0])
    assert list(fusion.ranks(fusion.fuse(bi, ce, 1.0))) == list(fusion.ranks(bi))
    assert list(fusion.ranks(fusion.fuse(bi, ce, 0.0))) == list(fusion.ranks(ce))


def test_ranks_are_one_based_and_ties_keep_input_order():
    assert list(fusion.ranks(np.array([0.1, 0.9, 0.9, 0.5]))) == [4, 1, 2, 3]


def test_minmax_and_rrf():
    bi = np.array([1.0, 0.0, 0.5])
    ce = np.array([0.0, 10.0, 5.0])
    assert fusion.fuse(bi, ce, 0.5, "minmax") == pytest.approx([0.5, 0.5, 0.5])
    rrf = fusion.fuse(bi, ce, 0.5, "rrf")
    assert rrf[2] == pytest.approx(0.5 / 62 + 0.5 / 62)
    assert fusion.fuse(np.array([2.0, 2.0]), np.array([1.0, 1.0]), 0.5, "minmax") == pytest.approx([0, 0])


def test_bad_alpha_and_method():
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        fusion.fuse(np.zeros(1), np.zeros(1), 1.5)
    with pytest.raises(ValueError, match="unknown fusion method 'magic'"):
        fusion.fuse(np.zeros(1), np.zeros(1), 0.5, "magic")


@pytest.mark.parametrize(
    "before, after, top_k, label",
    [
        (5, 2, 10, "▲3"),
        (1, 6, 10, "▼5"),
        (4, 4, 10, "="),
        (40, 3, 10, "new"),
        (10, 10, 10, "="),
        (40, 26, 10, "▲14"),  # outside the top-k before and after: it moved, it did not enter
        (28, 28, 10, "="),
        (3, 26, 10, "▼23"),  # left the top-k
    ],
)
def test_rank_shift_labels(before, after, top_k, label):
    assert fusion.shift(before, after, top_k).label == label
