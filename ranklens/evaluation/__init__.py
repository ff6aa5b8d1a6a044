"""Evaluation: how good each ranker is against judgements, and how they differ without them.

`evaluate` (trec_eval's metrics per query, significance), `alpha` (the sweep and the
cross-validated best alpha), `runs` (saved runs in the project database), `queryset` (many
queries through every ranker at once). May import: every room above it (base to labelling).
"""
