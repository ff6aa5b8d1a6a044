"""Hostile input files, generated: every class of bad corpus input, each with the exact outcome RankLens owes it.

An outcome is a refusal (one line, naming the file and, where there is one, the line) or a
load (so many documents, these warnings, and what the texts must look like afterwards).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pdfmaker import make_pdf


@dataclass(frozen=True)
class Case:
    id: str
    name: str  # as uploaded (it may be hostile); on disk the file gets its cleaned name
    data: bytes
    refused: str | None = None  # a substring of the one-line refusal
    documents: int | None = None
    warnings: tuple[str, ...] = ()  # substrings, each of some warning
    holds: Callable | None = field(default=None, compare=False)  # a check on the loaded corpus


def jsonl(*records) -> bytes:
    return "\n".join(json.dumps(r) for r in records).encode()


def _texts(corpus) -> list[str]:
    return [d.full_text for d in corpus.documents]


def _no_controls(corpus) -> bool:
    return not any(ch in text for text in _texts(corpus) for ch in "\x1b\x00\x07\x85\x9b\r")


BIG_FIELD = "word " * 40_000  # 200 KB in one CSV field: valid, and over csv's default 128 KiB limit

CASES = [
    # encodings
    Case(
        "latin-1", "latin1.txt", "caf\u00e9 au lait".encode("latin-1"), refused="not valid UTF-8 (byte 0xe9 at line 1"
    ),
    Case(
        "cp1252-quotes",
        "quotes.jsonl",
        b'{"_id": "1", "text": "\x93smart\x94"}\n',
        refused="quotes.jsonl: not valid UTF-8",
    ),
    Case(
        "bad-byte-line-3",
        "third.jsonl",
        jsonl({"_id": 1, "text": "a"}, {"_id": 2, "text": "b"}) + b'\n{"_id": 3, "text": "\xff"}',
        refused="at line 3",
    ),
    Case("truncated-utf8", "cut.txt", "na\u00efve".encode()[:-3], refused="cut.txt: not valid UTF-8"),
    Case("overlong-utf8", "overlong.txt", b"slash \xc0\xaf here", refused="overlong.txt: not valid UTF-8"),
    Case("raw-surrogate-bytes", "surrogate.txt", b"bad \xed\xa0\x80 bytes", refused="surrogate.txt: not valid UTF-8"),
    Case(
        "json-surrogate-escape",
        "escape.jsonl",
        b'{"_id": "s", "text": "lone \\ud800 surrogate"}\n',
        documents=1,
        warnings=("unpaired UTF-16 surrogates",),
        holds=lambda c: "\ufffd" in c.get("s").text,
    ),
    Case(
        "utf8-bom", "bom.txt", b"\xef\xbb\xbfcaf\xc3\xa9", documents=1, holds=lambda c: _texts(c) == ["bom caf\u00e9"]
    ),
    Case(
        "utf16-le",
        "wide.txt",
        "na\u00efve text".encode("utf-16"),
        documents=1,
        holds=lambda c: "na\u00efve" in _texts(c)[0],
    ),
    Case("utf16-be", "be.txt", b"\xfe\xff" + "big end".encode("utf-16-be"), documents=1),
    Case("utf16-no-bom", "nobom.txt", "plain".encode("utf-16-le"), refused="nobom.txt: looks like a binary file"),
    Case(
        "utf16-odd-length",
        "odd.txt",
        b"\xff\xfea\x00b",
        refused="odd.txt: starts with a UTF-16 byte-order mark but is not valid",
    ),
    # binary
    Case(
        "png-as-txt", "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", refused="image.txt: looks like a binary file"
    ),
    Case(
        "zip-as-csv", "sheet.csv", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", refused="sheet.csv: looks like a binary file"
    ),
    Case("elf-as-md", "prog.md", b"\x7fELF\x02\x01\x01\x00\x00\x00", refused="prog.md: looks like a binary file"),
    Case(
        "nul-after-8k",
        "late.txt",
        b"x" * 9000 + b"\x00tail",
        documents=1,
        warnings=("control characters",),
        holds=_no_controls,
    ),
    # empty
    Case("empty-txt", "empty.txt", b"", refused="empty.txt: the file is empty"),
    Case("spaces-txt", "spaces.txt", b"   \n\t\n", refused="spaces.txt: the file is empty"),
    Case("nbsp-txt", "nbsp.txt", "\u00a0\u2003\u00a0".encode(), refused="nbsp.txt: the document has no text"),
    Case("bom-only", "bomonly.txt", b"\xef\xbb\xbf", refused="bomonly.txt: the document has no text"),
    Case("empty-jsonl", "none.jsonl", b"\n\n", refused="none.jsonl: the file is empty"),
    Case("empty-csv", "blank.csv", b"", refused="blank.csv: the file is empty"),
    Case("header-only-csv", "header.csv", b"id,text\n", refused="header.csv: a header but no rows"),
    # CSV and TSV
    Case(
        "csv-extra-field", "wide.csv", b"text\nok\nok,extra\n", refused="wide.csv, line 3: more fields than the header"
    ),
    Case(
        "csv-unclosed-quote",
        "open.csv",
        b'id,text\n1,"never closed\n2,next row\n',
        refused="open.csv, line 2: not valid CSV (a quoted field is never closed)",
    ),
    Case(
        "csv-empty-text", "holes.csv", b"id,text\n1,fine\n2,\n", refused="holes.csv, line 3: the 'text' column is empty"
    ),
    Case(
        "csv-nbsp-text",
        "nbspcell.csv",
        "id,text\n1,fine\n2,\u00a0\u00a0\n".encode(),
        refused="nbspcell.csv, line 3: the 'text' column is empty",
    ),
    Case(
        "csv-huge-field",
        "long.csv",
        f"id,text\n1,{BIG_FIELD}\n2,short\n".encode(),
        documents=2,
        holds=lambda c: len(c.get("1").text) > 190_000,
    ),
    Case(
        "csv-id-title-body",
        "faq.csv",
        b"id,title,body\nc01,Espresso,How to brew espresso at home\nc02,Cars,Electric cars and their batteries\n",
        documents=2,
        holds=lambda c: (c.get("c01").title, c.get("c01").text) == ("Espresso", "How to brew espresso at home"),
    ),
    Case(
        "csv-no-header",
        "raw.csv",
        b"The first row is a document too,1\nAnd so is the second one,2\n",
        documents=2,
        warnings=("no header row recognised",),
        holds=lambda c: "The first row is a document too" in _texts(c),
    ),
    Case("csv-only-ids", "ids.csv", b"id,sku\n1,A\n2,B\n", refused="ids.csv: every column looks like an id"),
    Case(
        "csv-crlf",
        "dos.csv",
        b'id,text\r\n1,"two\r\nlines"\r\n2,plain\r\n',
        documents=2,
        holds=lambda c: c.get("1").text == "two\nlines" and _no_controls(c),
    ),
    Case("csv-duplicate-ids", "dupes.csv", b"id,text\n7,a\n7,b\n", refused="duplicate document id '7'"),
    Case(
        "tsv-stray-quote",
        "quote.tsv",
        b'id\ttext\n1\tsays "hello\n2\tsecond row\n3\tthird row\n',
        documents=3,
        holds=lambda c: c.get("1").text == 'says "hello',
    ),
    Case(
        "tsv-control-chars",
        "ctrl.tsv",
        b"id\ttext\n1\tbell\x07 and escape\x1b[31m red\n",
        documents=1,
        warnings=("control characters",),
        holds=_no_controls,
    ),
    # JSON Lines
    Case(
        "jsonl-broken-line",
        "bad.jsonl",
        b'{"_id": "1", "text": "ok"}\n{"_id": "2", "text": oops}\n',
        refused="bad.jsonl, line 2: not valid JSON",
    ),
    Case(
        "jsonl-array",
        "list.jsonl",
        b'{"_id": "1", "text": "ok"}\n[1, 2]\n',
        refused="list.jsonl, line 2: expected a JSON object",
    ),
    Case(
        "jsonl-text-number",
        "num.jsonl",
        jsonl({"_id": "1", "text": 12345}),
        refused="num.jsonl, line 1: 'text' must be a string, got a number",
    ),
    Case(
        "jsonl-text-list",
        "lst.jsonl",
        jsonl({"_id": "1", "text": ["a", "b"]}),
        refused="lst.jsonl, line 1: 'text' must be a string, got a list",
    ),
    Case(
        "jsonl-text-null", "null.jsonl", jsonl({"_id": "1", "text": None}), refused="'text' must be a string, got null"
    ),
    Case(
        "jsonl-text-nan", "nan.jsonl", b'{"_id": "1", "text": NaN}\n', refused="'text' must be a string, got a number"
    ),
    Case(
        "jsonl-no-text",
        "notext.jsonl",
        jsonl({"_id": "1", "title": "only a title"}),
        refused="notext.jsonl, line 1: no 'text' field",
    ),
    Case(
        "jsonl-title-number",
        "title.jsonl",
        jsonl({"_id": "1", "title": 7, "text": "x"}),
        refused="'title' must be a string, got a number",
    ),
    Case(
        "jsonl-id-float", "idf.jsonl", jsonl({"_id": 1.5, "text": "x"}), refused="the id must be a string or an integer"
    ),
    Case(
        "jsonl-id-bool", "idb.jsonl", jsonl({"id": True, "text": "x"}), refused="the id must be a string or an integer"
    ),
    Case("jsonl-id-list", "idl.jsonl", jsonl({"id": [1], "text": "x"}), refused="got a list"),
    Case("jsonl-int-id", "intid.jsonl", jsonl({"id": 42, "text": "x"}), documents=1, holds=lambda c: "42" in c),
    Case(
        "jsonl-missing-id",
        "noid.jsonl",
        jsonl({"text": "first"}, {"text": "second"}),
        documents=2,
        warnings=("records without an id",),
    ),
    Case(
        "jsonl-deep",
        "deep.jsonl",
        b'{"_id": "1", "text": "x", "meta": ' + b'{"a": ' * 50 + b"1" + b"}" * 50 + b"}\n",
        refused="deep.jsonl, line 1: JSON nested more than 20 levels deep",
    ),
    Case(
        "jsonl-very-deep",
        "abyss.jsonl",
        b'{"_id": "1", "text": "x", "m": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
        refused="abyss.jsonl, line 1: JSON nested too deeply to read",
    ),
    Case("jsonl-empty-text-title", "titled.jsonl", jsonl({"_id": "1", "title": "Title only", "text": ""}), documents=1),
    Case(
        "jsonl-empty-text",
        "blanktext.jsonl",
        jsonl({"_id": "1", "text": "   "}),
        refused="blanktext.jsonl, line 1: the document has no text",
    ),
    Case(
        "jsonl-crlf-in-text",
        "crlf.jsonl",
        jsonl({"_id": "1", "text": "a\r\nb\rc"}),
        documents=1,
        warnings=("line endings",),
        holds=lambda c: c.get("1").text == "a\nb\nc",
    ),
    # injection
    Case(
        "html-script",
        "evil.jsonl",
        jsonl({"_id": "x", "title": "<script>alert(1)</script>", "text": "<img src=x onerror=alert(1)>"}),
        documents=1,
        holds=lambda c: c.get("x").title == "<script>alert(1)</script>",
    ),
    Case(
        "ansi-title",
        "ansi.jsonl",
        jsonl({"_id": "a", "title": "\x1b[2J\x1b[31mred", "text": "t"}),
        documents=1,
        warnings=("control characters",),
        holds=_no_controls,
    ),
    Case(
        "formula-text",
        "formula.csv",
        b'id,text\n1,"=HYPERLINK(""http://x"",""click"")"\n2,+cmd|calc\n',
        documents=2,
        holds=lambda c: c.get("1").text.startswith("=HYPERLINK"),
    ),
    # hostile names
    Case("name-traversal", "../../etc/passwd.txt", b"root text", documents=1, holds=lambda c: "passwd.txt" in c),
    Case(
        "name-ansi",
        "\x1b[2Jclear.txt",
        b"text",
        documents=1,
        holds=lambda c: all("\x1b" not in d for d in c.documents.ids()),
    ),
    Case("name-windows", "C:\\Users\\me\\notes.md", b"windows path", documents=1, holds=lambda c: "notes.md" in c),
    # other formats
    Case("unsupported", "doc.docx", b"PK\x03\x04", refused="doc.docx: unsupported file type .docx"),
    Case("broken-pdf", "broken.pdf", b"%PDF-1.4 this is not really a pdf", refused="broken.pdf: not a readable PDF"),
    Case("blank-pdf", "blank.pdf", make_pdf([""]), refused="blank.pdf: no extractable text"),
    Case("pdf", "paper.pdf", make_pdf(["Reranking with cross encoders", "Dense retrieval"]), documents=2),
]
