import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from conftest import STAND_IN_CE
from ranklens.models.files import model_kind
from ranklens.models.loading import DEFAULT_CROSS_ENCODER, ModelError, load_embedder, load_reranker

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
