"""Models: the bi-encoder and the cross-encoder, found by hub id or local path, loaded once per process.

`files` reads a model's small JSON files (its kind, its weights' fingerprint) without loading it;
`tokens` and `pair_tokens` tokenize from `tokenizer.json` (pairs from cached passage token ids);
`batching` groups texts by length; `embedder` and `reranker` wrap the loaded models; `loading`
finds, loads and caches them, with one fallback routine for both kinds; `remembered` keeps what
a load found, and `light` runs such a model from its export alone.
May import: the base modules, corpus and backends.
"""
