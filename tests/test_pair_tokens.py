"""Pairs put together from cached passage ids against transformers' tokenizer tokenizing the pairs whole."""

import json
import shutil

import numpy as np
import pytest
from tokenizers import Tokenizer
from transformers import AutoTokenizer

from conftest import STAND_IN_CE, kept_passages
from ranklens.cache_bounds import Bound
from ranklens.index import passage_tokens as index_tokens
from ranklens.index.passage_tokens import fill_passage_tokens
from ranklens.models import pair_tokens
from ranklens.models.files import local_folder
from ranklens.models.loading import DEFAULT_CROSS_ENCODER
from ranklens.models.pair_tokens import PairTokenizer, cut_lengths
from ranklens.models.tokens import Tokens

BI = "sentence-transformers/all-MiniLM-L6-v2"


class CountingTokenizer:
    """A `tokenizers.Tokenizer` that counts the texts it encodes in batches."""

    def __init__(self, inner) -> None:
        self.inner, self.texts = inner, 0

    def encode_batch(self, texts, **options):
        self.texts += len(texts)
        return self.inner.encode_batch(texts, **options)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("model", [str(STAND_IN_CE), BI])
def test_pairs_from_cached_ids_are_the_tokenizers_own(model, adi):
    theirs = AutoTokenizer.from_pretrained(str(local_folder(model)))
    ours = PairTokenizer.of(theirs)
    assert ours is not None and ours.template.added == 3  # [CLS] query [SEP] passage [SEP]
    queries = list(adi.queries.values())[:14]
    passages = [doc.full_text for doc in adi.documents[:14]]
    queries[0] = "a query far longer than its passage " * 30  # the query is cut, not the passage
    queries[1] = passages[1] = "both long enough to be cut in half " * 40
    passages[2] = ""
    passages[3] = "Ünïcödé, emoji 🐍 and\ttabs\n" + passages[3]
    pairs = list(zip(queries, passages))
    for limit in (32, 64, 97, 192):
        mine, cut = ours.encode(pairs, limit)
        reference = theirs(queries, passages, truncation=True, max_length=limit)
        for name in ("input_ids", "token_type_ids", "attention_mask"):
            assert [row.tolist() for row in mine[name]] == reference[name], (name, limit)
        assert cut.tolist() == [bool(e.overflowing) for e in reference.encodings], limit
        assert cut.any() and not cut.all()


def test_the_cut_is_the_tokenizers_longest_first_rule():
    tokenizer = Tokenizer.from_file(str(STAND_IN_CE / "tokenizer.json"))
    x, y = (tokenizer.token_to_id(word) for word in ("x", "y"))
    differ, tried = [], 0
    for room in range(9):
        tokenizer.enable_truncation(room + 3, strategy="longest_first")
        for first in range(12):
            for second in range(12):
                ids = tokenizer.encode(" ".join("x" * first), " ".join("y" * second)).ids
                tried += 1
                if cut_lengths(first, second, room) != (ids.count(x), ids.count(y)):
                    differ.append((first, second, room))
    assert tried == 9 * 12 * 12 and differ == []


def test_a_passage_is_tokenized_once_in_any_process(adi):
    passages = [f"{doc.full_text} (tokenized once)" for doc in adi.documents[20:30]]  # texts no other test reranks
    first = PairTokenizer.of(Tokens(STAND_IN_CE))
    counted = first._tokenizer = CountingTokenizer(first._tokenizer)
    first.encode([("one query", p) for p in passages], 192)
    assert counted.texts == 1 + len(passages)  # the query, then each passage
    first.encode([("another query", p) for p in passages], 192)
    assert counted.texts == 1 + len(passages) + 1  # only the new query: the passages are in memory

    again = PairTokenizer.of(AutoTokenizer.from_pretrained(str(STAND_IN_CE)))  # as a new process: nothing in memory
    assert again.key == first.key, "the same tokenizer.json, read by transformers or by ranklens.models.tokens"
    counted = again._tokenizer = CountingTokenizer(again._tokenizer)
    ids = again.passage_ids(passages)
    assert counted.texts == 0, "read from $RANKLENS_HOME/cache/passage_tokens.sqlite"
    assert all(np.array_equal(a, b) for a, b in zip(ids, first.passage_ids(passages)))


def test_an_index_is_tokenized_once_when_built_and_a_first_reranking_tokenizes_only_its_query(
    adi_dense, tmp_path, monkeypatch
):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    passages = adi_dense.passages
    assert fill_passage_tokens(adi_dense, str(STAND_IN_CE)) == len(passages)
    assert kept_passages(tmp_path) == len(passages)
    assert fill_passage_tokens(adi_dense, str(STAND_IN_CE)) == 0, "recorded as done"
    # the default cross-encoder, which falls back to the stand-in here, is the same model: done too
    assert fill_passage_tokens(adi_dense, DEFAULT_CROSS_ENCODER) == 0
    as_loaded = PairTokenizer.of(AutoTokenizer.from_pretrained(str(STAND_IN_CE)))  # a torch backend's, new process
    counted = as_loaded._tokenizer = CountingTokenizer(as_loaded._tokenizer)
    hits = adi_dense.retrieve("computer retrieval of documents by their words", 20).hits
    as_loaded.encode([("computer retrieval", passages.text(hit.passage)) for hit in hits], 192)
    assert counted.texts == 1, "the query alone: every candidate's ids were on disk"
    assert kept_passages(tmp_path) == len(passages)


def test_an_index_too_big_to_tokenize_at_once_is_left_to_its_rerankings(adi_dense, tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    monkeypatch.setattr(index_tokens, "MAX_PASSAGES", len(adi_dense.passages) - 1)
    assert index_tokens.fill_passage_tokens(adi_dense, str(STAND_IN_CE)) is None
    assert kept_passages(tmp_path) == 0


def test_ids_are_kept_per_tokenizer_definition(tmp_path):
    """The key is the tokenizer's definition: the bi-encoder's tokenizer.json differs from the stand-in's only in
    its truncation and padding settings (which are not part of the ids) and shares its ids; a tokenizer that keeps
    case does not."""
    stand_in = PairTokenizer.of(Tokens(STAND_IN_CE))
    assert PairTokenizer.of(Tokens(local_folder(BI))).key == stand_in.key
    definition = json.loads((STAND_IN_CE / "tokenizer.json").read_text(encoding="utf-8"))
    definition["normalizer"]["lowercase"] = False
    (tmp_path / "tokenizer.json").write_text(json.dumps(definition), encoding="utf-8")
    shutil.copy(STAND_IN_CE / "tokenizer_config.json", tmp_path)
    cased = PairTokenizer.of(Tokens(tmp_path))
    assert cased.key != stand_in.key
    assert [ids.tolist() for ids in cased.passage_ids(["Python"])] != [
        ids.tolist() for ids in stand_in.passage_ids(["Python"])
    ]


def test_a_damaged_cache_file_only_costs_the_tokenizing(tmp_path, monkeypatch, adi):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "passage_tokens.sqlite").write_bytes(b"not a database " * 100)
    theirs = AutoTokenizer.from_pretrained(str(STAND_IN_CE))
    passages = [doc.full_text for doc in adi.documents[40:45]]
    encoded, _ = PairTokenizer.of(theirs).encode([("a query", p) for p in passages], 64)
    reference = theirs(["a query"] * len(passages), passages, truncation=True, max_length=64)
    assert [ids.tolist() for ids in encoded["input_ids"]] == reference["input_ids"]
    assert (tmp_path / "cache" / "passage_tokens.sqlite").read_bytes() == b"not a database " * 100, "left as it was"


def test_passages_made_for_one_call_are_not_kept(tmp_path, monkeypatch, adi):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    passages = [doc.full_text for doc in adi.documents[50:56]]
    ours = PairTokenizer.of(Tokens(STAND_IN_CE))
    counted = ours._tokenizer = CountingTokenizer(ours._tokenizer)
    once, _ = ours.encode([("a query", p) for p in passages], 128, keep_passages=False)
    again, _ = ours.encode([("a query", p) for p in passages], 128, keep_passages=False)
    assert counted.texts == 2 * (1 + len(passages)), "neither in memory nor on disk: tokenized both times"
    assert [ids.tolist() for ids in once["input_ids"]] == [ids.tolist() for ids in again["input_ids"]]
    assert kept_passages(tmp_path) == 0
    kept, _ = ours.encode([("a query", p) for p in passages], 128)
    assert [ids.tolist() for ids in kept["input_ids"]] == [ids.tolist() for ids in once["input_ids"]]
    assert kept_passages(tmp_path) == len(passages), "a passage a search reads is kept"


def test_where_the_window_ends_is_where_the_tokenizer_cuts(adi):
    """Where the model stops reading a passage (the explanation greys the rest), from cached-id arithmetic and the
    passage's offsets, against transformers' tokenizer cutting the pair."""
    theirs = AutoTokenizer.from_pretrained(str(STAND_IN_CE))
    ours = PairTokenizer.of(theirs)
    passages = [doc.full_text for doc in adi.documents[:20]] + ["short", "trailing spaces   "]
    cut = 0
    for limit in (32, 64, 192):
        for passage in passages:
            encoded = theirs(
                "a short query", passage, truncation="only_second", max_length=limit, return_offsets_mapping=True
            )
            ends = [end for (_, end), part in zip(encoded["offset_mapping"], encoded.sequence_ids()) if part == 1]
            expected = len(passage) if not ends or ends[-1] >= len(passage.rstrip()) else ends[-1]
            assert ours.window_end("a short query", passage, limit) == expected, (limit, passage[:40])
            cut += expected < len(passage)
    assert cut > 10, "most abstracts are cut at 32 and 64 tokens"


def test_the_token_file_keeps_its_bound_and_an_index_it_trimmed_is_filled_again(adi_dense, adi, tmp_path, monkeypatch):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    indexed = len(adi_dense.passages)
    bound = indexed + 10
    monkeypatch.setattr(pair_tokens, "BOUND", Bound("passages", bound, on_trim=pair_tokens._forget_filled))
    assert fill_passage_tokens(adi_dense, str(STAND_IN_CE)) == indexed
    others = [f"{doc.full_text} (a passage of another index)" for doc in adi.documents[:30]]
    PairTokenizer.of(Tokens(STAND_IN_CE)).passage_ids(others)
    kept = int(bound * 0.9)
    assert kept_passages(tmp_path) == kept, "trimmed to 90 % of the bound: the index's passages, written first, went"
    assert fill_passage_tokens(adi_dense, str(STAND_IN_CE)) == indexed + 30 - kept, "filled again, what went alone"
    assert kept_passages(tmp_path) == kept, "trimmed again: the other index's passages, now the oldest, went"
    reader = PairTokenizer.of(Tokens(STAND_IN_CE))  # a new process: nothing in memory
    counted = reader._tokenizer = CountingTokenizer(reader._tokenizer)
    reader.passage_ids(list(adi_dense.passages.texts(range(indexed))))
    assert counted.texts == 0, "every passage of the index filled last is on disk"
