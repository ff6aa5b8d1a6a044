"""Readers: files of every supported format into validated documents, read a line at a time.

Everything is all-or-nothing: a problem anywhere raises `CorpusError` naming the file (and
line, for CSV/TSV/JSONL) and nothing is returned, so nothing half-loaded is ever indexed.
Recoverable problems are repaired and reported in `Corpus.warnings`. Sizes are checked from
what the file system or the upload says before a byte is read.

A little over 300 lines: one reader per format (text, Markdown, JSONL, PDF; CSV/TSV rows come
from ranklens.corpus.tables) sharing the same size, encoding and repair rules, and the loaders over them.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from ranklens.corpus.corpus import Corpus
from ranklens.corpus.docstore import DocStoreBuilder
from ranklens.corpus.sources import Source
from ranklens.corpus.tables import (
    ID_COLUMN_NAMES,
    TITLE_COLUMN_NAMES,
    TableColumns,
    cell,
    column_at,
    named_column,
    preview_table,
    table_rows,
)
from ranklens.corpus.textclean import CorpusError, Repairs, normalise, one_line, text_lines

MAX_FILES = 200
MAX_TOTAL_BYTES = 200 * 1024 * 1024  # the UI's upload limit (.streamlit/config.toml) matches this
MAX_JSON_DEPTH = 20
TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
TABLE_SUFFIXES = {".csv", ".tsv"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | TABLE_SUFFIXES | {".jsonl", ".pdf"}


def check_sizes(sources: Sequence[Source], max_files: int = MAX_FILES, max_total_bytes: int = MAX_TOTAL_BYTES) -> None:
    """Refuse too many files or too many bytes before any is read."""
    if not sources:
        raise CorpusError("no files given")
    if len(sources) > max_files:
        raise CorpusError(f"{len(sources)} files is more than the limit of {max_files}")
    total = sum(source.size for source in sources)
    if total > max_total_bytes:
        raise CorpusError(f"{total / 2**20:.1f} MiB in all is more than the limit of {max_total_bytes / 2**20:.0f} MiB")


class _Reading:
    """One corpus being read: the documents so far, what was repaired, and other things worth saying."""

    def __init__(self) -> None:
        self.builder = DocStoreBuilder()
        self.repairs = Repairs()
        self.notes: list[str] = []

    def add(self, file: int, place: int, where: str, doc_id: str, title: str, text: str) -> None:
        """One document; refuses one with no text (a title alone counts as text)."""
        title, text = normalise(title, self.repairs, where), normalise(text, self.repairs, where)
        if not (title or text):
            raise CorpusError(f"{where}: the document has no text (it is empty or only whitespace)")
        doc_id = normalise(doc_id, self.repairs, where)
        if not doc_id:
            self.repairs.note("no id", where)
            doc_id = content_id(title + text)
        self.builder.add(doc_id, title, text, file, place)

    def corpus(self, name: str, **extra) -> Corpus:
        try:
            store = self.builder.build()
        except ValueError as err:
            raise CorpusError(one_line(str(err))) from err
        return Corpus(name, store, warnings=self.repairs.warnings() + self.notes, **extra)


def content_id(text: str) -> str:
    """A stable id for a document that has none: a hash of its text."""
    return "h" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _read_text(reading: _Reading, source: Source) -> None:
    with source.open() as stream:
        text = "\n".join(line for _, line in text_lines(source.name, stream))
    if not normalise(text, Repairs(), source.name):  # the title comes from the file name: it is no text
        raise CorpusError(f"{source.name}: the document has no text (it is empty or only whitespace)")
    file = reading.builder.add_file(source.name, "")
    reading.add(file, 0, source.name, source.name, Path(source.name).stem, text)


def _read_table(reading: _Reading, source: Source, columns: TableColumns) -> None:
    shape = preview_table(source, columns.header)
    text_name = columns.text or shape.text_column
    if text_name is None:
        raise CorpusError(f"{source.name}: every column looks like an id; say which column holds the text")
    text_at = column_at(text_name, "text", shape.header, source)
    id_name = named_column(shape.header, ID_COLUMN_NAMES) if columns.id is None else columns.id or None
    title_name = named_column(shape.header, TITLE_COLUMN_NAMES) if columns.title is None else columns.title or None
    id_at = column_at(id_name, "id", shape.header, source)
    title_at = column_at(title_name, "title", shape.header, source)
    file = reading.builder.add_file(source.name, "line")
    rows = 0
    with source.open() as stream:
        table = table_rows(source, stream)
        if shape.has_header:
            next(table, None)
        for line, row in table:
            if not row:  # a blank line; a row of empty fields is a row, and its text is checked below
                continue
            if len(row) > len(shape.header):
                raise CorpusError(f"{source.name}, line {line}: more fields than the header has columns")
            if not cell(row, text_at).strip():
                raise CorpusError(f"{source.name}, line {line}: the {text_name!r} column is empty")
            where = f"{source.name}, line {line}"
            reading.add(file, line, where, cell(row, id_at), cell(row, title_at), cell(row, text_at))
            rows += 1
    if not rows:
        raise CorpusError(f"{source.name}: a header but no rows")
    if not shape.has_header:
        reading.notes.append(
            f"{source.name}: no header row recognised, so the first row is a document; the columns "
            f"are named column 1 to column {len(shape.header)}"
        )


def json_depth(value: object) -> int:
    """How deeply objects and arrays nest in a parsed JSON value (a bare string or number is 0)."""
    depth, level = 0, [(value, 1)]
    while level:
        item, at = level.pop()
        if isinstance(item, dict | list):
            depth = max(depth, at)
            level.extend((child, at + 1) for child in (item.values() if isinstance(item, dict) else item))
    return depth


def jsonl_records(name: str, stream: BinaryIO) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON Lines file; refuses what is not a JSON object."""
    for number, line in text_lines(name, stream):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise CorpusError(f"{name}, line {number}: not valid JSON ({err.msg} at column {err.colno})") from err
        except RecursionError as err:
            raise CorpusError(f"{name}, line {number}: JSON nested too deeply to read") from err
        if not isinstance(record, dict):
            raise CorpusError(f"{name}, line {number}: expected a JSON object, got {type(record).__name__}")
        if json_depth(record) > MAX_JSON_DEPTH:
            raise CorpusError(f"{name}, line {number}: JSON nested more than {MAX_JSON_DEPTH} levels deep")
        yield number, record


def _json_type(value: object) -> str:
    return {dict: "an object", list: "a list", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def record_fields(where: str, record: dict) -> tuple[str, str, str]:
    """(id, title, text) of a corpus record: `text` a string (empty only with a title), `title` a string or
    absent, `_id`/`id` a string, an integer, or absent (then made from the text)."""
    if "text" not in record:
        raise CorpusError(f"{where}: no 'text' field")
    text, title = record["text"], record.get("title", "")
    if not isinstance(text, str):
        raise CorpusError(f"{where}: 'text' must be a string, got {_json_type(text)}")
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise CorpusError(f"{where}: 'title' must be a string, got {_json_type(title)}")
    raw_id = record.get("_id", record.get("id"))
    if raw_id is None:
        return "", title, text
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        raise CorpusError(f"{where}: the id must be a string or an integer, got {_json_type(raw_id)}")
    return str(raw_id), title, text


def _read_jsonl(reading: _Reading, source: Source) -> None:
    file = reading.builder.add_file(source.name, "line")
    with source.open() as stream:
        for number, record in jsonl_records(source.name, stream):
            where = f"{source.name}, line {number}"
            doc_id, title, text = record_fields(where, record)
            reading.add(file, number, where, doc_id, title, text)


def load_jsonl(source: Source, name: str) -> Corpus:
    """A corpus from one JSON Lines file ({_id, title, text} or {id, text} per line)."""
    reading = _Reading()
    _read_jsonl(reading, source)
    return reading.corpus(name)


def _read_pdf(reading: _Reading, source: Source) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    with source.open() as stream:
        data = stream.read()
    if not data.strip():
        raise CorpusError(f"{source.name}: the file is empty")
    try:
        pages = [(page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages]
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError) as err:
        raise CorpusError(f"{source.name}: not a readable PDF ({one_line(str(err))})") from err
    stem = Path(source.name).stem
    file = reading.builder.add_file(source.name, "page")
    before = len(reading.builder)
    for number, text in enumerate(pages, start=1):
        if normalise(text, Repairs(), ""):
            where = f"{source.name}, page {number}"
            reading.add(file, number, where, f"{stem}#p{number}", f"{stem} p.{number}", text)
    if len(reading.builder) == before:
        raise CorpusError(f"{source.name}: no extractable text (a scanned PDF needs OCR first)")


def _read(reading: _Reading, source: Source, columns: TableColumns) -> None:
    suffix = Path(source.name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        _read_text(reading, source)
    elif suffix in TABLE_SUFFIXES:
        _read_table(reading, source, columns)
    elif suffix == ".jsonl":
        _read_jsonl(reading, source)
    elif suffix == ".pdf":
        _read_pdf(reading, source)
    else:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise CorpusError(f"{source.name}: unsupported file type {suffix or '(none)'}; use one of {supported}")


def corpus_name(sources: Sequence[Source]) -> str:
    """What an upload is called: its file's name, or the first file's name and how many more."""
    first = Path(sources[0].name).name
    return first if len(sources) == 1 else f"{first} + {len(sources) - 1} more"


def load_sources(
    sources: Sequence[Source],
    name: str | None = None,
    columns: TableColumns | None = None,
    max_files: int = MAX_FILES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> Corpus:
    """One corpus from several files, sizes checked before anything is read."""
    check_sizes(sources, max_files, max_total_bytes)
    reading = _Reading()
    for source in sources:
        _read(reading, source, columns or TableColumns())
    return reading.corpus(name or corpus_name(sources))


def load_files(
    files: Sequence[tuple[str, bytes]],
    name: str | None = None,
    columns: TableColumns | None = None,
    max_files: int = MAX_FILES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> Corpus:
    """One corpus from (file name, bytes) pairs."""
    sources = [Source.from_bytes(file_name, data) for file_name, data in files]
    return load_sources(sources, name, columns, max_files, max_total_bytes)


def load_uploads(uploads: Iterable, columns: TableColumns | None = None, name: str | None = None) -> Corpus:
    """One corpus from uploaded files (Streamlit's UploadedFile): the app's uploader calls exactly this."""
    return load_sources([Source.from_upload(upload) for upload in uploads], name, columns)


def files_in(folder: Path) -> list[Path]:
    """The supported files below a folder, in name order."""
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    if not found:
        raise CorpusError(f"{folder}: no files of a supported type ({', '.join(sorted(SUPPORTED_SUFFIXES))})")
    return found
