"""Fine-tuning on scifact's real train split: a sample small enough for a CPU in a couple of minutes."""

from __future__ import annotations

import random
import threading
from dataclasses import replace

import pytest

from conftest import STAND_IN_CE, dataset
from ranklens import inference
from ranklens.corpus.beir import load_beir
from ranklens.corpus.corpus import Corpus
from ranklens.evaluation.evaluate import judged
from ranklens.index.dense import DenseRetriever
from ranklens.index.embeddings import embed_corpus
from ranklens.models.loading import load_reranker
from ranklens.ranking.search import Searcher
from ranklens.training.data import TrainingData, TrainingError, TrainSettings, build_training_data, split_queries
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


def one_step_of(scifact_sample) -> tuple[TrainingData, TrainSettings]:
    """One batch of real training pairs and four held-out queries: a training of one step."""
    corpus = scifact_sample.corpus
    settings = TrainSettings(epochs=1, batch_size=16, hard_negatives=1, random_negatives=0, heldout_candidates=10)
    data = build_training_data(scifact_sample, corpus.queries, corpus.qrels, settings)
    heldout = data.heldout_queries[:4]
    return (
        replace(
            data,
            pairs=data.pairs[:16],
            heldout_queries=heldout,
            heldout_candidates={q: data.heldout_candidates[q] for q in heldout},
        ),
        settings,
    )


def lock_free_within(seconds: float) -> bool:
    """Whether another thread (a search) gets the forward-pass lock within `seconds`."""
    got = []

    def attempt() -> None:
        got.append(inference.LOCK.acquire(timeout=seconds))
        if got[-1]:
            inference.LOCK.release()

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join()
    return got[0]


def test_a_training_step_that_fails_lets_go_of_the_forward_pass_lock(scifact_sample, tmp_path, monkeypatch):
    """A step raises inside the real trainer's loop while it holds the lock every search waits on; afterwards a
    search gets the lock at once."""
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    data, settings = one_step_of(scifact_sample)
    free_during_the_step = []

    def failing(self, *args, **kwargs):
        free_during_the_step.append(lock_free_within(0.2))
        raise RuntimeError("a step that fails")

    monkeypatch.setattr(BinaryCrossEntropyLoss, "forward", failing)
    with pytest.raises(RuntimeError, match="a step that fails"):
        train(scifact_sample, scifact_sample.corpus.queries, data, settings, tmp_path / "tuned")
    assert free_during_the_step == [False], "the step held the lock while it ran"
    assert lock_free_within(10), "the failed step let go of the lock"


def test_training_never_deletes_a_folder_it_did_not_make(scifact_sample, tmp_path):
    """The output folder is empty when training starts; a file of the user's appears in it while the real trainer
    runs. Saving refuses, the user's file survives, and the trainer's own work folder is gone."""
    data, settings = one_step_of(scifact_sample)
    output = tmp_path / "tuned"
    output.mkdir()
    progress = TrainingProgress(on_epoch=lambda row: (output / "thesis.tex").write_text("years of work"))
    with pytest.raises(TrainingError, match="already exists and is not empty"):
        train(scifact_sample, scifact_sample.corpus.queries, data, settings, output, progress)
    assert (output / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in output.iterdir()) == ["thesis.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tuned"], "no work folder left beside it"
