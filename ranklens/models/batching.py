"""Batching: texts grouped by token length, so that little of each forward pass is padding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def batches_by_length(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Positions grouped into batches of similar token length (shortest first); a stable sort keeps ties in order."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def pad(tokenizer, encoded: dict[str, list], positions: Sequence[int]) -> dict[str, np.ndarray]:
    """One batch of already-tokenized texts (the rows at `positions`), padded to its longest as transformers pads:
    ids with the tokenizer's pad token, masks and token types with 0, on its padding side; int64 arrays."""
    rows = list(positions)
    longest = max(len(encoded["input_ids"][i]) for i in rows)
    left = tokenizer.padding_side == "left"
    batch = {}
    for name, values in encoded.items():
        padded = np.full((len(rows), longest), tokenizer.pad_token_id if name == "input_ids" else 0, dtype=np.int64)
        for row, i in enumerate(rows):
            length = len(values[i])
            if left:
                padded[row, longest - length :] = values[i]
            else:
                padded[row, :length] = values[i]
        batch[name] = padded
    return batch
