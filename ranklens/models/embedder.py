"""The bi-encoder: normalized embeddings of texts, by sentence-transformers or by an exported backend."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ranklens import inference
from ranklens.backends.registry import Forward
from ranklens.models.batching import batches_by_length, pad
from ranklens.models.files import fingerprint
from ranklens.models.loaded import LoadedModel


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (inner product = cosine), as contiguous float32."""
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def pooling_mode(model) -> str | None:
    """'mean' or 'cls' for a plain Transformer + Pooling (+ Normalize) bi-encoder; None for anything else,
    which only sentence-transformers' own `encode` can run."""
    modules = list(model)
    names = [type(module).__name__ for module in modules]
    if names[:2] != ["Transformer", "Pooling"] or any(n != "Normalize" for n in names[2:]):
        return None
    mode = str(getattr(modules[1], "pooling_mode", ""))
    return mode if mode in ("mean", "cls") else None


# The most texts a torch fp32 bi-encoder left on disk embeds with its query encoder (its ONNX export); more load it.
# torch embeds somewhat faster than the export, but importing and loading it costs seconds: that pays from about 500
# texts (an explanation embeds 66, an index thousands).
QUERY_ENCODER_TEXTS = 512


class Embedder(LoadedModel):
    """The bi-encoder: normalized embeddings, and a count of model calls for tests and the UI.

    With the torch backends sentence-transformers' `encode` runs as is (it sorts by length
    itself). ONNX Runtime and OpenVINO run the transformer in `forward` over token-length-sorted
    batches and pool it the way the model's Pooling module says (mean or CLS), then normalize.
    A torch fp32 bi-encoder left on disk by a remembered load embeds with its fp32 ONNX export
    the same way (ranklens.models.light: the query encoder), so a new query needs no torch.
    """

    def __init__(
        self,
        name: str,
        model,
        backend: str = "torch",
        forward: Forward | None = None,
        exported: bool = False,
        backend_note: str | None = None,
        fallback_reason: str | None = None,
        max_tokens: int | None = None,
        dimension: int | None = None,
        pooling: str | None = None,
    ) -> None:
        # fp32 keeps the bare fingerprint, so indexes cached before backends existed stay valid
        tagged = fingerprint(name) + ("" if backend == "torch" else f"|{backend}")
        window = int(model.max_seq_length) if max_tokens is None else max_tokens
        super().__init__(name, model, backend, forward, exported, backend_note, fallback_reason, tagged, window)
        self.dimension = int(model.get_embedding_dimension()) if dimension is None else dimension
        self.pooling = pooling_mode(model) if model is not None else pooling  # None: only `encode` can run it

    @property
    def tokenizer(self):
        """The model's tokenizer."""
        return self.model.tokenizer

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text, in the order given."""
        self.calls += 1
        if self.backend == "torch" and not self.loaded and len(texts) > QUERY_ENCODER_TEXTS:
            self.ensure_loaded()  # an index being built: torch embeds in bulk faster than the fp32 export here
        if self.forward is None:
            with inference.LOCK:
                embeddings = self.model.encode(
                    list(texts), batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
                )
            return unit_rows(np.asarray(embeddings, dtype=np.float32))  # in fp32: bf16 normalizes only to ~1e-3
        tokenizer = self.batch_tokenizer
        encoded = tokenizer(list(texts), truncation=True, max_length=self.max_tokens)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for positions in batches_by_length([len(ids) for ids in encoded["input_ids"]], batch_size):
            feed = pad(tokenizer, encoded, positions)
            with inference.LOCK:
                tokens = self.forward(feed)
            vectors[positions] = unit_rows(self._pool(tokens, feed["attention_mask"]))
        return vectors

    def _pool(self, tokens: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        # a load remembered before poolings were kept does not know it: the loaded model does
        if (self.pooling or pooling_mode(self.model)) == "cls":
            return tokens[:, 0]
        mask = attention_mask[..., None].astype(np.float32)
        return (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)


def embedding_agreement(embedder: Embedder, reference: Embedder, texts: Sequence[str]) -> tuple[float, float]:
    """Lowest and mean cosine between each text's embedding by `embedder` and by `reference` (torch fp32):
    how far another backend moves the index."""
    cosines = (embedder.encode(texts) * reference.encode(texts)).sum(axis=1)
    return float(cosines.min()), float(cosines.mean())
