"""RankLens's engine: plain Python with no UI import, in rooms by concept, layered from the ground up.

    base         settings, progress, inference (one forward pass at a time), cachedir, lru,
                 cache_bounds, sqlite_cache: the modules at this level, which import no room
    corpus/      reading files, validation, identity, chunking, the document store
    backends/    forward passes on torch, ONNX Runtime and OpenVINO; exports on disk
    models/      the bi-encoder and the cross-encoder: finding, loading, tokenizing, batching
    index/       first stages behind one interface, corpus embeddings, streaming ingestion
    ranking/     search (first stage + reranking), results, fusion, explanations, comparison
    labelling/   the project database: judgements, raters, queues, exports and imports
    evaluation/  metrics, the alpha sweep, saved runs, query sets
    training/    fine-tuning a cross-encoder on the labels
    reports/     the one-file HTML report and the charts' specifications
    speed/       the bench against the tutorial's code, the matmul peak, `auto`'s measurement
    caches       listing and clearing every cache (the module at this level, above the rooms)
    cli/         `ranklens COMMAND`

A room imports only rooms listed above it here, never one below; tests/test_layout.py checks it.
"""
