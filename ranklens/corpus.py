"""Corpora: parse uploaded files or a BEIR folder into validated documents with stable ids.

Everything here is all-or-nothing: a problem anywhere raises `CorpusError` naming the
file (and line, for CSV/TSV/JSONL) and nothing is returned, so nothing half-loaded is
ever indexed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BUILTIN_DIR = Path(__file__).resolve().parents[1] / "corpora"
MAX_FILES = 200
MAX_TOTAL_BYTES = 200 * 1024 * 1024  # the UI's upload limit (.streamlit/config.toml) matches this
TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
TABLE_SUFFIXES = {".csv", ".tsv"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | TABLE_SUFFIXES | {".jsonl", ".pdf"}


class CorpusError(ValueError):
    """Input that cannot become a corpus; the message says which file and line, and why."""


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""
    source: str = ""

    @property
    def full_text(self) -> str:
        """What the models read: the title (when there is one) followed by the text."""
        return f"{self.title} {self.text}" if self.title else self.text


Qrels = dict[str, dict[str, int]]


@dataclass
class Corpus:
    name: str
    documents: list[Document]
    queries: dict[str, str] = field(default_factory=dict)
    qrels: Qrels = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id = {doc.id: doc for doc in self.documents}

    def __len__(self) -> int:
        return len(self.documents)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._by_id

    def get(self, doc_id: str) -> Document:
        return self._by_id[doc_id]

    def content_hash(self) -> str:
        """Changes whenever any document's id, title or text changes; keys the index cache."""
        digest = hashlib.sha256()
        for doc in self.documents:
            for part in (doc.id, doc.title, doc.text):
                digest.update(part.encode("utf-8"))
                digest.update(b"\x00")
        return digest.hexdigest()

    def judged_queries(self) -> dict[str, str]:
        """The queries that have relevance judgements: the ones to evaluate on."""
        return {qid: text for qid, text in self.queries.items() if qid in self.qrels}


@dataclass(frozen=True)
class TableColumns:
    """Which columns of a CSV/TSV hold the text, and optionally the id and title."""

    text: str = "text"
    id: str | None = None
    title: str | None = None


def content_id(text: str) -> str:
    return "h" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def decode(name: str, data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16 with a BOM, else a clear error."""
    if not data.strip():
        raise CorpusError(f"{name}: the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise CorpusError(
                f"{name}: starts with a UTF-16 byte-order mark but is not valid UTF-16 ({err.reason})"
            ) from err
    if b"\x00" in data[:8192]:
        raise CorpusError(f"{name}: looks like a binary file (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CorpusError(
            f"{name}: not valid UTF-8 (byte 0x{data[err.start]:02x} at line {line}, offset {err.start}); "
            "re-save the file as UTF-8"
        ) from err


def _parse_text(name: str, data: bytes) -> list[Document]:
    text = decode(name, data).strip()
    return [Document(id=name, text=text, title=Path(name).stem, source=name)]


def _parse_table(name: str, data: bytes, columns: TableColumns) -> list[Document]:
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    reader = csv.DictReader(io.StringIO(decode(name, data), newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    for role, column in (("text", columns.text), ("id", columns.id), ("title", columns.title)):
        if column is not None and column not in header:
            raise CorpusError(
                f"{name}: no column {column!r} for the {role}; the columns are {', '.join(map(repr, header))}"
            )
    docs = []
    for row in reader:
        line = reader.line_num
        if None in row:
            raise CorpusError(f"{name}, line {line}: more fields than the header has columns")
        text = (row.get(columns.text) or "").strip()
        if not text:
            raise CorpusError(f"{name}, line {line}: the {columns.text!r} column is empty")
        doc_id = (row.get(columns.id) or "").strip() if columns.id else ""
        title = (row.get(columns.title) or "").strip() if columns.title else ""
        docs.append(Document(id=doc_id or content_id(text), text=text, title=title, source=f"{name}:{line}"))
    if not docs:
        raise CorpusError(f"{name}: a header but no rows")
    return docs


def _jsonl_records(name: str, data: bytes) -> Iterable[tuple[int, dict]]:
    for number, line in enumerate(decode(name, data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise CorpusError(f"{name}, line {number}: not valid JSON ({err.msg} at column {err.colno})") from err
        if not isinstance(record, dict):
            raise CorpusError(f"{name}, line {number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def _parse_jsonl(name: str, data: bytes) -> list[Document]:
    docs = []
    for number, record in _jsonl_records(name, data):
        text = str(record.get("text") or "").strip()
        title = str(record.get("title") or "").strip()
        if not text and not title:
            raise CorpusError(f"{name}, line {number}: no 'text' (and no 'title')")
        raw_id = record.get("_id", record.get("id"))
        doc_id = str(raw_id).strip() if raw_id is not None else ""
        docs.append(Document(id=doc_id or content_id(title + text), text=text, title=title, source=f"{name}:{number}"))
    return docs


def _parse_pdf(name: str, data: bytes, per_page: bool) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.strip():
        raise CorpusError(f"{name}: the file is empty")
    try:
        pages = [(page.extract_text() or "").strip() for page in PdfReader(io.BytesIO(data)).pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as err:
        raise CorpusError(f"{name}: not a readable PDF ({err})") from err
    stem = Path(name).stem
    if per_page:
        docs = [
            Document(id=f"{stem}#p{number}", text=text, title=f"{stem} p.{number}", source=f"{name}:page {number}")
            for number, text in enumerate(pages, start=1)
            if text
        ]
    else:
        text = "\n\n".join(page for page in pages if page)
        docs = [Document(id=stem, text=text, title=stem, source=name)] if text else []
    if not docs:
        raise CorpusError(f"{name}: no extractable text (a scanned PDF needs OCR first)")
    return docs


def parse_file(
    name: str, data: bytes, columns: TableColumns | None = None, pdf_per_page: bool = True
) -> list[Document]:
    """Documents from one file's bytes; the format comes from the name's suffix."""
    suffix = Path(name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _parse_text(name, data)
    if suffix in TABLE_SUFFIXES:
        return _parse_table(name, data, columns or TableColumns())
    if suffix == ".jsonl":
        return _parse_jsonl(name, data)
    if suffix == ".pdf":
        return _parse_pdf(name, data, pdf_per_page)
    raise CorpusError(
        f"{name}: unsupported file type {suffix or '(none)'}; use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
    )


def table_columns(name: str, data: bytes) -> list[str]:
    """The header of a CSV/TSV, so a caller can offer a column picker."""
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    return next(csv.reader(io.StringIO(decode(name, data)), delimiter=delimiter), [])


def check_documents(docs: Sequence[Document]) -> None:
    seen: dict[str, str] = {}
    for doc in docs:
        if not doc.full_text.strip():
            raise CorpusError(f"{doc.source}: document {doc.id!r} has no text")
        if doc.id in seen:
            raise CorpusError(f"duplicate document id {doc.id!r}: in {seen[doc.id]} and {doc.source}")
        seen[doc.id] = doc.source


def load_files(
    files: Sequence[tuple[str, bytes]],
    name: str = "upload",
    columns: TableColumns | None = None,
    pdf_per_page: bool = True,
    max_files: int = MAX_FILES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> Corpus:
    """One corpus from several files, given as (file name, bytes) pairs."""
    if not files:
        raise CorpusError("no files given")
    if len(files) > max_files:
        raise CorpusError(f"{len(files)} files is more than the limit of {max_files}")
    total = sum(len(data) for _, data in files)
    if total > max_total_bytes:
        raise CorpusError(f"{total / 2**20:.1f} MiB in all is more than the limit of {max_total_bytes / 2**20:.0f} MiB")
    docs = [doc for file_name, data in files for doc in parse_file(file_name, data, columns, pdf_per_page)]
    check_documents(docs)
    return Corpus(name=name, documents=docs)


def is_beir_dir(path: Path) -> bool:
    return (path / "corpus.jsonl").is_file()


def parse_qrels(name: str, text: str) -> Qrels:
    """BEIR (`query-id<TAB>corpus-id<TAB>score`, header optional) or TREC (`qid 0 docid grade`) qrels."""
    qrels: Qrels = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("\t") if "\t" in line else line.split()
        if not fields or (number == 1 and fields[0] in ("query-id", "query_id", "qid")):
            continue
        if len(fields) == 4:  # TREC qrels: qid iteration docid grade
            fields = [fields[0], fields[2], fields[3]]
        if len(fields) != 3:
            raise CorpusError(
                f"{name}, line {number}: expected 'query-id<TAB>corpus-id<TAB>score' or 'qid 0 docid grade'"
            )
        try:
            grade = int(float(fields[2]))
        except ValueError as err:
            raise CorpusError(f"{name}, line {number}: score {fields[2]!r} is not a number") from err
        qrels.setdefault(fields[0], {})[fields[1]] = grade
    return qrels


def load_beir(path: str | Path, split: str = "test") -> Corpus:
    """A BEIR-layout folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv."""
    root = Path(path)
    if not is_beir_dir(root):
        raise CorpusError(f"{root}: not a BEIR folder (no corpus.jsonl)")
    docs = _parse_jsonl(str(root / "corpus.jsonl"), (root / "corpus.jsonl").read_bytes())
    check_documents(docs)
    queries: dict[str, str] = {}
    queries_file = root / "queries.jsonl"
    if queries_file.is_file():
        for number, record in _jsonl_records(str(queries_file), queries_file.read_bytes()):
            if "_id" not in record or not str(record.get("text", "")).strip():
                raise CorpusError(f"{queries_file}, line {number}: a query needs '_id' and 'text'")
            queries[str(record["_id"])] = str(record["text"]).strip()
    qrels_file = root / "qrels" / f"{split}.tsv"
    qrels = (
        parse_qrels(str(qrels_file), decode(str(qrels_file), qrels_file.read_bytes())) if qrels_file.is_file() else {}
    )
    return Corpus(name=root.name, documents=docs, queries=queries, qrels=qrels)


def load_paths(paths: Sequence[str | Path], columns: TableColumns | None = None, pdf_per_page: bool = True) -> Corpus:
    """A BEIR folder, a folder of files, or a list of files, read from disk."""
    resolved = [Path(p) for p in paths]
    if len(resolved) == 1 and resolved[0].is_dir():
        folder = resolved[0]
        if is_beir_dir(folder):
            return load_beir(folder)
        resolved = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        if not resolved:
            raise CorpusError(f"{folder}: no files of a supported type ({', '.join(sorted(SUPPORTED_SUFFIXES))})")
    missing = [str(p) for p in resolved if not p.is_file()]
    if missing:
        raise CorpusError(f"no such file: {', '.join(missing)}")
    total = sum(p.stat().st_size for p in resolved)
    if total > MAX_TOTAL_BYTES:  # checked before reading, so a huge file is never loaded into memory
        raise CorpusError(f"{total / 2**20:.1f} MiB in all is more than the limit of {MAX_TOTAL_BYTES / 2**20:.0f} MiB")
    name = resolved[0].stem if len(resolved) == 1 else resolved[0].parent.name or "files"
    return load_files(
        [(str(p), p.read_bytes()) for p in resolved], name=name, columns=columns, pdf_per_page=pdf_per_page
    )


def builtin_names() -> list[str]:
    """The demo corpora shipped in corpora/, each a BEIR folder with queries and graded qrels."""
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if is_beir_dir(p)) if BUILTIN_DIR.is_dir() else []


def load_builtin(name: str) -> Corpus:
    if name not in builtin_names():
        raise CorpusError(f"no built-in corpus {name!r}; there are {', '.join(builtin_names())}")
    return load_beir(BUILTIN_DIR / name)
