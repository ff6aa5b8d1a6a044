"""The cross-encoder: raw logits for (query, passage) pairs, in token-length-sorted batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ranklens import inference
from ranklens.backends.registry import IN_TORCH, Forward
from ranklens.models.batching import batches_by_length, pad
from ranklens.models.files import fingerprint
from ranklens.models.loaded import LoadedModel
from ranklens.models.pair_tokens import PairTokenizer
from ranklens.progress import OnProgress

# Pairs per cross-encoder batch: 16 was fastest on med's 100 candidates here (32 pads more, 8 starves the cores)
DEFAULT_CE_BATCH = 16
MIN_BUDGET = 32  # tokens: below this a pair is little more than its query
BUDGETS = (64, 96, 128, 192, 256, 384, 512)  # what the token-budget knobs offer (up to the model's window)


class Reranker(LoadedModel):
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
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(
            name,
            model,
            backend,
            forward,
            exported,
            backend_note,
            fallback_reason,
            f"{fingerprint(name)}|{backend}",
            int(model.max_seq_length) if max_tokens is None else max_tokens,
        )
        self.requested = requested
        self._pairs: tuple[object, PairTokenizer | None] | None = None  # (the tokenizer it was made for, itself)

    def budget(self, max_tokens: int | None = None) -> int:
        """The tokens a pair may use: the model's window, or less where a token budget asks for less."""
        return self.max_tokens if max_tokens is None else max(MIN_BUDGET, min(max_tokens, self.max_tokens))

    def tokenize(
        self, pairs: Sequence[tuple[str, str]], max_tokens: int | None = None, keep_passages: bool = True
    ) -> tuple[dict[str, list], np.ndarray]:
        """The pairs' token ids cut at the budget (the model's window by default), and which pairs it cut: put
        together from cached passage ids where the tokenizer allows (ranklens.models.pair_tokens; `keep_passages` False:
        passages made for this call only, whose ids are not worth keeping), else in one tokenizer pass (tokenizing
        100 abstracts whole costs 5-10 % of reranking them here)."""
        limit = self.budget(max_tokens)
        from_ids = self._pair_tokenizer()
        if from_ids is not None:
            return from_ids.encode(pairs, limit, keep_passages)
        tokenizer = self.batch_tokenizer
        queries, passages = [q for q, _ in pairs], [p for _, p in pairs]
        encoded = tokenizer(queries, passages, truncation=True, max_length=limit)
        if encoded.encodings is not None:  # a fast tokenizer keeps what truncation cut off
            truncated = np.array([bool(e.overflowing) for e in encoded.encodings], dtype=bool)
        else:
            whole = tokenizer(queries, passages, truncation=False, verbose=False)["input_ids"]
            truncated = np.array([len(ids) > limit for ids in whole], dtype=bool)
        return encoded, truncated

    def _pair_tokenizer(self) -> PairTokenizer | None:
        tokenizer = self.batch_tokenizer
        if self._pairs is None or self._pairs[0] is not tokenizer:  # the light load's tokenizer, then the model's
            self._pairs = (tokenizer, PairTokenizer.of(tokenizer))
        return self._pairs[1]

    def window_end(self, query: str, passage: str, max_tokens: int | None = None) -> int:
        """The character offset in `passage` where this model stops reading it after `query` (its window, or a
        smaller budget): from the pair tokenizer where there is one, which needs no torch, else from the model's."""
        limit = self.budget(max_tokens)
        from_ids = self._pair_tokenizer()
        if from_ids is not None:
            return from_ids.window_end(query, passage, limit)
        encoded = self.model.tokenizer(query, passage, truncation=True, max_length=limit, return_offsets_mapping=True)
        ends = [end for (_, end), part in zip(encoded["offset_mapping"], encoded.sequence_ids()) if part == 1]
        if not ends or ends[-1] >= len(passage.rstrip()):
            return len(passage)
        return ends[-1]

    def warm_up(self) -> None:
        """On torch, forward passes at two typical shapes, outside the call count: its first calls (bf16 above
        all) pick kernels and allocate, several times slower than the rest, and no person should wait for that. An
        export is not warmed up: its first calls are barely slower, and the warm-up would cost a relaunched app's
        new query more than it saves (docs/performance.md)."""
        if self.backend not in IN_TORCH:
            return
        for words in (40, 150):
            pairs = [("warm up", " ".join(["passage"] * words))] * DEFAULT_CE_BATCH
            encoded, _ = self.tokenize(pairs, keep_passages=False)
            with inference.LOCK:
                self.forward(pad(self.batch_tokenizer, encoded, list(range(len(pairs)))))

    def score_with_truncation(
        self,
        pairs: Sequence[tuple[str, str]],
        batch_size: int = DEFAULT_CE_BATCH,
        progress: OnProgress | None = None,
        max_tokens: int | None = None,
        keep_passages: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Raw logits in the order of `pairs`, and whether the budget (the model's window by default) cut each
        pair short.

        Pairs are scored in batches of similar token length, so little of each batch is
        padding; the scores are put back in the order given. `progress(done, total)` hears
        after each batch; an exception raised there stops the remaining batches.
        """
        if not pairs:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=bool)
        self.calls += 1
        encoded, truncated = self.tokenize(pairs, max_tokens, keep_passages)
        scores = np.empty(len(pairs), dtype=np.float32)
        done = 0
        for positions in batches_by_length([len(ids) for ids in encoded["input_ids"]], batch_size):
            feed = pad(self.batch_tokenizer, encoded, positions)
            with inference.LOCK:
                logits = self.forward(feed)
            scores[positions] = logits.reshape(len(positions), -1)[:, 0]
            done += len(positions)
            if progress:
                progress(done, len(pairs))
        return scores, truncated

    def score(
        self,
        pairs: Sequence[tuple[str, str]],
        batch_size: int = DEFAULT_CE_BATCH,
        max_tokens: int | None = None,
        keep_passages: bool = True,
    ) -> np.ndarray:
        """Raw logits in the order of `pairs` (`keep_passages`: as for `tokenize`)."""
        return self.score_with_truncation(pairs, batch_size, max_tokens=max_tokens, keep_passages=keep_passages)[0]
