"""Corpora: files of every format read into validated documents with stable ids and an identity.

`textclean` (bytes into clean text, `CorpusError`), `docstore` (documents in Arrow columns),
`corpus` (the `Corpus` record, query ids), `sources`, `tables` and `readers` (one reader per
format, all or nothing), `beir` (BEIR folders and qrels), `loading` (open what a person names),
`chunking` and `passages` (documents cut to the bi-encoder's window), `stored` (corpora kept by
identity). May import: the base modules only.
"""
