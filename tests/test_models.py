import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from conftest import SHARED, STAND_IN_CE
from ranklens.index.query_vectors import query_vector
from ranklens.models import loading
from ranklens.models.embedder import QUERY_ENCODER_TEXTS
from ranklens.models.files import local_folder, model_kind
from ranklens.models.loading import DEFAULT_CROSS_ENCODER, ModelError, forget_loaded, load_embedder, load_reranker
from ranklens.models.tokens import Tokens
from ranklens.ranking.search import load_ahead

BI = "sentence-transformers/all-MiniLM-L6-v2"


def test_bi_encoder_loads_by_its_hub_id_offline(embedder):
    vectors = embedder.encode(["reranking", "a snake"])
    assert vectors.shape == (2, 384)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)


def test_default_cross_encoder_falls_back_and_says_so():
    reranker = load_reranker(DEFAULT_CROSS_ENCODER, fallbacks=[str(STAND_IN_CE)])
    assert reranker.name == str(STAND_IN_CE)
    assert reranker.requested == DEFAULT_CROSS_ENCODER
    assert DEFAULT_CROSS_ENCODER in reranker.fallback_reason and "fallback" in reranker.fallback_reason


def test_fallback_list_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RANKLENS_CE_FALLBACKS", f"/nowhere/model{__import__('os').pathsep}{STAND_IN_CE}")
    reranker = load_reranker(DEFAULT_CROSS_ENCODER)
    assert reranker.name == str(STAND_IN_CE) and reranker.fallback_reason


def test_no_fallback_is_a_clear_error():
    with pytest.raises(ModelError, match="no cross-encoder could be loaded .*set RANKLENS_CE_FALLBACKS"):
        load_reranker(DEFAULT_CROSS_ENCODER, fallbacks=[])


def test_wrong_kinds_are_rejected():
    assert model_kind(BI) == "bi" and model_kind(str(STAND_IN_CE)) == "cross"
    with pytest.raises(ModelError, match="is a bi-encoder .* pick a cross-encoder"):
        load_reranker(BI, fallbacks=[])
    with pytest.raises(ModelError, match="is a cross-encoder .* pick a bi-encoder"):
        load_embedder(str(STAND_IN_CE))


def test_scores_are_raw_logits_not_sigmoid(reranker):
    pairs = [("what is python", "Python is a programming language."), ("what is python", "The weather is mild.")]
    tokenizer = AutoTokenizer.from_pretrained(str(STAND_IN_CE))
    model = AutoModelForSequenceClassification.from_pretrained(str(STAND_IN_CE)).eval()
    with torch.no_grad():
        batch = tokenizer(
            [q for q, _ in pairs], [p for _, p in pairs], padding=True, truncation=True, return_tensors="pt"
        )
        logits = model(**batch).logits[:, 0].numpy()
    assert reranker.score(pairs) == pytest.approx(logits, abs=1e-4)
    assert (logits < 0).any(), "at least one of these pairs has a negative logit, which a sigmoid could not give"


def test_score_keeps_the_input_order_despite_length_sorting(reranker):
    passages = ["short", "a much longer passage about python programming and its many libraries", "mid length text"]
    pairs = [("python", p) for p in passages]
    together = reranker.score(pairs)
    alone = np.array([reranker.score([pair])[0] for pair in pairs])
    assert together == pytest.approx(alone, abs=1e-4)


def test_truncation_flags_what_the_window_cuts(reranker):
    just_fits = " ".join(["token"] * (reranker.max_tokens - 4))  # [CLS] q [SEP] ... [SEP]
    pairs = [("q", "short passage"), ("q", " ".join(["token"] * 400)), ("q", just_fits), ("q", just_fits + " token")]
    encoded, truncated = reranker.tokenize(pairs)
    assert truncated.tolist() == [False, True, False, True]
    assert [len(ids) for ids in encoded["input_ids"]][1:] == [reranker.max_tokens] * 3
    whole = reranker.model.tokenizer([q for q, _ in pairs], [p for _, p in pairs])["input_ids"]
    assert truncated.tolist() == [len(ids) > reranker.max_tokens for ids in whole]


PAIRS = [("how do snakes eat", "Pythons swallow their prey whole after constricting it."), ("tax law", "A python.")]


def _linked_copy(source: Path, folder: Path) -> Path:
    """A model folder of links to `source`'s files: another model name, the same weights, nothing copied."""
    folder.mkdir()
    for entry in source.iterdir():
        (folder / entry.name).symlink_to(entry.resolve())
    return folder


def _as_a_new_process(kind: str, name: str, backend: str = "torch") -> None:
    """Forget what this process holds of the model (its object and its weights), as a new process starts."""
    forget_loaded(kind, name, backend)
    for key in [key for key in loading._weights if key[1] == name]:
        del loading._weights[key]


def test_a_load_done_before_leaves_the_weights_on_disk_until_a_pair_is_scored(tmp_path):
    model = str(_linked_copy(STAND_IN_CE, tmp_path / "ce"))
    first = load_reranker(model, fallbacks=[])
    assert first.loaded
    expected = first.score(PAIRS)
    _as_a_new_process("cross", model)
    again = load_reranker(model, fallbacks=[])
    assert not again.loaded, "remembered: nothing read yet"
    assert (again.name, again.fingerprint, again.max_tokens) == (first.name, first.fingerprint, first.max_tokens)
    assert again.score(PAIRS) == pytest.approx(expected, abs=1e-5)
    assert again.loaded and again.calls == 1 and again.load_ms > 0


def test_a_remembered_bi_encoder_embeds_as_the_loaded_one(tmp_path):
    model = str(
        _linked_copy(
            next((SHARED / "models" / "hf-cache").glob(f"models--*{BI.split('/')[1]}/snapshots/*")), tmp_path / "bi"
        )
    )
    first = load_embedder(model)
    expected = first.encode(["reranking"])
    _as_a_new_process("bi", model)
    again = load_embedder(model)
    assert not again.loaded and (again.dimension, again.max_tokens) == (first.dimension, first.max_tokens)
    assert again.encode(["reranking"]) == pytest.approx(expected, abs=1e-6)
    # embedded by the fp32 export of the same weights, with a torch-free tokenizer: the model itself stayed on disk
    assert again.runnable and not again.loaded and isinstance(again.batch_tokenizer, Tokens)
    texts = ["what is information retrieval", "a much longer text " * 60, "x"]
    assert again.encode(texts) == pytest.approx(first.encode(texts), abs=1e-5)
    assert not again.loaded, "a few texts: still the query encoder"
    many = [f"document number {i} of an index being built" for i in range(QUERY_ENCODER_TEXTS + 1)]
    assert again.encode(many) == pytest.approx(first.encode(many), abs=1e-5)
    assert again.loaded, "an index being built: torch embeds it"


def test_a_remembered_export_backend_scores_from_the_export_alone():
    model = str(STAND_IN_CE)  # its onnx export is made once for the whole test session (calibration, backends)
    first = load_reranker(model, fallbacks=[], backend="onnx")
    pairs = [*PAIRS, ("long passages are cut at the window", "word " * 400)]
    expected, expected_cut = first.score_with_truncation(pairs)
    _as_a_new_process("cross", model, "onnx")
    again = load_reranker(model, fallbacks=[], backend="onnx")
    scores, cut = again.score_with_truncation(pairs)
    assert scores == pytest.approx(expected, abs=1e-5) and cut.tolist() == expected_cut.tolist() == [False, False, True]
    assert again.runnable and not again.loaded and isinstance(again.batch_tokenizer, Tokens)
    assert again.calls == 1 and again.load_ms > 0


def test_new_weights_are_loaded_before_use_not_taken_from_the_remembered_load(tmp_path):
    model = tmp_path / "ce"
    _linked_copy(STAND_IN_CE, model)
    first = load_reranker(str(model), fallbacks=[])
    (model / "model.safetensors").unlink()
    shutil.copyfile(STAND_IN_CE / "model.safetensors", model / "model.safetensors")  # retrained, say: a new file
    _as_a_new_process("cross", str(model))
    again = load_reranker(str(model), fallbacks=[])
    assert again.loaded and again.fingerprint != first.fingerprint


def test_a_remembered_model_that_no_longer_loads_says_so_and_loads_its_fallback_next_time(tmp_path):
    model = tmp_path / "ce"
    _linked_copy(STAND_IN_CE, model)
    fallbacks = [str(STAND_IN_CE)]
    assert load_reranker(str(model), fallbacks=fallbacks).name == str(model)
    (model / "config.json").unlink()
    (model / "config.json").write_text("{ damaged")  # the weights are as they were: the fingerprint still holds
    _as_a_new_process("cross", str(model))
    deferred = load_reranker(str(model), fallbacks=fallbacks)
    assert not deferred.loaded
    with pytest.raises(ModelError, match=f"loaded as {STAND_IN_CE} .* run again"):
        deferred.score(PAIRS)
    _as_a_new_process("cross", str(model))
    again = load_reranker(str(model), fallbacks=fallbacks)
    assert again.loaded and again.name == str(STAND_IN_CE) and "could not be loaded" in again.fallback_reason


def test_a_query_not_embedded_before_loads_both_exports_ahead_and_a_cached_one_loads_nothing(tmp_path):
    bi = str(
        _linked_copy(
            next((SHARED / "models" / "hf-cache").glob(f"models--*{BI.split('/')[1]}/snapshots/*")), tmp_path / "bi"
        )
    )
    ce = str(STAND_IN_CE)  # its onnx export is made once for the whole test session
    loaded_bi, loaded_ce = load_embedder(bi), load_reranker(ce, fallbacks=[], backend="onnx")
    query_vector(loaded_bi, "a query embedded before")
    expected = loaded_ce.score(PAIRS)
    _as_a_new_process("bi", bi)
    _as_a_new_process("cross", ce, "onnx")
    again_bi, again_ce = load_embedder(bi), load_reranker(ce, fallbacks=[], backend="onnx")
    assert load_ahead("a query embedded before", again_bi, again_ce) is None, "the cache answers it: nothing loads"
    assert not again_bi.runnable and not again_ce.runnable
    thread = load_ahead("a query never embedded", again_bi, again_ce)
    assert thread is not None
    thread.join(timeout=120)
    assert again_bi.runnable and again_ce.runnable and not again_bi.loaded and not again_ce.loaded, "the exports"
    assert again_bi.load_ms == again_ce.load_ms == 0, "loaded before any call needed them: nobody waited"
    assert again_ce.score(PAIRS) == pytest.approx(expected, abs=1e-5) and again_ce.load_ms == 0
    assert load_ahead("another new query", again_bi, again_ce) is None, "both runnable already"


def test_a_call_during_a_load_ahead_waits_for_it_and_counts_the_wait_as_loading():
    ce = str(STAND_IN_CE)
    expected = load_reranker(ce, fallbacks=[], backend="onnx").score(PAIRS)
    _as_a_new_process("cross", ce, "onnx")
    again = load_reranker(ce, fallbacks=[], backend="onnx")
    inside, go_on, loads = threading.Event(), threading.Event(), []
    light = again._light  # the export's load, held on an event so that the load ahead surely holds the lock

    def held_load():
        loads.append(threading.current_thread().name)
        inside.set()
        assert go_on.wait(60)
        return light()

    again._light = held_load
    ahead = threading.Thread(target=again.load_ahead, name="ahead")
    ahead.start()
    assert inside.wait(60), "the load ahead is loading"
    scored = []
    call = threading.Thread(target=lambda: scored.append(again.score(PAIRS)), name="call")
    call.start()
    call.join(timeout=0.5)
    assert call.is_alive(), "the call waits for the load ahead"
    go_on.set()
    ahead.join()
    call.join()
    assert loads == ["ahead"], "loaded once, by the load ahead"
    assert scored[0] == pytest.approx(expected, abs=1e-5), "scored once the export was ready"
    assert again.calls == 1 and again.load_ms >= 400 and not again.loaded, "the wait counts as loading"


def test_only_torch_is_warmed_up_at_load(reranker):
    """torch's first calls are several times slower than the rest; an export's are 10-30 % slower per batch shape,
    less than the warm-up's two batches cost (Reranker.warm_up)."""
    export = load_reranker(str(STAND_IN_CE), fallbacks=[], backend="onnx")
    passes = {}
    for model in (reranker, export):
        counted, forward = [], model.forward
        model.forward = lambda feed, forward=forward, counted=counted: counted.append(feed) or forward(feed)
        try:
            model.warm_up()
        finally:
            model.forward = forward
        passes[model.backend] = len(counted)
    assert passes == {reranker.backend: 2, "onnx": 0}


def test_the_hub_cache_is_read_as_huggingface_hub_reads_it():
    from huggingface_hub import try_to_load_from_cache

    for name in (BI, DEFAULT_CROSS_ENCODER, "nobody/no-such-model"):
        cached = try_to_load_from_cache(name, "config.json")
        assert local_folder(name) == (Path(cached).parent if isinstance(cached, str) else None), name
    assert local_folder(BI) is not None, "../shared's hub cache holds the bi-encoder"
