"""The cross-encoder's passage token ids, made with the index: an indexed passage is never tokenized at a query.

Reranking puts each pair together from its passage's cached token ids (ranklens.models.pair_tokens). The passages a
reranking reads are the index's, so they are tokenized when the index is built, with the tokenizer of the
cross-encoder configured then, read from the model's own files (no weights loaded, no torch), and a first query, a
first evaluation, reads its candidates' ids from disk. Which indexes were done is recorded by the model's
fingerprint, so that a relaunch checks it without reading the tokenizer. An index of more than MAX_PASSAGES
passages (a corpus ingested at scale) is not tokenized whole: that would hold its first search for minutes, and a
reranking reads only its candidates, which are tokenized as they come up.
"""

from __future__ import annotations

from ranklens.index.base import FirstStage
from ranklens.models import pair_tokens
from ranklens.models.files import fingerprint, local_folder
from ranklens.models.loading import in_use
from ranklens.models.pair_tokens import PairTokenizer
from ranklens.models.tokens import Tokens
from ranklens.progress import OnProgress

MAX_PASSAGES = 100_000  # about a minute of tokenizing here (0.6 ms a passage) and 100 MB of ids


def pair_tokenizer_of(name: str) -> PairTokenizer | None:
    """The pair tokenizer that cross-encoder `name` reranks with, from its folder's tokenizer.json; None where that
    cannot be read without loading the model."""
    folder = local_folder(name)
    if folder is None:
        return None
    try:
        return PairTokenizer.of(Tokens(folder))
    except Exception:  # noqa: BLE001 - no tokenizer.json, one `tokenizers` cannot read: the first reranking tokenizes
        return None


def fill_passage_tokens(stage: FirstStage, ce_name: str, progress: OnProgress | None = None) -> int | None:
    """Every passage of the first stage's index tokenized for cross-encoder `ce_name` (or the fallback a load of it
    would use) and on disk; how many it tokenized (0: done before), None where it is not done (the tokenizer cannot
    be read, or the index has more than MAX_PASSAGES passages): then each passage is tokenized at its first
    reranking."""
    if len(stage.passages) > MAX_PASSAGES:
        return None
    used = in_use(ce_name, "cross")[0]
    model = fingerprint(used)
    if pair_tokens.is_filled(model, stage.key):
        return 0
    tokenizer = pair_tokenizer_of(used)
    if tokenizer is None:
        return None
    tokenized = tokenizer.fill(stage.passages, progress)
    pair_tokens.mark_filled(model, stage.key)
    return tokenized
