"""Models: the bi-encoder and the cross-encoder, found by hub id or local path, loaded once per process.

`files` reads a model's small JSON files (its kind, its weights' fingerprint) without loading it;
`embedder` and `reranker` wrap the loaded models; `loading` finds, loads and caches them, with
one fallback routine for both kinds.
"""
