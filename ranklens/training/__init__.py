"""Training: fine-tuning a cross-encoder on the labels and measuring it against the base model.

`data` (judgements and qrels into training pairs with negatives, split by query), `train`
(sentence-transformers' CrossEncoderTrainer, the best held-out epoch kept), `jobs` (the one
training of a process, which a refreshed page finds). May import: every room above it (base to
evaluation).
"""
