from dataclasses import replace

from ranklens.corpus.chunking import ChunkSettings
from ranklens.corpus.corpus import Corpus
from ranklens.index.dense import DenseRetriever
from ranklens.index.embeddings import cache_key, embed_corpus


def test_embeddings_hold_every_passage_and_report_progress(adi, embedder, tmp_path):
    seen = []
    index = embed_corpus(adi, embedder, cache_dir=tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert not index.from_cache
    assert index.doc_count == 82 and index.passage_count >= 82
    assert index.vectors.shape == (index.passage_count, 384)
    assert DenseRetriever(index, embedder).index.ntotal == index.passage_count
    assert seen[-1] == (index.passage_count, index.passage_count)
    assert {p.doc_id for p in index.passages} == {d.id for d in adi.documents}


def test_second_build_loads_from_disk_without_embedding(adi, embedder, tmp_path):
    first = embed_corpus(adi, embedder, cache_dir=tmp_path)
    calls = embedder.calls
    second = embed_corpus(adi, embedder, cache_dir=tmp_path)
    assert second.from_cache and embedder.calls == calls
    assert second.key == first.key and list(second.passages) == list(first.passages)
    query = embedder.encode(["computer indexing"])
    found = [DenseRetriever(e, embedder).index.search(query, 5)[1] for e in (first, second)]
    assert (found[0] == found[1]).all()


def test_cache_key_changes_with_corpus_model_settings(adi, embedder):
    base = cache_key(adi, embedder, ChunkSettings())
    edited = Corpus(adi.name, [replace(adi.documents[0], text=adi.documents[0].text + " edited"), *adi.documents[1:]])
    assert cache_key(edited, embedder, ChunkSettings()) != base
    assert cache_key(adi, embedder, ChunkSettings(overlap=16)) != base
    other_model = type(embedder)("another/model", embedder.model)
    assert cache_key(adi, other_model, ChunkSettings()) != base


def test_a_damaged_cache_is_replaced_and_the_next_build_loads_from_disk(adi, embedder, tmp_path):
    index = embed_corpus(adi, embedder, cache_dir=tmp_path)
    (tmp_path / index.key / "vectors.npy").write_bytes(b"\x93NUMPY truncated")
    rebuilt = embed_corpus(adi, embedder, cache_dir=tmp_path)
    assert not rebuilt.from_cache and rebuilt.passage_count == index.passage_count
    calls = embedder.calls
    again = embed_corpus(adi, embedder, cache_dir=tmp_path)
    assert again.from_cache and embedder.calls == calls, "the damaged copy was replaced, not left in the way"
    assert sorted(p.name for p in tmp_path.iterdir()) == [index.key], "nothing left aside"


def test_staging_folders_left_by_a_crash_are_cleaned(adi, embedder, tmp_path):
    import os
    import time

    crashed = tmp_path / f".{'0' * 24}-staging-abcd1234"
    crashed.mkdir()
    (crashed / "index.faiss").write_bytes(b"half written")
    recent = tmp_path / f".{'1' * 24}-staging-efgh5678"  # another process may still be writing this one
    recent.mkdir()
    hour_ago = time.time() - 3700
    os.utime(crashed, (hour_ago, hour_ago))
    mine = tmp_path / "notes-of-the-user"
    mine.mkdir()
    embed_corpus(adi, embedder, cache_dir=tmp_path)
    assert not crashed.exists() and recent.exists() and mine.exists(), "only our own stale staging folders go"
