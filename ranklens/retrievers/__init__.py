"""Retrievers: the first stage, one interface (`base.FirstStage`) and many engines behind it.

`dense` (FAISS flat, HNSW, IVF over the bi-encoder's passage embeddings), `lexical` (BM25
with bm25s), `milvus` (the same on Milvus: Milvus Lite in a file, or a server by URI),
`runfile` (a run from any engine), `fused` (two first stages by reciprocal-rank fusion);
`registry` names them and builds one from settings. Adding an engine touches this package
and the registry's list of names, nothing else.
"""
