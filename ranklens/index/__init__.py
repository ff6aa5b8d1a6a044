"""The first stage: one interface (`base.FirstStage`) and many engines behind it, and what they are built from.

`dense` (FAISS flat, HNSW, IVF over the bi-encoder's passage embeddings), `lexical` (BM25 with
bm25s), `milvus` (Milvus Lite in a file, or a server by URI), `runfile` (a run from any engine),
`fused` (two first stages by reciprocal-rank fusion); `registry` names them and builds one from
settings. `embeddings` (passage vectors, cached), `query_vectors`, `passage_tokens` (an index's
passages tokenized for the cross-encoder), `ingest` (corpora larger than memory, resumable).
Adding an engine touches this room and the registry's list of names, nothing else.
May import: the base modules, corpus, backends and models.
"""
