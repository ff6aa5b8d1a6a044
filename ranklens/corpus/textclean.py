"""Text hygiene: bytes into valid text, and every text normalised the same way whatever file it came from.

What is refused (a `CorpusError` naming the file and line) and what is repaired (with a
warning that counts the repairs and names the first place) is listed in docs/reliability.md;
`Repairs` collects the warnings.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import BinaryIO

SNIFF_BYTES = 8192
# C0 and C1 controls and DEL, but not tab and newline: they are kept as layout.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_LINE_ENDINGS = re.compile(r"\r\n?")
_NAME_UNSAFE = re.compile(r"[^\w.\- ()+,=@]")


class CorpusError(ValueError):
    """Input that cannot become a corpus; the message says which file and line, and why."""


REPAIRS = {
    "surrogate": "unpaired UTF-16 surrogates (invalid Unicode) replaced by U+FFFD",
    "line endings": "CR or CRLF line endings normalised to LF",
    "control": "control characters replaced by a space",
    "no id": "records without an id given one from a hash of their text",
}


@dataclass
class Repairs:
    """What normalisation changed while a corpus loaded: a count per kind, and the first place each was seen."""

    counts: Counter = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)

    def note(self, kind: str, where: str) -> None:
        """Count one repair of this kind, remembering where the first was."""
        self.counts[kind] += 1
        self.first.setdefault(kind, where)

    def warnings(self) -> list[str]:
        """One line per kind of repair, e.g. 'control characters replaced by a space: 3 (first: a.jsonl, line 7)'."""
        return [f"{REPAIRS[kind]}: {count} (first: {self.first[kind]})" for kind, count in self.counts.items()]


def one_line(text: str) -> str:
    """A message safe for a terminal and a log line: no newlines, no control characters (no ANSI escapes)."""
    return _CONTROLS.sub("?", text.replace("\r", " ").replace("\n", " "))


def clean_name(name: str) -> str:
    """An uploaded file's name reduced to a plain base name: no folders, no control or unusual characters."""
    base = PureWindowsPath(PurePosixPath(name).name).name  # both separators, whatever the uploader's OS
    base = _NAME_UNSAFE.sub("_", unicodedata.normalize("NFC", base)).strip(" .")
    return base[:120] or "unnamed"


def normalise(text: str, repairs: Repairs, where: str) -> str:
    """Valid Unicode, LF line endings, no control characters but tab and newline, no outer whitespace."""
    if _SURROGATES.search(text):
        text = _SURROGATES.sub("\ufffd", text)
        repairs.note("surrogate", where)
    if "\r" in text:
        text = _LINE_ENDINGS.sub("\n", text)
        repairs.note("line endings", where)
    if _CONTROLS.search(text):
        text = _CONTROLS.sub(" ", text)
        repairs.note("control", where)
    return text.strip()


def sniff(name: str, head: bytes) -> str:
    """The encoding of a file from its first bytes ('utf-8', 'utf-8-sig' or 'utf-16'); refuses empty and binary."""
    if not head.strip():
        raise CorpusError(f"{name}: the file is empty")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head:
        raise CorpusError(f"{name}: looks like a binary file (it contains NUL bytes), not text")
    return "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"


def text_lines(name: str, stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """(line number, text) for each line of a text file, decoded strictly, read one line at a time.

    A byte that is not UTF-8 stops the file with its line and offset; a UTF-16 file (with a
    byte-order mark) is decoded as such.
    """
    head = stream.read(SNIFF_BYTES)
    encoding = sniff(name, head)
    stream.seek(0)
    if encoding == "utf-16":
        data = stream.read()
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise CorpusError(
                f"{name}: starts with a UTF-16 byte-order mark but is not valid UTF-16 ({err.reason})"
            ) from err
        yield from enumerate(text.splitlines(), start=1)
        return
    offset = 0
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw, offset = raw[3:], 3
        try:
            yield number, raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as err:
            raise CorpusError(
                f"{name}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at line {number}, offset {offset + err.start}); "
                "re-save the file as UTF-8"
            ) from err
        offset += len(raw)


def decode(name: str, data: bytes) -> str:
    """A whole small file's bytes as text (qrels, imports), with the same checks as `text_lines`."""
    import io

    return "\n".join(line for _, line in text_lines(name, io.BytesIO(data)))
