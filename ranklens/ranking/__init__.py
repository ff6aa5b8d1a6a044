"""Ranking: a query through the first stage and the cross-encoder, and what is read off the result.

`search` (stage 1, then the cross-encoder on the top-N, batch by batch), `score_cache` (each pair
scored once), `results` (each candidate's scores and ranks under every ranker), `fusion` (the
hybrid, RRF, rank shifts; no model runs there), `compare` (agreement without judgements),
`explain` (occlusion: why a document moved).
May import: the base modules, corpus, backends, models and index.
"""
