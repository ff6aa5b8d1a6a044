"""The cross-encoder: raw logits for (query, passage) pairs, in token-length-sorted batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ranklens import inference
from ranklens.backends.registry import Forward
from ranklens.batching import batches_by_length, pad
from ranklens.models.files import fingerprint
from ranklens.progress import OnProgress

# Pairs per cross-encoder batch: 16 was fastest on med's 100 candidates here (32 pads more, 8 starves the cores)
DEFAULT_CE_BATCH = 16


class Reranker:
    """The cross-encoder: raw logits for (query, passage) pairs, in token-length-sorted batches.

    `backend` says what runs the forward pass (ranklens.backends): the CrossEncoder's own
    transformers model in fp32 or bf16, or an ONNX Runtime / OpenVINO export of the same weights.
    """

    def __init__(
        self,
        name: str,
        model,
        requested: str,
        forward: Forward,
        fallback_reason: str | None = None,
        backend: str = "torch",
        exported: bool = False,
        backend_note: str | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self.requested = requested
        self.forward = forward
        self.fallback_reason = fallback_reason
        self.backend = backend
        self.exported = exported  # this load exported the model (False: the export came from the disk cache)
        self.backend_note = backend_note  # why the asked-for backend is not the one in use
        self.fingerprint = f"{fingerprint(name)}|{backend}"
        self.calls = 0

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def tokenize(self, pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, list], np.ndarray]:
        """The pairs' token ids cut at the model's window, and which pairs it cut, in one tokenizer pass
        (tokenizing 100 abstracts costs a tenth of reranking them here)."""
        queries, passages = [q for q, _ in pairs], [p for _, p in pairs]
        tokenizer = self.model.tokenizer
        encoded = tokenizer(queries, passages, truncation=True, max_length=self.max_tokens)
        if encoded.encodings is not None:  # a fast tokenizer keeps what truncation cut off
            truncated = np.array([bool(e.overflowing) for e in encoded.encodings], dtype=bool)
        else:
            whole = tokenizer(queries, passages, truncation=False, verbose=False)["input_ids"]
            truncated = np.array([len(ids) > self.max_tokens for ids in whole], dtype=bool)
        return encoded, truncated

    def score_with_truncation(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = DEFAULT_CE_BATCH, progress: OnProgress | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Raw logits in the order of `pairs`, and whether the model's window cut each pair short.

        Pairs are scored in batches of similar token length, so little of each batch is
        padding; the scores are put back in the order given. `progress(done, total)` hears
        after each batch; an exception raised there stops the remaining batches.
        """
        if not pairs:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=bool)
        self.calls += 1
        encoded, truncated = self.tokenize(pairs)
        scores = np.empty(len(pairs), dtype=np.float32)
        done = 0
        for positions in batches_by_length([len(ids) for ids in encoded["input_ids"]], batch_size):
            feed = pad(self.model.tokenizer, encoded, positions)
            with inference.LOCK:
                logits = self.forward(feed)
            scores[positions] = logits.reshape(len(positions), -1)[:, 0]
            done += len(positions)
            if progress:
                progress(done, len(pairs))
        return scores, truncated

    def score(self, pairs: Sequence[tuple[str, str]], batch_size: int = DEFAULT_CE_BATCH) -> np.ndarray:
        """Raw logits in the order of `pairs`."""
        return self.score_with_truncation(pairs, batch_size)[0]
