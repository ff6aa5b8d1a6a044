"""Models: the bi-encoder and the cross-encoder, found by hub id or local path, loaded once per process.

`files` reads a model's small JSON files (its kind, its weights' fingerprint) without loading it;
`embedder` and `reranker` wrap the loaded models; `loading` finds, loads and caches them, with
one fallback routine for both kinds; `remembered` keeps what a load found, so that a later
process can leave the weights on disk, and `light` runs such a model from its export alone.
"""
