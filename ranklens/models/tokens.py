"""Tokenizing without transformers: a model folder's `tokenizer.json` read by the `tokenizers` library, cut as
transformers' fast tokenizer cuts.

transformers' tokenizers import torch (seconds); this one does not, so a process that runs an exported model
(ranklens.backends) can start in well under a second. It offers the part of transformers' tokenizer that RankLens
calls for a forward pass: `tokenizer(texts[, pairs], truncation=True, max_length=N)`, its pad token and sides, and the
`tokenizers` object behind it (`backend_tokenizer`, as transformers names it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

FILE = "tokenizer.json"


class TokensError(RuntimeError):
    """A model folder whose tokenizer cannot be read without transformers (no tokenizer.json, no padding token)."""


class Encoded(dict):
    """Token ids, token type ids and attention masks, one list per text, and the `tokenizers` encodings (which
    say what truncation cut off)."""

    def __init__(self, encodings: list) -> None:
        super().__init__(
            input_ids=[e.ids for e in encodings],
            token_type_ids=[e.type_ids for e in encodings],
            attention_mask=[e.attention_mask for e in encodings],
        )
        self.encodings = encodings


def _token_text(value) -> str | None:
    """A special token as tokenizer_config.json writes it: a string, or an AddedToken's dict."""
    return value.get("content") if isinstance(value, dict) else value


class Tokens:
    """A model's tokenizer from its folder's tokenizer.json, with transformers' pad token and padding side."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        if not (folder / FILE).is_file():
            raise TokensError(f"{folder} has no {FILE}")
        self.backend_tokenizer = Tokenizer.from_file(str(folder / FILE))
        self.backend_tokenizer.no_padding()  # RankLens pads each batch itself, to that batch's longest
        config: dict = {}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):  # the second wins, as in transformers
            try:
                config.update(json.loads((folder / name).read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        pad_token = _token_text(config.get("pad_token"))
        pad_id = self.backend_tokenizer.token_to_id(pad_token) if pad_token else None
        if pad_id is None:
            raise TokensError(f"{folder}'s tokenizer names no padding token")
        self.pad_token_id = pad_id
        self.padding_side = config.get("padding_side", "right")
        self.truncation_side = config.get("truncation_side", "right")
        self.model_input_names = ["input_ids", "token_type_ids", "attention_mask"]  # what Encoded holds
        self._truncating = threading.Lock()  # the truncation is set on the shared tokenizer for each call

    def __call__(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        truncation: bool = True,
        max_length: int | None = None,
    ) -> Encoded:
        """Each text (or each (text, pair)) with its special tokens, cut at `max_length` the way transformers'
        `truncation=True` cuts: a token at a time from the longer of the two."""
        inputs = list(texts) if pairs is None else list(zip(texts, pairs))
        with self._truncating:
            if truncation and max_length:
                self.backend_tokenizer.enable_truncation(
                    max_length, stride=0, strategy="longest_first", direction=self.truncation_side
                )
            else:
                self.backend_tokenizer.no_truncation()
            return Encoded(self.backend_tokenizer.encode_batch(inputs, add_special_tokens=True))
