"""CSV and TSV: the rows (TSV without quoting), whether the first row is a header, which columns hold the id,
title and text, and the preview the uploader shows. `ranklens.corpus.readers` turns the rows into documents."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ranklens.corpus.sources import Source
from ranklens.corpus.textclean import CorpusError, text_lines

TEXT_COLUMN_NAMES = ("text", "body", "content", "passage", "abstract")
ID_COLUMN_NAMES = ("_id", "id", "doc_id", "docid")
TITLE_COLUMN_NAMES = ("title", "heading")
_ID_LIKE = re.compile(r"^(_?id|doc_?id|docno|key|sku|uuid|guid|pk|code|.*[_ ]id)$", re.IGNORECASE)
_HEADER_WORDS = set(TEXT_COLUMN_NAMES) | {"id", "_id", "title", "name", "heading", "doc_id", "docid", "url", "label"}
PREVIEW_ROWS = 5

csv.field_size_limit(2**31 - 1)  # a long abstract is a valid field; the file size limit bounds it instead


@dataclass(frozen=True)
class TableColumns:
    """Which columns of a CSV/TSV hold the text, the id and the title. None: chosen from the header (the text:
    `default_text_column`; the id: a column named id, _id, doc_id or docid; the title: title or heading);
    "" for the id or title: there is none."""

    text: str | None = None
    id: str | None = None
    title: str | None = None
    header: bool | None = None  # whether the first row names the columns; None: recognised from the rows


def table_rows(source: Source, stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """(line the row starts on, cells) for each row; TSV without quote processing."""
    delimiter = "\t" if source.name.lower().endswith(".tsv") else ","
    lines = (line + "\n" for _, line in text_lines(source.name, stream))
    # TSV has no quoting: a stray " is text, never the start of a field spanning rows
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    # strict: an unclosed quote is an error, not a field that swallows the rest of the file
    reader = csv.reader(lines, delimiter=delimiter, quoting=quoting, strict=True)
    ended = 0
    try:
        for row in reader:
            yield ended + 1, row
            ended = reader.line_num
    except csv.Error as err:
        why = "a quoted field is never closed" if "end of data" in str(err) else str(err)
        raise CorpusError(f"{source.name}, line {ended + 1}: not valid CSV ({why})") from err


def looks_like_header(first: Sequence[str], following: Sequence[Sequence[str]]) -> bool:
    """Whether a table's first row names its columns: a known column name, or short unique labels above longer
    values. A header-less file must not lose its first row to the header."""
    cells = [cell.strip() for cell in first]
    if any(cell.lower() in _HEADER_WORDS for cell in cells):
        return True
    if not all(cells) or len(set(cells)) < len(cells):
        return False
    if any(len(cell) > 40 or cell.replace(".", "").isdigit() for cell in cells):
        return False
    if not following:
        return True
    longest = max(len(cell) for cell in cells)
    return any(max((len(cell) for cell in row), default=0) > 2 * longest for row in following)


def named_column(header: Sequence[str], names: Sequence[str]) -> str | None:
    """The first column whose name (any case) is one of `names`."""
    lowered = {name.lower(): name for name in header}
    return next((lowered[name] for name in names if name in lowered), None)


def default_text_column(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str | None:
    """`text`, `body`, `content`, `passage` or `abstract` when present, else the column with the longest values
    among those that do not look like ids; None when every column looks like an id."""
    named = named_column(header, TEXT_COLUMN_NAMES)
    if named is not None:
        return named
    candidates = [i for i, name in enumerate(header) if not _ID_LIKE.match(name.strip())]
    if not candidates:
        return None

    def mean_length(i: int) -> float:
        values = [len(row[i]) for row in rows if i < len(row)]
        return sum(values) / len(values) if values else 0.0

    return header[max(candidates, key=mean_length)]


@dataclass(frozen=True)
class TablePreview:
    """A CSV/TSV's first rows, as the uploader shows them before Load."""

    header: list[str]
    rows: list[list[str]]
    has_header: bool
    text_column: str | None  # what the text column defaults to


def preview_table(source: Source, header: bool | None = None) -> TablePreview:
    """The first rows of a CSV/TSV, whether it has a header, and the text column it would default to."""
    rows = []
    with source.open() as stream:
        for _, row in table_rows(source, stream):
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) > PREVIEW_ROWS:
                break
    if not rows:
        raise CorpusError(f"{source.name}: the file is empty")
    has_header = looks_like_header(rows[0], rows[1:]) if header is None else header
    names = [c.strip() for c in rows[0]] if has_header else [f"column {i + 1}" for i in range(len(rows[0]))]
    body = rows[1:] if has_header else rows
    return TablePreview(names, body[:PREVIEW_ROWS], has_header, default_text_column(names, body))


def column_at(name: str | None, role: str, header: list[str], source: Source) -> int | None:
    if name is None:
        return None
    if name not in header:
        shown = ", ".join(map(repr, header))
        raise CorpusError(f"{source.name}: no column {name!r} for the {role}; the columns are {shown}")
    return header.index(name)


def cell(row: list[str], at: int | None) -> str:
    return row[at] if at is not None and at < len(row) else ""
