"""Streaming ingestion: group by group, resumable after a kill, ending with the same files as an unbroken run."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import dataset
from ranklens.corpus.beir import load_beir
from ranklens.corpus.corpus import CorpusError
from ranklens.corpus.stored import stored_corpora
from ranklens.index.embeddings import embed_corpus
from ranklens.index.ingest import IngestSettings, ingest


def test_an_interrupted_ingestion_resumes_to_the_same_index_as_an_unbroken_one(embedder, tmp_path, monkeypatch):
    settings = IngestSettings(group=16)  # small groups: adi's 82 documents make six checkpoints
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path / "unbroken"))
    unbroken = ingest([dataset("adi")], embedder, settings=settings)
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path / "interrupted"))
    assert ingest([dataset("adi")], embedder, settings=settings, stop_after_groups=2) is None  # killed after two
    heard = []
    resumed = ingest([dataset("adi")], embedder, settings=settings, progress=heard.append)
    assert resumed.resumed_at == 32 and heard[0].documents == 48 and heard[-1].documents == 82
    assert heard[-1].docs_per_second > 0 and heard[-1].eta_seconds == 0
    assert resumed.corpus.key == unbroken.corpus.key and len(resumed.corpus) == 82
    assert resumed.corpus.content_hash() == unbroken.corpus.content_hash()
    assert np.array_equal(np.asarray(resumed.embeddings.vectors), np.asarray(unbroken.embeddings.vectors))
    for column in ("document", "number", "of", "start", "end"):
        assert np.array_equal(resumed.embeddings.passages.columns[column], unbroken.embeddings.passages.columns[column])
    direct = load_beir(dataset("adi"))
    assert resumed.corpus.key == direct.key, "the same corpus as any load: the same labels"
    assert [d for d in resumed.corpus.documents] == [d for d in direct.documents], "ids, titles and texts"
    assert not list((tmp_path / "interrupted" / "ingest").iterdir()), "the work folder is gone once done"


def test_an_ingested_corpus_is_found_by_every_later_load(embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    done = ingest([dataset("adi") / "corpus.jsonl"], embedder)
    calls = embedder.calls
    again = embed_corpus(done.corpus, embedder)
    assert again.from_cache and embedder.calls == calls
    with pytest.raises(Exception, match="duplicate document id"):
        bad = tmp_path / "dupes.jsonl"
        bad.write_text('{"_id": "1", "text": "a"}\n{"_id": "1", "text": "b"}\n')
        ingest([bad], embedder)


def test_an_id_repeated_in_a_later_group_is_refused_naming_both_lines(embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    bad = tmp_path / "late-dupe.jsonl"
    bad.write_text("".join(f'{{"_id": "{i}", "text": "text {n}"}}\n' for n, i in enumerate(["a", "b", "c", "a"])))
    with pytest.raises(CorpusError, match=r"duplicate document id 'a': in .*late-dupe.jsonl:1 and .*:4"):
        ingest([bad], embedder, settings=IngestSettings(group=2))
    assert stored_corpora() == {}, "nothing stored"
