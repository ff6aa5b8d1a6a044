"""Batching: texts grouped by token length, so that little of each forward pass is padding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def batches_by_length(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Positions grouped into batches of similar token length (shortest first); a stable sort keeps ties in order."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def pad(tokenizer, encoded: dict[str, list], positions: np.ndarray) -> dict[str, np.ndarray]:
    """One batch of already-tokenized texts (the rows at `positions`), padded to its longest, as int64 arrays."""
    batch = tokenizer.pad({name: [encoded[name][i] for i in positions] for name in encoded}, return_tensors="np")
    return {name: np.asarray(values, dtype=np.int64) for name, values in batch.items()}
