"""Corpora: validated documents with stable ids, the queries and judgements that come with them, and an identity.

A corpus's identity comes from its content alone (every document's id, title and text, in
any order), so the same documents uploaded again find their labels, and two different
corpora never share them, whatever they are called. Reading files is `ranklens.corpus.readers`;
BEIR folders and qrels are `ranklens.corpus.beir`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ranklens.corpus.docstore import DocStore, Document
from ranklens.corpus.textclean import CorpusError

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "corpora"

Qrels = dict[str, dict[str, int]]

__all__ = ["BUILTIN_DIR", "Corpus", "CorpusError", "Document", "Qrels", "builtin_names", "query_id_for"]


@dataclass
class Corpus:
    """A validated corpus: its documents, the queries and judgements that came with it, and what loading repaired."""

    name: str  # for people: a built-in's or folder's name, or the uploaded files' names
    documents: DocStore  # a list of Documents is accepted and stored as a DocStore
    queries: dict[str, str] = field(default_factory=dict)
    qrels: Qrels = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what was repaired while loading

    def __post_init__(self) -> None:
        if not isinstance(self.documents, DocStore):
            try:
                self.documents = DocStore.from_documents(list(self.documents))
            except ValueError as err:
                raise CorpusError(str(err)) from err

    def __len__(self) -> int:
        return len(self.documents)

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self.documents.position(doc_id) is not None

    def get(self, doc_id: str) -> Document:
        """The document with this id (KeyError when there is none)."""
        return self.documents.get(doc_id)

    @property
    def key(self) -> str:
        """The corpus's identity: what labels, saved runs and caches are keyed by (not the name)."""
        return "c" + self.documents.identity[:24]

    def content_hash(self) -> str:
        """Changes whenever any document's id, title or text, or their order, changes; keys the index cache."""
        return self.documents.content_hash

    def judged_queries(self) -> dict[str, str]:
        """The queries that have relevance judgements: the ones to evaluate on."""
        return {qid: text for qid, text in self.queries.items() if qid in self.qrels}


def builtin_names() -> list[str]:
    """The demo corpora shipped in corpora/, each a BEIR folder with queries and graded qrels."""
    if not BUILTIN_DIR.is_dir():
        return []
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / "corpus.jsonl").is_file())


def query_id_for(text: str, known: dict[str, str] | None = None) -> str:
    """A query's id: the corpus's own id when its text is one of the corpus's queries, else a text hash."""
    text = text.strip()
    for qid, known_text in (known or {}).items():
        if known_text.strip() == text:
            return qid
    return "q" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
