"""Choosing the cross-encoder's backend by measurement: the choice logic under a stub clock, the accuracy guard on
real models and real pairs, and the cache keyed by machine, model and runtimes."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import pytest

from conftest import STAND_IN_CE
from ranklens.models.loading import load_reranker
from ranklens.ranking.score_cache import ScoreCache, score_key
from ranklens.ranking.search import Searcher
from ranklens.speed import calibration
from ranklens.speed.calibration import Choice, Measured, cached_choice, calibrate, choice_key, choose, measure


@pytest.fixture(scope="module")
def pairs(adi):
    queries = list(adi.queries.values())
    return calibration.calibration_pairs(queries, [d.text for d in adi.documents])


class Clock:
    """A stub timer: each reading moves time on by the cost of the backend being timed, so a timed call of
    backend b takes exactly cost[b]. The rerankers it loads are real; it only learns which one is scoring."""

    def __init__(self, cost: dict[str, float]) -> None:
        self.cost, self.now, self.timing = cost, 0.0, "torch"
        self.readings = dict.fromkeys(cost, 0)

    def __call__(self) -> float:
        self.now += self.cost[self.timing]
        self.readings[self.timing] += 1
        return self.now

    def load(self, backend: str):
        return Timed(self, load_reranker(str(STAND_IN_CE), fallbacks=[], backend=backend))


class Timed:
    """A real reranker that tells the clock it is the one scoring."""

    def __init__(self, clock: Clock, reranker) -> None:
        self.clock, self.reranker, self.backend = clock, reranker, reranker.backend

    def score(self, pairs):
        self.clock.timing = self.backend
        return self.reranker.score(pairs)


@pytest.mark.parametrize("faster", ["torch", "torch-bf16"])
def test_the_faster_of_two_backends_that_keep_the_ranking_is_chosen(pairs, faster):
    slower = "torch-bf16" if faster == "torch" else "torch"
    clock = Clock({faster: 0.2, slower: 0.5})
    measured = measure(clock.load, pairs, backends=[slower, faster], timer=clock)
    by_backend = {m.backend: m for m in measured}
    assert all(m.keeps_ranking for m in measured), "both keep fp32's ranking on real pairs (the guard ran them)"
    assert by_backend[faster].seconds_per_100 == pytest.approx(0.2 * 100 / len(pairs))
    assert choose(measured) == faster


def test_a_backend_clearly_slower_after_one_round_is_not_timed_again(pairs):
    clock = Clock({"torch": 0.5, "torch-bf16": 0.2})
    steps = []
    measured = measure(
        clock.load, pairs, backends=["torch-bf16", "torch"], timer=clock, progress=lambda *s: steps.append(s)
    )
    assert clock.readings == {"torch-bf16": 2 * calibration.ROUNDS, "torch": 2}, "two readings a round"
    assert choose(measured) == "torch-bf16"
    assert steps == [(step, 2 + calibration.ROUNDS) for step in range(1, 3 + calibration.ROUNDS)], "loads, rounds"


def test_a_fast_backend_that_loses_the_ranking_does_not_end_the_others_timing(pairs):
    """onnx-int8 loses fp32's ranking on real pairs (the guard runs the real models). Were its first round the bar,
    torch-bf16 would be timed once and chosen on that one reading; the bar is the best of those that keep it."""
    clock = Clock({"torch": 0.5, "torch-bf16": 0.3, "onnx-int8": 0.1})
    measured = measure(clock.load, pairs, backends=["onnx-int8", "torch-bf16", "torch"], timer=clock)
    by_backend = {m.backend: m for m in measured}
    assert not by_backend["onnx-int8"].keeps_ranking and by_backend["torch-bf16"].keeps_ranking
    assert clock.readings == {"onnx-int8": 2, "torch-bf16": 2 * calibration.ROUNDS, "torch": 2}, (
        "torch is 1.67x torch-bf16: out after one round; onnx-int8, losing the ranking, is not timed again either"
    )
    assert choose(measured) == "torch-bf16"


class ScalingClock(Clock):
    """Loads one backend whose logits are all scaled up, as OpenVINO 2026.4.1 computed a weight-compressed int8
    model in two streams: the same ranking, every score wrong."""

    def __init__(self, cost: dict[str, float], scaled: str) -> None:
        super().__init__(cost)
        self.scaled = scaled

    def load(self, backend: str):
        timed = super().load(backend)
        if backend == self.scaled:
            score = timed.score
            timed.score = lambda pairs: score(pairs) * 1500
        return timed


def test_a_backend_whose_logits_are_scaled_wrong_is_not_chosen_though_it_keeps_the_ranking(pairs):
    clock = ScalingClock({"torch": 0.5, "torch-bf16": 0.3, "onnx": 0.1}, scaled="onnx")
    measured = {m.backend: m for m in measure(clock.load, pairs, backends=["onnx", "torch-bf16", "torch"], timer=clock)}
    assert "computed wrong" in measured["onnx"].error and clock.readings["onnx"] == 0, "ruled out before timing"
    assert measured["torch-bf16"].keeps_ranking and choose(measured.values()) == "torch-bf16"
    assert calibration.logits_astray([0.0, 1.0, 2.0], [0.1, 1.2, 1.9]) is None, "lower precision is not astray"


class SlowingClock(Clock):
    """A machine that gets slower with every timed call (by a fifth of the first cost), as a busy neighbour makes it."""

    def __call__(self) -> float:
        calls = sum(self.readings.values()) // 2
        self.now += self.cost[self.timing] * (1 + 0.2 * calls)
        self.readings[self.timing] += 1
        return self.now


def test_rounds_go_through_the_backends_in_turn_so_a_drift_hits_all_alike(pairs):
    """Timed one after the other, the backend timed second would look 40 % slower here and lose; in turn, forwards
    and backwards, the one that costs less wins."""
    clock = SlowingClock({"torch-bf16": 0.30, "torch": 0.28})
    measured = measure(clock.load, pairs, backends=["torch-bf16", "torch"], timer=clock)
    assert choose(measured) == "torch"


def test_a_fast_backend_that_loses_the_ranking_is_not_chosen():
    measured = [Measured("torch", 3.0, 1.0), Measured("onnx-int8", 1.0, 0.95), Measured("openvino", 0.5, math.nan, "x")]
    assert choose(measured) == "torch"
    assert choose([Measured("onnx-int8", 1.0, 0.9)]) == "torch", "torch fp32 when nothing keeps the ranking"


def test_an_export_within_the_margin_is_chosen_over_a_faster_torch_backend():
    close = [Measured("torch-bf16", 1.00, 1.0), Measured("openvino-bf16", 1.08, 0.999), Measured("onnx", 3.0, 1.0)]
    assert choose(close) == "openvino-bf16", "8 % slower per pair, but a new process starts it without torch"
    assert choose([Measured("torch-bf16", 1.00, 1.0), Measured("openvino-bf16", 1.15, 0.999)]) == "torch-bf16"
    assert choose([Measured("onnx", 1.00, 1.0), Measured("torch", 0.99, 1.0), Measured("openvino", 1.05, 1.0)]) == (
        "onnx"
    ), "the fastest export within the margin"
    losing = [Measured("torch-bf16", 1.00, 1.0), Measured("onnx-int8", 1.02, 0.9)]
    assert choose(losing) == "torch-bf16", "the margin never lets a backend past the guard"
    reason = Choice("openvino-bf16", tuple(close), "this machine").reason()
    assert reason.startswith("openvino-bf16: 1.08 s per 100 pairs vs torch-bf16 1.00 s") and "without torch" in reason


def test_backends_as_fast_as_each_other_are_told_apart_by_the_ranking_not_by_which_won_this_time():
    """openvino-int8 and openvino-bf16 swap places from one measurement to the next on a Zen 4: either way round,
    the one closer to fp32's ranking is the choice; further apart than SAME_SPEED, the faster one is."""
    for int8_time in (1.00, 1.04):
        tied = [Measured("openvino-bf16", 1.02, 0.9990), Measured("openvino-int8", int8_time, 0.9950)]
        assert choose(tied) == "openvino-bf16"
    assert choose([Measured("openvino-bf16", 1.10, 0.9990), Measured("openvino-int8", 1.00, 0.9950)]) == (
        "openvino-int8"
    )
    behind_torch = [
        Measured("torch-bf16", 0.95, 1.0),
        Measured("openvino-int8", 1.00, 0.9950),
        Measured("openvino-bf16", 1.03, 0.9990),
    ]
    assert choose(behind_torch) == "openvino-bf16", "the exports within START_MARGIN of torch, told apart the same way"
    reason = Choice(
        "openvino-bf16",
        (Measured("openvino-int8", 1.00, 0.995), Measured("openvino-bf16", 1.02, 0.999)),
        "this machine",
    ).reason()
    assert "within 5% and closer to torch fp32's ranking (Spearman 0.9990 vs 0.9950)" in reason, reason


def test_a_cached_measurement_is_chosen_from_again_by_todays_rule():
    measured = [Measured("torch-bf16", 1.00, 1.0), Measured("openvino-bf16", 1.05, 0.999)]
    stored = {"backend": "torch-bf16", "machine": "this machine", "measured": [asdict(m) for m in measured]}
    path = calibration.choices_file()
    known = json.loads(path.read_text()) if path.is_file() else {}  # the session's other choices stay
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**known, choice_key("model-kept"): stored}))
    assert cached_choice("model-kept").backend == "openvino-bf16"


def test_the_choice_is_cached_per_model_and_measured_again_when_the_key_changes(pairs, monkeypatch):
    clock = Clock({"torch": 0.3, "torch-bf16": 0.1})
    first = calibrate("model-a", clock.load, pairs, backends=["torch", "torch-bf16"])
    assert first.backend == "torch-bf16" and "torch-bf16: " in first.reason() and "vs torch " in first.reason()
    stored = json.loads((calibration.choices_file()).read_text())
    assert choice_key("model-a") in stored

    def must_not_measure(*args, **kwargs):
        raise AssertionError("a cached choice is not measured again")

    monkeypatch.setattr(calibration, "measure", must_not_measure)
    assert calibrate("model-a", clock.load, pairs).backend == "torch-bf16"
    with pytest.raises(AssertionError):
        calibrate("model-b", clock.load, pairs)  # another model's weights: measured afresh
    monkeypatch.setattr(calibration, "library_versions", lambda libraries: "torch=9.9")
    assert choice_key("model-a") not in stored, "a runtime's new version is a new key"


def test_calibration_pairs_come_from_the_corpus_and_fill_the_window(adi):
    texts = [d.text for d in adi.documents]
    made = calibration.calibration_pairs(list(adi.queries.values()), texts)
    assert len(made) == calibration.PAIRS
    assert {q for q, _ in made} <= set(adi.queries.values())
    words = set(" ".join(texts).split())
    assert all(set(p.split()) <= words for _, p in made), "the corpus's own words"
    assert all(len(p.split()) >= calibration.PASSAGE_WORDS for _, p in made), "short abstracts joined: a full window"
    assert len(set(made)) == calibration.PAIRS, "no pair twice"
    assert len({p for _, p in made}) > len(texts) / 4, "spread over the corpus"
    no_queries = calibration.calibration_pairs([], ["alpha beta gamma delta", "epsilon zeta"])
    assert no_queries and all(q in ("alpha beta gamma delta", "epsilon zeta") for q, _ in no_queries)


def test_the_score_cache_key_changes_with_the_model_the_backend_and_the_budget(reranker):
    bf16 = load_reranker(str(STAND_IN_CE), fallbacks=[], backend="torch-bf16")
    pair = ("query", "a passage")
    base = score_key(reranker.fingerprint, reranker.budget(), *pair)
    assert score_key(bf16.fingerprint, bf16.budget(), *pair) != base, "another backend"
    assert score_key(reranker.fingerprint.replace(str(STAND_IN_CE), "other"), reranker.budget(), *pair) != base
    assert score_key(reranker.fingerprint, reranker.budget(96), *pair) != base, "another budget"
    assert reranker.budget(10_000) == reranker.max_tokens, "a budget never exceeds the window"


def test_a_token_budget_is_what_the_cross_encoder_reads(adi, adi_dense, reranker):
    query = next(iter(adi.queries.values()))
    window = Searcher(adi_dense, reranker, score_cache=ScoreCache()).search(query, top_n=20)
    calls = reranker.calls
    cache = ScoreCache()
    short = Searcher(adi_dense, reranker, score_cache=cache, ce_max_tokens=32).search(query, top_n=20)
    assert reranker.calls == calls + 1, "a new budget is scored afresh"
    assert short.timings.pairs_scored == 20
    cut = sum(c.ce_truncated for c in short.candidates)
    assert cut > sum(c.ce_truncated for c in window.candidates), "32 tokens cut more passages than the window"
    assert [c.ce_score for c in short.candidates] != [c.ce_score for c in window.candidates]
