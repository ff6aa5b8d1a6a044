"""The torch-free tokenizer (and RankLens's padding) against transformers' fast tokenizer of the same model, on real
texts."""

import numpy as np
import pytest
from transformers import AutoTokenizer

from conftest import STAND_IN_CE
from ranklens.models.batching import pad
from ranklens.models.files import local_folder
from ranklens.models.tokens import Tokens, TokensError

BI = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.parametrize("model", [str(STAND_IN_CE), BI])
def test_ids_cuts_and_padding_are_transformers_own(model, adi):
    folder = local_folder(model)
    ours, theirs = Tokens(folder), AutoTokenizer.from_pretrained(str(folder))
    queries = list(adi.queries.values())[:12]
    passages = [doc.text for doc in adi.documents[:12]]
    queries[0] = "a query far longer than its passage " * 30  # longest_first then cuts the query, not the passage
    passages[1] = "Ünïcödé, emoji 🐍 and\ttabs\n" + passages[1]
    for limit in (32, 64, 192):
        mine, reference = (
            ours(queries, passages, max_length=limit),
            theirs(queries, passages, truncation=True, max_length=limit),
        )
        for name in ("input_ids", "token_type_ids", "attention_mask"):
            assert mine[name] == reference[name], (name, limit)
        assert [bool(e.overflowing) for e in mine.encodings] == [bool(e.overflowing) for e in reference.encodings]
        rows = np.array([3, 0, 7])
        padded = pad(ours, mine, rows)
        expected = theirs.pad({k: [reference[k][i] for i in rows] for k in reference}, return_tensors="np")
        for name in expected:
            assert np.array_equal(padded[name], expected[name]), name
    singles, reference = ours(passages, max_length=64), theirs(passages, truncation=True, max_length=64)
    assert singles["input_ids"] == reference["input_ids"]


def test_a_folder_without_tokenizer_json_is_refused(tmp_path):
    with pytest.raises(TokensError, match="no tokenizer.json"):
        Tokens(tmp_path)
