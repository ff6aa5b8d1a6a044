"""bf16 and ONNX Runtime backends against torch fp32, on real (query, abstract) pairs and the real stand-in model."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import STAND_IN_CE
from ranklens import models
from ranklens.backends import DEFAULT_MIN_SPEARMAN, MIN_SPEARMAN, default_backend, native_bf16, spearman
from ranklens.models import load_reranker


@pytest.fixture(scope="module")
def adi_pairs(adi, adi_searcher):
    """The bi-encoder's top 40 abstracts for 5 adi queries: the pairs a reranker really sees."""
    queries = list(adi.judged_queries().values())[:5]
    return [(q, adi.get(doc_id).full_text) for q in queries for doc_id in adi_searcher.retrieve(q, 40)]


@pytest.fixture(scope="module")
def torch_scores(reranker, adi_pairs):
    return reranker.score(adi_pairs)


def forget(backend: str) -> None:
    models._rerankers.pop((str(STAND_IN_CE), backend), None)


@pytest.mark.parametrize("backend", ["torch-bf16", "onnx", "onnx-int8"])
def test_backends_agree_with_torch_fp32(backend, adi_pairs, torch_scores):
    fast = load_reranker(str(STAND_IN_CE), fallbacks=[], backend=backend)
    assert fast.backend == backend and fast.backend_note is None
    scores = fast.score(adi_pairs)
    agreement = spearman(scores, torch_scores)
    print(f"\n{backend}: Spearman {agreement:.4f}, max |logit diff| {np.abs(scores - torch_scores).max():.4f}")
    assert agreement >= MIN_SPEARMAN[backend]
    if backend == "onnx":
        assert scores == pytest.approx(torch_scores, abs=1e-3)


def test_the_default_backend_meets_the_default_threshold():
    assert MIN_SPEARMAN[default_backend()] >= DEFAULT_MIN_SPEARMAN if default_backend() != "torch" else True
    assert default_backend() == ("torch-bf16" if native_bf16() else "torch")


def test_a_second_load_reuses_the_export(adi_pairs):
    first = load_reranker(str(STAND_IN_CE), fallbacks=[], backend="onnx-int8")
    path = first.onnx_scorer.path
    stamp = path.stat().st_mtime_ns
    forget("onnx-int8")
    messages = []
    second = load_reranker(str(STAND_IN_CE), fallbacks=[], backend="onnx-int8", notify=messages.append)
    assert second is not first and not second.exported and messages == []
    assert second.onnx_scorer.path == path and path.stat().st_mtime_ns == stamp
    assert second.score(adi_pairs[:5]) == pytest.approx(first.score(adi_pairs[:5]))


def test_missing_runtime_falls_back_to_torch_and_says_so(monkeypatch, adi_pairs, torch_scores):
    forget("onnx")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.setitem(sys.modules, "onnxruntime.quantization", None)
    reranker = load_reranker(str(STAND_IN_CE), fallbacks=[], backend="onnx")
    assert reranker.backend == "torch" and reranker.onnx_scorer is None
    assert "not available" in reranker.backend_note and "torch" in reranker.backend_note
    assert reranker.score(adi_pairs[:8]) == pytest.approx(torch_scores[:8], abs=1e-5)
    forget("onnx")


def test_length_sorted_batches_keep_the_order(reranker, adi_pairs, torch_scores):
    shuffled = list(reversed(adi_pairs))
    assert reranker.score(shuffled) == pytest.approx(torch_scores[::-1], abs=1e-4)
    one_by_one = np.array([reranker.score([pair])[0] for pair in adi_pairs[:6]])
    assert one_by_one == pytest.approx(torch_scores[:6], abs=1e-4)
