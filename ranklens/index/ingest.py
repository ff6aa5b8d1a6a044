"""Ingestion: a corpus larger than memory, read a line at a time, embedded group by group, appended to disk.

The same readers and checks as every other load (ranklens.corpus.readers), but the documents never
sit in memory together: each group of CONTENT_GROUP documents is written as an Arrow part,
chunked, embedded and appended to a vector file (and to Milvus, with `target="milvus"`), then a
checkpoint is saved. A killed ingestion resumes at its last checkpoint and ends with the very
same files as one that was never stopped. At the end the parts become a stored corpus
(ranklens.corpus.stored, memory-mapped) and its embeddings land in the embeddings cache, so
`embed_corpus`, every first stage and the app find them.

Over 300 lines on purpose: the checkpoint, the part files and the Milvus appends are one
resumable state machine; split up, a resume could see one piece's state without the other's.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ranklens import cachedir
from ranklens.corpus.chunking import chunk_documents
from ranklens.corpus.corpus import Corpus, CorpusError
from ranklens.corpus.docstore import (
    COLUMN_TYPES,
    CONTENT_GROUP,
    ContentHashes,
    DocStore,
    Document,
    id_hash,
    write_store,
)
from ranklens.corpus.readers import _read, _Reading, check_sizes, files_in
from ranklens.corpus.sources import Source
from ranklens.corpus.stored import open_corpus, stored_corpora_root
from ranklens.corpus.tables import TableColumns
from ranklens.corpus.textclean import one_line
from ranklens.index.embeddings import CorpusEmbeddings, cache_key, chunk_settings, embed_corpus, embed_passages
from ranklens.index.milvus import MilvusCollection, MilvusSettings
from ranklens.models.embedder import Embedder
from ranklens.settings import data_dir


@dataclass(frozen=True)
class IngestSettings:
    """Where ingestion writes (the FAISS cache or Milvus too) and how many documents go in one group."""

    target: str = "faiss"  # "milvus": the embedded passages also go into the Milvus collection
    milvus: MilvusSettings = field(default_factory=MilvusSettings)
    group: int = CONTENT_GROUP  # documents per checkpoint; the default makes the same cache keys as any other load


@dataclass
class IngestProgress:
    """How far an ingestion is, for the progress bar: documents, passages, lines in the file, time."""

    documents: int  # in, this run and before it
    passages: int
    lines: int  # of the inputs: what a document-per-line format will end at
    seconds: float  # this run
    resumed_at: int  # documents already in when this run began

    @property
    def docs_per_second(self) -> float:
        """Documents per second in this run (not counting what a resume skipped)."""
        return (self.documents - self.resumed_at) / self.seconds if self.seconds else 0.0

    @property
    def eta_seconds(self) -> float:
        """Seconds left at the current rate (NaN before there is a rate)."""
        rate = self.docs_per_second
        return max(0.0, self.lines - self.documents) / rate if rate else float("nan")


@dataclass
class Ingested:
    """What an ingestion produced: the stored corpus and its embeddings."""

    corpus: Corpus
    embeddings: CorpusEmbeddings
    resumed_at: int  # documents that were already in from an earlier, interrupted run
    seconds: float


class _Groups:
    """A reader's sink (the interface of DocStoreBuilder) that hands each full group of documents on."""

    def __init__(self, skip: int, size: int, on_group: Callable[[list[Document], list[tuple[int, int]]], None]) -> None:
        self.files: list[tuple[str, str]] = []
        self.skip, self.seen = skip, 0
        self.pending: list[Document] = []
        self.places: list[tuple[int, int]] = []
        self.on_group, self.size = on_group, size

    def add_file(self, name: str, places: str) -> int:
        self.files.append((name, places))
        return len(self.files) - 1

    def add(self, doc_id: str, title: str, text: str, file: int, place: int = 0) -> None:
        self.seen += 1
        if self.seen <= self.skip:  # in the parts already, from the run that was interrupted
            return
        self.pending.append(Document(doc_id, text, title))
        self.places.append((file, place))
        if len(self.pending) == self.size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.on_group(self.pending, self.places)
            self.pending, self.places = [], []

    def __len__(self) -> int:
        return self.seen


class Ingestion:
    """One input's ingestion in its work folder: parts, vectors, checkpoint."""

    def __init__(
        self,
        sources: Sequence[Source],
        embedder: Embedder,
        columns: TableColumns,
        settings: IngestSettings,
        fingerprint: str,
        progress: Callable[[IngestProgress], None] | None,
    ) -> None:
        self.sources, self.embedder, self.columns, self.settings = sources, embedder, columns, settings
        self.folder = data_dir() / "ingest" / fingerprint
        self.folder.mkdir(parents=True, exist_ok=True)
        self.chunking, self.group = chunk_settings(embedder), settings.group
        self.progress, self.started = progress, time.perf_counter()
        self.lines = sum(_count_lines(source) for source in sources)
        state = self._checkpoint()
        self.groups, self.documents, self.passages = state["groups"], state["documents"], state["passages"]
        self.hashes = ContentHashes(**state["hashes"])
        self.resumed_at = self.documents
        self._discard_beyond_checkpoint()

    def _checkpoint(self) -> dict:
        try:
            return json.loads((self.folder / "checkpoint.json").read_text())
        except (OSError, ValueError):
            return {"groups": 0, "documents": 0, "passages": 0, "hashes": ContentHashes(group=self.group).state()}

    def _save_checkpoint(self) -> None:
        state = {
            "groups": self.groups,
            "documents": self.documents,
            "passages": self.passages,
            "hashes": self.hashes.state(),
        }
        staging = self.folder / "checkpoint.tmp"
        staging.write_text(json.dumps(state))
        staging.replace(self.folder / "checkpoint.json")

    def _discard_beyond_checkpoint(self) -> None:
        """What an interrupted run wrote after its last checkpoint: later parts, and vectors past its passages."""
        for part in self.folder.glob("part-*"):
            if int(part.name.split("-")[1].split(".")[0]) >= self.groups:
                part.unlink()
        vectors = self.folder / "vectors.f32"
        if vectors.exists():
            with vectors.open("r+b") as handle:
                handle.truncate(self.passages * self.embedder.dimension * 4)

    def _on_group(self, documents: list[Document], places: list[tuple[int, int]]) -> None:
        try:
            store = DocStore.from_documents(documents)
        except ValueError as err:  # the same id twice within the group
            raise CorpusError(one_line(str(err))) from err
        passages = chunk_documents(store, self.embedder.tokenizer, self.chunking)
        vectors = embed_passages(passages, self.embedder)
        columns = {name: values.astype(np.int64) for name, values in passages.columns.items()}
        columns["document"] += self.documents
        table = pa.table(
            {
                "id": pa.array([d.id for d in documents], type=COLUMN_TYPES["id"]),
                "title": pa.array([d.title for d in documents], type=COLUMN_TYPES["title"]),
                "text": pa.array([d.text for d in documents], type=COLUMN_TYPES["text"]),
                "id_hash": pa.array([id_hash(d.id) for d in documents], type=pa.uint64()),
                "source_file": pa.array([file for file, _ in places], type=pa.uint32()),
                "source_place": pa.array([place for _, place in places], type=pa.uint32()),
            }
        )
        number = f"{self.groups:06d}"
        with (
            pa.OSFile(str(self.folder / f"part-{number}.arrow"), "wb") as sink,
            pa.ipc.new_file(sink, table.schema) as w,
        ):
            w.write_table(table)
        np.savez(self.folder / f"part-{number}.passages.npz", **columns)
        with (self.folder / "vectors.f32").open("ab") as handle:
            handle.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        for doc in documents:
            self.hashes.add(doc.id, doc.title, doc.text)
        self.groups, self.documents, self.passages = (
            self.groups + 1,
            self.documents + len(documents),
            self.passages + len(passages),
        )
        if len(documents) == self.group:
            self._save_checkpoint()  # a last, partial group is never resumed: the end follows at once
        if self.progress:
            self.progress(
                IngestProgress(
                    self.documents, self.passages, self.lines, time.perf_counter() - self.started, self.resumed_at
                )
            )

    def read(self, stop_after_groups: int | None = None) -> bool:
        """Read, embed and write every group from the checkpoint on; False when stopped early (tests)."""
        stop = None if stop_after_groups is None else self.groups + stop_after_groups

        def on_group(documents, places):
            self._on_group(documents, places)
            if stop is not None and self.groups >= stop:
                raise _Stopped

        groups = _Groups(self.documents, self.group, on_group)
        reading = _Reading()
        reading.builder = groups
        try:
            for source in self.sources:
                _read(reading, source, self.columns)
            groups.flush()
        except _Stopped:
            return False
        self.files, self.repairs = groups.files, reading.repairs.warnings() + reading.notes
        return True


class _Stopped(Exception):
    """Raised from a group's end to interrupt an ingestion the way a kill would, for the tests."""


def _count_lines(source: Source) -> int:
    count = 0
    with source.open() as stream:
        while block := stream.read(1 << 22):
            count += block.count(b"\n")
    return count


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.arrow"))


def _read_part(path: Path) -> pa.Table:
    """One part, read into memory rather than mapped: it is let go as soon as it is written on."""
    with pa.OSFile(str(path), "rb") as source:
        return pa.ipc.open_file(source).read_all()


def _save_documents(ingestion: Ingestion, path: Path) -> None:
    """The stored corpus's file from the parts, a part at a time: only the id table (about 24 bytes a document)
    is built whole. Raises CorpusError naming both places when an id occurs twice."""
    parts = _parts(ingestion.folder)
    small: dict[str, list[np.ndarray]] = {"id_hash": [], "source_file": [], "source_place": []}
    for part in parts:
        table = _read_part(part)
        for column, arrays in small.items():
            arrays.append(table[column].to_numpy().copy())  # a copy: a view would keep the whole part alive
    hashes, file, place = (
        np.concatenate(arrays) if arrays else np.zeros(0, np.uint64 if c == "id_hash" else np.uint32)
        for c, arrays in small.items()
    )
    order = np.argsort(hashes, kind="stable").astype(np.uint32)
    readers = [lambda part=part: _read_part(part) for part in parts]
    content = ingestion.hashes
    write_store(
        path, readers, (hashes[order], order), (file, place), ingestion.files, content.ordered(), content.identity()
    )
    try:
        DocStore.open(path).check_unique()
    except ValueError as err:
        raise CorpusError(one_line(str(err))) from err


def _finish(ingestion: Ingestion, name: str) -> tuple[Corpus, CorpusEmbeddings]:
    """The parts as a stored corpus, the passages and vectors as its embeddings in the cache."""
    from ranklens.corpus.passages import FIELD_TYPES, PassageTable

    key = "c" + ingestion.hashes.identity()[:24]
    folder = stored_corpora_root() / key
    if not (folder / "corpus.json").is_file():
        staging = cachedir.staging_folder(folder)
        try:
            _save_documents(ingestion, staging / "documents.arrow")
        except CorpusError:
            cachedir.discard(staging)
            raise
        meta = {
            "name": name,
            "queries": {},
            "qrels": {},
            "warnings": ingestion.repairs,
            "documents": ingestion.documents,
        }
        (staging / "corpus.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        cachedir.install(staging, folder)
    corpus = open_corpus(key)
    parts = [np.load(p) for p in sorted(ingestion.folder.glob("part-*.passages.npz"))]
    columns = {f: np.concatenate([p[f] for p in parts] or [np.zeros(0)]).astype(t) for f, t in FIELD_TYPES.items()}
    passages = PassageTable(corpus.documents, columns)
    target = data_dir() / "indexes" / cache_key(corpus, ingestion.embedder, ingestion.chunking)
    if not target.is_dir():
        staging = cachedir.staging_folder(target)
        passages.save(staging / "passages.npz")
        _npy_from_raw(ingestion.folder / "vectors.f32", staging / "vectors.npy", ingestion.embedder.dimension)
        cachedir.install(staging, target)
    return corpus, embed_corpus(corpus, ingestion.embedder)


def _npy_from_raw(raw: Path, target: Path, dimension: int) -> None:
    """A .npy file of the raw float32 rows: its header, then the bytes copied a block at a time.

    Plain reads and writes, not memory maps: a mapped file's pages count in the process's resident
    memory, so copying through two maps made the ingestion's peak twice the vectors' size."""
    rows = raw.stat().st_size // (4 * dimension)
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False}
    with raw.open("rb") as source, target.open("wb") as written:
        np.lib.format.write_array_header_1_0(written, {**header, "shape": (rows, dimension)})
        shutil.copyfileobj(source, written, 1 << 20)


def fingerprint(
    sources: Sequence[Source],
    paths: Sequence[Path],
    embedder: Embedder,
    columns: TableColumns,
    settings: IngestSettings,
) -> str:
    """The work folder's name: the inputs (path, size, time), the model, the columns and the target."""
    parts = [f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in paths]
    parts += [embedder.fingerprint, json.dumps(asdict(columns), sort_keys=True), settings.target, str(settings.group)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def ingest(
    paths: Sequence[str | Path],
    embedder: Embedder,
    columns: TableColumns | None = None,
    settings: IngestSettings | None = None,
    progress: Callable[[IngestProgress], None] | None = None,
    stop_after_groups: int | None = None,
) -> Ingested | None:
    """Ingest files (or a BEIR folder's corpus.jsonl) into a stored corpus with cached embeddings, resuming an
    interrupted run of the same inputs; None when stopped early by `stop_after_groups` (tests)."""
    started = time.perf_counter()
    resolved = [Path(p) for p in paths]
    if len(resolved) == 1 and resolved[0].is_dir():
        beir = resolved[0] / "corpus.jsonl"
        resolved = [beir] if beir.is_file() else files_in(resolved[0])
    sources = [Source.from_path(p) for p in resolved]
    check_sizes(sources, max_total_bytes=2**62)  # ingestion is for corpora larger than memory: no size limit
    columns, settings = columns or TableColumns(), settings or IngestSettings()
    ingestion = Ingestion(
        sources, embedder, columns, settings, fingerprint(sources, resolved, embedder, columns, settings), progress
    )
    if not ingestion.read(stop_after_groups):
        return None
    name = resolved[0].parent.name if resolved[0].name == "corpus.jsonl" else resolved[0].name
    corpus, embeddings = _finish(ingestion, name)
    shutil.rmtree(ingestion.folder, ignore_errors=True)  # our own work folder: the results are in place now
    if settings.target == "milvus":  # from the vectors on disk, a batch at a time, resumable on its own
        MilvusCollection(embeddings, settings.milvus).ingest()
    return Ingested(corpus, embeddings, ingestion.resumed_at, time.perf_counter() - started)
