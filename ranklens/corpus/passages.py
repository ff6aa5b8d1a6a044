"""Passages: the spans of documents the models read, as columns (document position, number, of, start, end).

A passage's text is its document's full text between two character offsets, so the table
costs 16 bytes a passage, whatever the texts: the texts stay in the document store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ranklens.corpus.docstore import DocStore

FIELD_TYPES = {"document": np.uint32, "number": np.uint16, "of": np.uint16, "start": np.uint32, "end": np.uint32}
FIELDS = tuple(FIELD_TYPES)  # in this order: a span row is (document, number, of, start, end)


@dataclass(frozen=True)
class Passage:
    """One passage of a document: which document, its number among the document's passages, its text."""

    doc_id: str
    number: int  # 0-based position within its document
    of: int  # how many passages the document has
    text: str


class PassageTable:
    """Every passage of a corpus, in document order: `table[i]` is a Passage, `table.text(i)` its text."""

    def __init__(self, documents: DocStore, columns: dict[str, np.ndarray]) -> None:
        self.documents = documents
        self.columns = columns
        self._first = np.searchsorted(columns["document"], np.arange(len(documents) + 1))  # passages of doc d

    @classmethod
    def from_spans(cls, documents: DocStore, spans: list[tuple[int, int, int, int, int]]) -> PassageTable:
        """The table from (document, number, of, start, end) rows."""
        array = np.array(spans, dtype=np.int64).reshape(-1, len(FIELDS))
        return cls(documents, {name: array[:, i].astype(FIELD_TYPES[name]) for i, name in enumerate(FIELDS)})

    def __len__(self) -> int:
        return len(self.columns["document"])

    def __getitem__(self, position: int) -> Passage:
        number, of = int(self.columns["number"][position]), int(self.columns["of"][position])
        return Passage(self.doc_id(position), number, of, self.text(position))

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self)))

    def doc_id(self, position: int) -> str:
        """The id of the document the passage at `position` belongs to."""
        return self.documents.id_at(int(self.columns["document"][position]))

    def text(self, position: int) -> str:
        """The text of the passage at `position`."""
        doc = self.documents[int(self.columns["document"][position])]
        return doc.full_text[int(self.columns["start"][position]) : int(self.columns["end"][position])]

    def texts(self, positions) -> list[str]:
        """The texts of the passages at `positions`."""
        return [self.text(int(p)) for p in positions]

    def of_document(self, doc_position: int) -> range:
        """The positions of one document's passages (by the document's position in the store)."""
        return range(int(self._first[doc_position]), int(self._first[doc_position + 1]))

    def of_id(self, doc_id: str) -> range:
        """The positions of a document's passages (empty for an unknown id)."""
        position = self.documents.position(doc_id)
        return range(0) if position is None else self.of_document(position)

    def save(self, path: Path) -> None:
        """Write the table's columns to an .npz file."""
        np.savez(path, **self.columns)

    @classmethod
    def load(cls, path: Path, documents: DocStore) -> PassageTable:
        """The table saved at `path`, over these documents."""
        with np.load(path) as stored:
            columns = {name: stored[name] for name in FIELDS}
        if len(columns["document"]) and int(columns["document"].max()) >= len(documents):
            raise ValueError(f"{path} belongs to another corpus")
        return cls(documents, columns)
