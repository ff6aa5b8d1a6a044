"""bf16, ONNX Runtime and OpenVINO backends against torch fp32, on real (query, abstract) pairs and real models."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import STAND_IN_CE
from ranklens.backends import registry
from ranklens.backends.exports import cached_export, export, stored_format
from ranklens.backends.openvino_runtime import openvino_forward, quantize_static_int8
from ranklens.backends.registry import DEFAULT_MIN_SPEARMAN, MIN_SPEARMAN, fp32_reference, gpu_missing, offered
from ranklens.models.batching import pad
from ranklens.models.files import fingerprint
from ranklens.models.loading import forget_loaded, load_embedder, load_reranker
from ranklens.ranking.compare import spearman
from ranklens.settings import data_dir
from ranklens.speed.calibration import measured_backend

LOWER_PRECISION = [b for b in offered() if b != "torch"]
# Each bi-encoder backend's embeddings against torch fp32's, as the lowest cosine over real abstracts.
# onnx-int8 is far off (0.90) and is listed so, not hidden.
MIN_EMBEDDING_COSINE = {
    "torch-bf16": 0.995,
    "onnx": 0.9999,
    "onnx-int8": 0.85,
    "openvino": 0.9999,
    "openvino-bf16": 0.995,
    "openvino-int8": 0.995,
    "openvino-int8-static": 0.95,
    "cuda": 0.995,
}
# Each cross-encoder backend's largest logit difference from torch fp32 (the stand-in's logits span about -8 to 6).
# Spearman alone would pass a backend whose logits were all scaled wrong; the hybrid's sigmoid would not.
MAX_LOGIT_DIFF = {
    "torch-bf16": 0.25,
    "onnx": 1e-3,
    "onnx-int8": 2.5,
    "openvino": 1e-3,
    "openvino-bf16": 0.25,
    "openvino-int8": 0.75,
    "openvino-int8-static": 1.5,
    "cuda": 0.25,
}


@pytest.fixture(scope="module")
def adi_pairs(adi, adi_searcher):
    """The bi-encoder's top 40 abstracts for 5 adi queries: the pairs a reranker really sees."""
    queries = list(adi.judged_queries().values())[:5]
    return [(q, adi.get(doc_id).full_text) for q in queries for doc_id in adi_searcher.retrieve(q, 40)]


@pytest.fixture(scope="module")
def torch_scores(reranker, adi_pairs):
    return reranker.score(adi_pairs)


def forget(backend: str) -> None:
    forget_loaded("cross", str(STAND_IN_CE), backend)


def exports() -> dict[str, int]:
    return {str(path): path.stat().st_mtime_ns for path in (data_dir() / "exports").rglob("*") if path.is_file()}


@pytest.mark.parametrize("backend", LOWER_PRECISION)
def test_backends_agree_with_torch_fp32(backend, adi_pairs, torch_scores):
    fast = load_reranker(str(STAND_IN_CE), fallbacks=[], backend=backend)
    assert fast.backend == backend and fast.backend_note is None
    scores = fast.score(adi_pairs)
    agreement = spearman(scores, torch_scores)
    print(f"\n{backend}: Spearman {agreement:.4f}, max |logit diff| {np.abs(scores - torch_scores).max():.4f}")
    assert agreement >= MIN_SPEARMAN[backend]
    assert scores == pytest.approx(torch_scores, abs=MAX_LOGIT_DIFF[backend])


@pytest.mark.parametrize("backend", LOWER_PRECISION)
def test_bi_encoder_backends_agree_with_torch_fp32(backend, embedder, adi):
    texts = [doc.full_text for doc in adi.documents[:48]]
    fast = load_embedder(embedder.name, backend=backend)
    assert fast.backend == backend and fast.backend_note is None
    assert fast.fingerprint != embedder.fingerprint, "an index built by another backend must not share the cache"
    cosines = (fast.encode(texts) * embedder.encode(texts)).sum(axis=1)
    print(f"\n{backend}: embedding cosine with fp32 min {cosines.min():.5f}, mean {cosines.mean():.5f}")
    assert cosines.min() >= MIN_EMBEDDING_COSINE[backend]


def test_exporting_leaves_the_torch_model_as_it_was(reranker, adi_pairs, torch_scores):
    """The ONNX export traces the very module torch runs; it must come back in eval mode (no dropout)."""
    assert reranker.score(adi_pairs) == pytest.approx(torch_scores, abs=1e-5)
    assert not reranker.model.transformers_model.training


def test_the_measured_default_keeps_the_ranking_on_real_pairs(adi, adi_pairs, torch_scores):
    choice = measured_backend(str(STAND_IN_CE), list(adi.queries.values()), [d.text for d in adi.documents])
    assert {m.backend for m in choice.measured} == set(offered()), "every backend offered was timed"
    chosen = load_reranker(str(STAND_IN_CE), fallbacks=[], backend=choice.backend)
    assert spearman(chosen.score(adi_pairs), torch_scores) >= DEFAULT_MIN_SPEARMAN


@pytest.mark.parametrize("backend", ["onnx-int8", "openvino-int8"])
def test_a_second_load_reuses_the_export(backend, adi_pairs):
    first = load_reranker(str(STAND_IN_CE), fallbacks=[], backend=backend)
    before = exports()
    forget(backend)
    messages = []
    second = load_reranker(str(STAND_IN_CE), fallbacks=[], backend=backend, notify=messages.append)
    assert second is not first
    assert second.score(adi_pairs[:5]) == pytest.approx(first.score(adi_pairs[:5]))
    assert second.runnable and not second.exported and messages == []  # run from the export alone, if deferred
    assert exports() == before, "nothing exported or rewritten"


def test_an_export_missing_its_weights_file_is_made_again(adi_pairs, torch_scores):
    """The fp32 ONNX export is two files; one left alone (a partial copy, a hand-made cleanup) is a damaged export."""
    first = load_reranker(str(STAND_IN_CE), fallbacks=[], backend="onnx")
    first.score(adi_pairs[:2])
    graph = cached_export(fingerprint(first.name), "onnx", first.max_tokens)
    weights = graph.with_name("model.onnx.data")
    weights.unlink()
    forget("onnx")
    again = load_reranker(str(STAND_IN_CE), fallbacks=[], backend="onnx")
    assert again.score(adi_pairs) == pytest.approx(torch_scores, abs=1e-3)
    assert weights.is_file() and cached_export(fingerprint(first.name), "onnx", first.max_tokens) == graph


@pytest.mark.parametrize(
    ("backend", "runtime"), [("onnx", "onnxruntime"), ("openvino", "openvino"), ("openvino-int8", "nncf")]
)
def test_missing_runtime_falls_back_to_torch_and_says_so(
    monkeypatch, backend, runtime, adi_pairs, torch_scores, embedder
):
    forget(backend)
    monkeypatch.setitem(sys.modules, runtime, None)
    reranker = load_reranker(str(STAND_IN_CE), fallbacks=[], backend=backend)
    assert reranker.backend == "torch"
    assert f"needs {runtime}, which is not installed" in reranker.backend_note and "torch fp32" in reranker.backend_note
    assert reranker.score(adi_pairs[:8]) == pytest.approx(torch_scores[:8], abs=1e-5)
    forget(backend)
    forget_loaded("bi", embedder.name, backend)
    bi = load_embedder(embedder.name, backend=backend)
    assert bi.backend == "torch" and "not installed" in bi.backend_note and bi.fingerprint == embedder.fingerprint
    forget_loaded("bi", embedder.name, backend)


@pytest.mark.skipif(gpu_missing("cuda") is None, reason="this machine has a GPU: cuda runs for real")
def test_cuda_without_a_gpu_is_not_offered_and_runs_torch_fp32_saying_so(adi_pairs, torch_scores, embedder):
    assert "cuda" not in offered()
    forget("cuda")
    reranker = load_reranker(str(STAND_IN_CE), fallbacks=[], backend="cuda")
    assert reranker.backend == "torch" and "no CUDA GPU" in reranker.backend_note
    assert reranker.score(adi_pairs[:8]) == pytest.approx(torch_scores[:8], abs=1e-5)
    forget("cuda")
    forget_loaded("bi", embedder.name, "cuda")
    bi = load_embedder(embedder.name, backend="cuda")
    assert bi.backend == "torch" and "no CUDA GPU" in bi.backend_note and bi.fingerprint == embedder.fingerprint
    forget_loaded("bi", embedder.name, "cuda")


def test_length_sorted_batches_keep_the_order(reranker, adi_pairs, torch_scores):
    shuffled = list(reversed(adi_pairs))
    assert reranker.score(shuffled) == pytest.approx(torch_scores[::-1], abs=1e-4)
    one_by_one = np.array([reranker.score([pair])[0] for pair in adi_pairs[:6]])
    assert one_by_one == pytest.approx(torch_scores[:6], abs=1e-4)


@pytest.mark.parametrize("backend", [b for b in offered() if b.startswith("openvino")])
def test_openvino_in_one_stream_per_core_scores_as_one_stream_does(backend, adi_pairs, embedder, adi):
    """A batch split across streams, each part cut to its own longest pair, must give each pair its own score; and
    a backend that OpenVINO computes wrong in several streams must stay in one."""
    model = load_reranker(str(STAND_IN_CE), fallbacks=[], backend=backend)
    path = cached_export(fingerprint(model.name), stored_format(backend), model.max_tokens)
    one, split = openvino_forward(path, backend, streams=1), openvino_forward(path, backend)
    encoded, _ = model.tokenize(adi_pairs[:40])
    lengths = [len(ids) for ids in encoded["input_ids"]]
    by_length = np.argsort(lengths)
    assert lengths[by_length[3]] < lengths[by_length[6]], "the first part is shorter: the split cuts its padding"
    # bf16 rounds a part cut to its own width a little differently from the whole batch; a wrong result is far off
    tolerance = 1e-4 if backend == "openvino" else 0.05
    for rows in (by_length[:7], by_length[:2], by_length[:1], np.arange(40)):
        feed = pad(model.batch_tokenizer, encoded, rows)
        assert split(feed) == pytest.approx(one(feed), abs=tolerance), f"{len(rows)} rows"

    bi = load_embedder(embedder.name, backend=backend)
    bi_path = cached_export(fingerprint(bi.name), stored_format(backend), bi.max_tokens)
    texts = [doc.full_text for doc in adi.documents[:5]]
    feed = pad(bi.batch_tokenizer, bi.batch_tokenizer(texts, truncation=True, max_length=bi.max_tokens), range(5))
    tokens = openvino_forward(bi_path, backend)(feed)
    assert tokens.shape[:2] == feed["input_ids"].shape, "token embeddings keep the batch's width"
    assert tokens == pytest.approx(openvino_forward(bi_path, backend, streams=1)(feed), abs=tolerance)


def test_the_torch_build_is_read_without_importing_torch_as_torch_itself_says(monkeypatch):
    import torch

    cpu_only = torch.version.cuda is None and torch.version.hip is None
    monkeypatch.delitem(sys.modules, "torch")  # as in a process that has not imported it yet
    assert registry._torch_build_has_no_gpu() == cpu_only
    assert "torch" not in sys.modules, "read from torch/version.py, not imported"


def test_the_fp32_reference_scores_as_torch_fp32_does(adi_pairs, torch_scores):
    """The app checks a lower-precision backend against ONNX Runtime's fp32 export, so that the check needs no torch:
    that is only sound while its logits are torch fp32's."""
    assert fp32_reference("torch-bf16") == fp32_reference("openvino-int8") == "onnx"
    assert fp32_reference("onnx") == "torch", "the ONNX export itself is checked against torch"
    reference = load_reranker(str(STAND_IN_CE), fallbacks=[], backend=fp32_reference("torch-bf16"))
    assert reference.backend == "onnx" and reference.backend_note is None
    assert reference.score(adi_pairs) == pytest.approx(torch_scores, abs=1e-4)


def test_nncf_reports_its_quantization_on_stderr_not_in_a_commands_output(reranker, tmp_path, capfd):
    model = reranker.model
    source, _ = export(model.transformers_model, model.tokenizer, fingerprint(reranker.name), "onnx", 64, pair=True)
    capfd.readouterr()
    quantize_static_int8(source, tmp_path / "int8.xml", model.tokenizer, pair=True, samples=8)
    out, err = capfd.readouterr()
    assert (tmp_path / "int8.xml").is_file()
    assert "Statistics collection" in err, "its progress is still shown"
    assert out == "", "stdout is what a command prints: a table, a run file"
