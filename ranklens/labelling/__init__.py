"""Labelling: the project database and what people put in it.

`store` (the SQLite schema and its migrations), `projects` (a project's folder by name),
`labels` (judgements by corpus identity, query, document and rater), `raters` (agreement between
raters), `queue` (blind and active orders), `export` and `imports` (pairs, triplets, qrels, BEIR,
raw). May import: the base modules, corpus and ranking (the queue orders by rankers' results).
"""
