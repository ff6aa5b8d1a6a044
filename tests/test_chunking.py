import pytest

from ranklens.corpus.chunking import ChunkSettings, chunk_documents
from ranklens.corpus.corpus import Document
from ranklens.corpus.docstore import DocStore


def test_long_document_becomes_overlapping_passages_within_the_window(embedder):
    words = [f"word{i}" for i in range(600)]
    doc = Document(id="long", text=" ".join(words))
    settings = ChunkSettings(max_tokens=128, overlap=16)
    passages = chunk_documents(
        DocStore.from_documents([doc, Document(id="short", text="a short one")]), embedder.tokenizer, settings
    )
    long_passages = [p for p in passages if p.doc_id == "long"]
    assert len(long_passages) > 1 and all(p.of == len(long_passages) for p in long_passages)
    for passage in long_passages:
        tokens = embedder.tokenizer(passage.text, add_special_tokens=False)["input_ids"]
        assert len(tokens) <= settings.window
    # every word is in some passage, and consecutive passages share text
    seen = set(" ".join(p.text for p in long_passages).split())
    assert seen == set(words)
    first, second = long_passages[0].text.split(), long_passages[1].text.split()
    assert first[-1] in second
    short = [p for p in passages if p.doc_id == "short"]
    assert len(short) == 1 and short[0].text == "a short one" and short[0].of == 1


def test_title_is_part_of_what_is_chunked(embedder):
    passages = chunk_documents(
        DocStore.from_documents([Document(id="d", title="Pythons", text="constrict prey")]),
        embedder.tokenizer,
        ChunkSettings(),
    )
    assert passages[0].text == "Pythons constrict prey"


def test_overlap_must_fit_the_window():
    with pytest.raises(ValueError, match="overlap"):
        ChunkSettings(max_tokens=32, overlap=30)
