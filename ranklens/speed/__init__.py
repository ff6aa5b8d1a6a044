"""Speed: RankLens against the tutorial's code, and the measurement that picks a backend.

`peak` (this machine's matmul peak per precision), `bench` (reranking and indexing against the
tutorial's code, interleaved, medians), `first_result` (time to a first result in a new process),
`calibration` (`auto`: every backend timed on real pairs, the fastest that keeps the ranking).
May import: every room above it (base to reports).
"""
