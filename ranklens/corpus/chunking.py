"""Chunking: split documents longer than the bi-encoder's window into overlapping passages.

A passage is a character span of its document's text, cut on token boundaries of the
bi-encoder's own tokenizer, so every token of every document is seen by the bi-encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ranklens.corpus.docstore import DocStore
from ranklens.corpus.passages import PassageTable

SPECIAL_TOKENS = 2  # [CLS] and [SEP] take two places of the model's window
TOKENIZE_BATCH = 1024


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into passages for the bi-encoder: its window and the overlap between passages."""

    max_tokens: int = 256  # the bi-encoder's window, special tokens included
    overlap: int = 32

    def __post_init__(self) -> None:
        if self.max_tokens - SPECIAL_TOKENS <= self.overlap:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than the window ({self.max_tokens} tokens)")

    @property
    def window(self) -> int:
        """Tokens of text per passage: the window less the special tokens."""
        return self.max_tokens - SPECIAL_TOKENS


def _spans(
    offsets: Sequence[tuple[int, int]], words: Sequence[int | None], settings: ChunkSettings
) -> list[tuple[int, int]]:
    """Character spans of overlapping token windows that never cut a word in two."""
    if len(offsets) <= settings.window:
        return [(0, -1)]
    step = settings.window - settings.overlap
    spans = []
    first = 0
    while True:
        last = min(first + settings.window, len(offsets)) - 1
        # a window ending inside a word gives that word back to the next window
        while last > first and last + 1 < len(offsets) and words[last] is not None and words[last] == words[last + 1]:
            last -= 1
        spans.append((offsets[first][0], offsets[last][1]))
        if last == len(offsets) - 1:
            return spans
        following = max(first + 1, min(first + step, last))
        # the next window starts at the beginning of a word
        while following > first + 1 and words[following] is not None and words[following] == words[following - 1]:
            following -= 1
        first = following


def chunk_documents(documents: DocStore, tokenizer, settings: ChunkSettings) -> PassageTable:
    """Passages for every document of the store, in document order; a short document is one passage.

    Tokenized TOKENIZE_BATCH documents at a time, so a large corpus never holds all its token
    offsets at once.
    """
    spans: list[tuple[int, int, int, int, int]] = []
    for start in range(0, len(documents), TOKENIZE_BATCH):
        batch = documents[start : start + TOKENIZE_BATCH]
        texts = [doc.full_text for doc in batch]
        encoded = tokenizer(
            texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
        )
        for offset, (text, offsets) in enumerate(zip(texts, encoded["offset_mapping"])):
            found = _spans(offsets, encoded.word_ids(offset), settings)
            for number, (first, last) in enumerate(found):
                spans.append((start + offset, number, len(found), first, len(text) if last == -1 else last))
    return PassageTable.from_spans(documents, spans)
