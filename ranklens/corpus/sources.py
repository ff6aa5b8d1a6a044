"""A file to read, from disk or an upload: its name as messages give it, its size before a byte is read, and how
to open it."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ranklens.corpus.textclean import clean_name, one_line


@dataclass(frozen=True)
class Source:
    """A file to read: the name messages use, its size (known before reading), and how to open it."""

    name: str
    size: int
    open: Callable[[], contextlib.AbstractContextManager[BinaryIO]]

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Source:
        """A source over bytes in memory (an upload)."""
        return cls(clean_name(name), len(data), lambda: io.BytesIO(data))

    @classmethod
    def from_upload(cls, upload) -> Source:
        """A Streamlit UploadedFile (or any file-like with .name and .size): its size is read, not its bytes.
        Each reading borrows the upload itself (rewound, never closed, never copied)."""

        def borrowed():
            upload.seek(0)
            return contextlib.nullcontext(upload)

        return cls(clean_name(upload.name), int(upload.size), borrowed)

    @classmethod
    def from_path(cls, path: Path, root: Path | None = None) -> Source:
        """A file on disk, named as given, or relative to `root` (the folder it was found in)."""
        name = str(path.relative_to(root)) if root is not None else str(path)
        return cls(one_line(name), path.stat().st_size, lambda: path.open("rb"))
