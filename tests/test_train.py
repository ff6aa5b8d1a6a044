"""Fine-tuning on scifact's real train split: a sample small enough for a CPU in a couple of minutes."""

from __future__ import annotations

import random

import pytest

from conftest import STAND_IN_CE, dataset
from ranklens.corpus.beir import load_beir
from ranklens.corpus.corpus import Corpus
from ranklens.evaluation.evaluate import judged
from ranklens.index.dense import DenseRetriever
from ranklens.index.embeddings import embed_corpus
from ranklens.models.loading import load_reranker
from ranklens.ranking.search import Searcher
from ranklens.training.data import TrainSettings, build_training_data, split_queries
from ranklens.training.train import TrainingProgress, train, tuned_models

QUERIES = 40
DISTRACTORS = 200


@pytest.fixture(scope="module")
def scifact_sample(embedder):
    """40 train-split claims, their cited abstracts, and 200 other abstracts to mine negatives from."""
    full = load_beir(dataset("scifact"), split="train")
    qids = sorted(judged(full.qrels))[:QUERIES]
    cited = {doc for q in qids for doc in full.qrels[q]}
    others = [d for d in full.documents if d.id not in cited]
    docs = [d for d in full.documents if d.id in cited] + random.Random(0).sample(others, DISTRACTORS)
    corpus = Corpus("scifact-train-sample", docs, queries=full.queries, qrels={q: full.qrels[q] for q in qids})
    stage = DenseRetriever(embed_corpus(corpus, embedder), embedder)
    return Searcher(stage, load_reranker(str(STAND_IN_CE), fallbacks=[]))


def test_split_by_query_is_disjoint_and_seeded():
    ids = [f"q{i}" for i in range(20)]
    train_ids, heldout = split_queries(ids, 0.25, seed=3)
    assert len(heldout) == 5 and not set(train_ids) & set(heldout) and sorted(train_ids + heldout) == sorted(ids)
    assert split_queries(ids, 0.25, seed=3) == (train_ids, heldout)


def test_training_data_targets_and_negatives(scifact_sample):
    corpus = scifact_sample.corpus
    settings = TrainSettings(hard_negatives=3, random_negatives=1)
    data = build_training_data(scifact_sample, corpus.queries, corpus.qrels, settings)
    assert not set(data.train_queries) & set(data.heldout_queries)
    assert set(data.heldout_candidates) == set(data.heldout_queries)
    summary = data.summary()
    assert summary["positives"] == sum(len(corpus.qrels[q]) for q in data.train_queries)
    assert summary["negatives"] == 4 * len(data.train_queries)
    assert {t for _, _, t in data.pairs} == {0.0, 1.0}, "binary qrels: relevant is the top of the scale"
    heldout_texts = {corpus.queries[q] for q in data.heldout_queries}
    assert not any(query in heldout_texts for query, _, _ in data.pairs)


def test_fine_tune_keeps_the_best_heldout_epoch(scifact_sample, tmp_path, capsys):
    corpus = scifact_sample.corpus
    settings = TrainSettings(
        epochs=2,
        batch_size=16,
        learning_rate=3e-5,
        hard_negatives=3,
        random_negatives=1,
        heldout_fraction=0.25,
        heldout_candidates=20,
    )
    data = build_training_data(scifact_sample, corpus.queries, corpus.qrels, settings)
    progress = TrainingProgress()
    output = tmp_path / "project" / "models" / "tuned"
    result = train(scifact_sample, corpus.queries, data, settings, output, progress)
    with capsys.disabled():
        print("\n" + result.comparison.to_string(float_format=lambda v: f"{v:.4f}") + "\n" + result.verdict)
    assert progress.state == "done" and progress.step == progress.total_steps > 0 and progress.loss is not None
    assert [row["epoch"] for row in result.history] == [0, 1, 2]
    best_seen = max(row["held-out ndcg@10"] for row in result.history)
    assert result.comparison.loc[("tuned", "reranked"), "ndcg@10"] == pytest.approx(best_seen, abs=1e-9)
    assert result.comparison.loc[("base", "reranked"), "ndcg@10"] == pytest.approx(
        result.history[0]["held-out ndcg@10"]
    )
    assert (output / "RANKLENS_MODEL_CARD.md").is_file() and (output / "model.safetensors").is_file()
    assert tuned_models(tmp_path / "project") == [output]
    reloaded = load_reranker(str(output), fallbacks=[])
    assert reloaded.name == str(output) and reloaded.fallback_reason is None
