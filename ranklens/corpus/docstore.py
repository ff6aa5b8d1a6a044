"""The document store: ids, titles and texts in Arrow columns, looked up by id through a sorted hash table.

Two million short documents as Python objects cost several times their text (a str, a
Document and a dict entry each); in columns they cost about the text itself, which is what
keeps a loaded corpus within a small multiple of its file.

Over 300 lines: the builder, the store, the content hashes and `write_store` (the file, a part
at a time, for ingestion) share one column layout, and apart they would each have to know it.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash

CHUNK_ROWS = 65_536  # rows gathered as Python strings before they become one Arrow chunk
# 32-bit offsets for ids and titles (short); 64-bit for texts, so a chunk of long texts may pass 2 GiB
COLUMN_TYPES = {"id": pa.string(), "title": pa.string(), "text": pa.large_string()}


@dataclass(frozen=True, slots=True)
class Document:
    """One document: its id, text, optional title and the place it was read from."""

    id: str
    text: str
    title: str = ""
    source: str = ""  # where it came from: "file", "file:line" or "file:page N"

    @property
    def full_text(self) -> str:
        """What the models read: the title (when there is one) followed by the text."""
        return f"{self.title} {self.text}" if self.title else self.text


def id_hash(doc_id: str) -> int:
    """A 64-bit hash of a document id, for the id lookup table."""
    return xxhash.xxh64_intdigest(doc_id.encode("utf-8"))


CONTENT_GROUP = 4096  # documents hashed together before the ordered hash takes the group's digest


class ContentHashes:
    """A corpus's two hashes, built document by document.

    `ordered()` changes with any document or their order (it keys caches); it chains the digests
    of groups of CONTENT_GROUP documents, so an ingestion can save it at a group's end and go on
    after a restart. `identity()` is the same for the same documents in any order (it keys labels).
    """

    def __init__(self, chain: str = "", total: int = 0, count: int = 0, group: int = CONTENT_GROUP) -> None:
        self._chain, self._sum, self.count, self.size = bytes.fromhex(chain), total, count, group
        self._group, self._in_group = hashlib.sha256(), 0

    def add(self, doc_id: str, title: str, text: str) -> None:
        """Take one document into both hashes."""
        record = f"{doc_id}\x00{title}\x00{text}\x00".encode()
        self._group.update(record)
        self._sum = (self._sum + xxhash.xxh3_128_intdigest(record)) % 2**128
        self._in_group += 1
        self.count += 1
        if self._in_group == self.size:
            self._chain = hashlib.sha256(self._chain + self._group.digest()).digest()
            self._group, self._in_group = hashlib.sha256(), 0

    def state(self) -> dict:
        """What `ContentHashes(**state)` resumes from; only at a group's end."""
        if self._in_group:
            raise ValueError("content hashes can be saved only at the end of a group")
        return {"chain": self._chain.hex(), "total": self._sum, "count": self.count, "group": self.size}

    def ordered(self) -> str:
        """The hash of the documents in the order they came."""
        if not self._in_group:
            return hashlib.sha256(self._chain).hexdigest()
        return hashlib.sha256(hashlib.sha256(self._chain + self._group.digest()).digest()).hexdigest()

    def identity(self) -> str:
        """The hash of the documents in any order: the corpus's identity."""
        return f"{self._sum:032x}"


class DocStoreBuilder:
    """Gathers documents row by row into Arrow chunks; `build()` checks ids are unique and indexes them."""

    def __init__(self) -> None:
        self._columns: dict[str, list[pa.Array]] = {"id": [], "title": [], "text": []}
        self._pending: dict[str, list[str]] = {"id": [], "title": [], "text": []}
        self._hashes: list[np.ndarray] = []
        self._pending_hashes: list[int] = []
        self._source_file = array("I")  # typed arrays: a Python int per document would cost 28 bytes or more
        self._source_place = array("I")
        self.files: list[tuple[str, str]] = []  # (name, how a place is written: "line", "page" or "")
        self.hashes = ContentHashes()

    def add_file(self, name: str, places: str) -> int:
        """Register a file the next rows come from; returns its number for `add`."""
        self.files.append((name, places))
        return len(self.files) - 1

    def add(self, doc_id: str, title: str, text: str, file: int, place: int = 0) -> None:
        """Append one document (file: the index of its source file; place: its line or page there)."""
        self.hashes.add(doc_id, title, text)
        pending = self._pending
        pending["id"].append(doc_id)
        pending["title"].append(title)
        pending["text"].append(text)
        self._pending_hashes.append(id_hash(doc_id))
        self._source_file.append(file)
        self._source_place.append(place)
        if len(pending["id"]) >= CHUNK_ROWS:
            self._flush()

    def __len__(self) -> int:
        return sum(len(chunk) for chunk in self._columns["id"]) + len(self._pending["id"])

    def _flush(self) -> None:
        if not self._pending["id"]:
            return
        for column, values in self._pending.items():
            self._columns[column].append(pa.array(values, type=COLUMN_TYPES[column]))
            values.clear()
        self._hashes.append(np.array(self._pending_hashes, dtype=np.uint64))
        self._pending_hashes.clear()

    def build(self) -> DocStore:
        """The store; raises ValueError naming both places when an id occurs twice."""
        self._flush()
        columns = {name: pa.chunked_array(chunks, type=COLUMN_TYPES[name]) for name, chunks in self._columns.items()}
        hashes = np.concatenate(self._hashes) if self._hashes else np.zeros(0, dtype=np.uint64)
        self._hashes.clear()
        sources = (
            np.frombuffer(self._source_file, dtype=np.uint32),
            np.frombuffer(self._source_place, dtype=np.uint32),
        )
        return DocStore.from_columns(columns, hashes, sources, list(self.files), self.hashes)


class DocStore(Sequence[Document]):
    """Documents by position (`store[i]`) or id (`store.get(id)`), read from Arrow columns on demand."""

    def __init__(
        self,
        ids: pa.ChunkedArray,
        titles: pa.ChunkedArray,
        texts: pa.ChunkedArray,
        sorted_hashes: np.ndarray,
        order: np.ndarray,
        source_file: np.ndarray,
        source_place: np.ndarray,
        files: list[tuple[str, str]],
        content_hash: str,
        identity: str,
    ) -> None:
        self._ids, self._titles, self._texts = ids, titles, texts
        self.content_hash = content_hash
        self.identity = identity
        self._sorted, self._order = sorted_hashes, order  # the id table: sorted hashes, and each one's position
        self._source_file, self._source_place, self._files = source_file, source_place, files

    @classmethod
    def from_columns(
        cls,
        columns: dict[str, pa.ChunkedArray],
        id_hashes: np.ndarray,
        sources: tuple[np.ndarray, np.ndarray],
        files: list[tuple[str, str]],
        hashes: ContentHashes,
    ) -> DocStore:
        """A store over id, title and text columns, each document's id hash and (file, place) source; raises
        ValueError naming both places when an id occurs twice."""
        order = np.argsort(id_hashes, kind="stable").astype(np.uint32)
        store = cls(
            columns["id"],
            columns["title"],
            columns["text"],
            id_hashes[order],
            order,
            *sources,
            files,
            content_hash=hashes.ordered(),
            identity=hashes.identity(),
        )
        store.check_unique()
        return store

    @classmethod
    def from_documents(cls, documents: Sequence[Document]) -> DocStore:
        """A store of documents already in memory (tests, small corpora made in code)."""
        builder = DocStoreBuilder()
        sources: dict[str, int] = {}
        for doc in documents:
            if doc.source not in sources:
                sources[doc.source] = builder.add_file(doc.source, "")
            builder.add(doc.id, doc.title, doc.text, sources[doc.source])
        return builder.build()

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, position):  # type: ignore[override]
        if isinstance(position, slice):
            start, stop, step = position.indices(len(self))
            return self.batch(start, stop) if step == 1 else [self[i] for i in range(start, stop, step)]
        if position < 0:
            position += len(self)
        return Document(
            self._ids[position].as_py(),
            self._texts[position].as_py(),
            self._titles[position].as_py(),
            self.source(position),
        )

    def batch(self, start: int, stop: int) -> list[Document]:
        """The documents at positions start..stop-1, converted from Arrow in one go rather than one by one."""
        count = max(0, stop - start)
        ids = self._ids.slice(start, count).to_pylist()
        titles = self._titles.slice(start, count).to_pylist()
        texts = self._texts.slice(start, count).to_pylist()
        return [Document(d, x, t, self.source(start + i)) for i, (d, t, x) in enumerate(zip(ids, titles, texts))]

    def __iter__(self) -> Iterator[Document]:
        for start in range(0, len(self), CHUNK_ROWS):
            yield from self.batch(start, start + CHUNK_ROWS)

    def source(self, position: int) -> str:
        """Where the document at `position` came from, in words."""
        name, places = self._files[int(self._source_file[position])]
        place = int(self._source_place[position])
        if places == "line":
            return f"{name}:{place}"
        return f"{name}:page {place}" if places == "page" else name

    def id_at(self, position: int) -> str:
        """The id of the document at `position`, without reading its text."""
        return self._ids[position].as_py()

    def ids(self) -> list[str]:
        """Every document id, in order."""
        return self._ids.to_pylist()

    def position(self, doc_id: str) -> int | None:
        """The position of the document with this id, or None."""
        wanted = np.uint64(id_hash(doc_id))
        start = int(np.searchsorted(self._sorted, wanted, side="left"))
        while start < len(self._sorted) and self._sorted[start] == wanted:
            candidate = int(self._order[start])
            if self._ids[candidate].as_py() == doc_id:
                return candidate
            start += 1
        return None

    def get(self, doc_id: str) -> Document:
        """The document with this id; KeyError when there is none."""
        position = self.position(doc_id)
        if position is None:
            raise KeyError(doc_id)
        return self[position]

    def check_unique(self) -> None:
        """Raises ValueError naming the two places of the first id that occurs twice."""
        same = np.flatnonzero(self._sorted[1:] == self._sorted[:-1])
        for at in same:
            first, second = sorted((int(self._order[at]), int(self._order[at + 1])))
            doc_id = self._ids[first].as_py()
            if doc_id == self._ids[second].as_py():
                raise ValueError(f"duplicate document id {doc_id!r}: in {self.source(first)} and {self.source(second)}")

    def save(self, path: Path) -> None:
        """Write the store as one Arrow IPC file (read back by `DocStore.open`, memory-mapped)."""
        texts = pa.table({"id": self._ids, "title": self._titles, "text": self._texts})
        sources = (self._source_file, self._source_place)
        write_store(
            path, [lambda: texts], (self._sorted, self._order), sources, self._files, self.content_hash, self.identity
        )

    @classmethod
    def open(cls, path: Path) -> DocStore:
        """A store written by `save`, memory-mapped: its texts are read from disk as they are used."""
        table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
        meta = json.loads(table.schema.metadata[b"ranklens"])
        files = [tuple(entry) for entry in meta["files"]]
        return cls(
            table["id"],
            table["title"],
            table["text"],
            table["id_hash_sorted"].to_numpy(),
            table["id_order"].to_numpy(),
            table["source_file"].to_numpy(),
            table["source_place"].to_numpy(),
            files,
            meta["content_hash"],
            meta["identity"],
        )

    @property
    def nbytes(self) -> int:
        """Memory held by the columns and the id table."""
        arrays = self._ids.nbytes + self._titles.nbytes + self._texts.nbytes
        tables = self._order.nbytes + self._sorted.nbytes
        return arrays + tables + self._source_file.nbytes + self._source_place.nbytes


def write_store(
    path: Path,
    parts: Iterable[Callable[[], pa.Table]],
    id_table: tuple[np.ndarray, np.ndarray],
    sources: tuple[np.ndarray, np.ndarray],
    files: list[tuple[str, str]],
    content_hash: str,
    identity: str,
) -> None:
    """The file `DocStore.open` reads, its id, title and text columns written one part at a time: each of `parts`
    gives a table of consecutive documents when called, and is let go before the next, so an ingestion's parts
    never sit in memory (or mapped) all at once. `id_table`: the sorted id hashes and each one's position."""
    sorted_hashes, order = id_table
    meta = {"files": files, "content_hash": content_hash, "identity": identity}
    schema = pa.schema(
        [
            *(pa.field(name, kind) for name, kind in COLUMN_TYPES.items()),
            pa.field("id_hash_sorted", pa.uint64()),
            pa.field("id_order", pa.uint32()),
            pa.field("source_file", pa.uint32()),
            pa.field("source_place", pa.uint32()),
        ],
        metadata={"ranklens": json.dumps(meta)},
    )
    start = 0
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for part in parts:
            texts = part()
            end = start + len(texts)
            columns = [texts[name] for name in COLUMN_TYPES]
            columns += [pa.array(a[start:end]) for a in (sorted_hashes, order, *sources)]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            start = end
    if start != len(order):
        raise ValueError(f"the parts hold {start} documents and the id table {len(order)}")
