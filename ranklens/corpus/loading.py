"""Opening a corpus by what a person names: a built-in corpus, a BEIR folder, a folder of files, or files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ranklens.corpus.beir import is_beir_dir, load_beir
from ranklens.corpus.corpus import BUILTIN_DIR, Corpus, CorpusError, builtin_names
from ranklens.corpus.readers import corpus_name, files_in, load_sources
from ranklens.corpus.sources import Source
from ranklens.corpus.tables import TableColumns
from ranklens.corpus.textclean import one_line


def load_builtin(name: str) -> Corpus:
    """A built-in demo corpus by name."""
    if name not in builtin_names():
        raise CorpusError(f"no built-in corpus {name!r}; there are {', '.join(builtin_names())}")
    return load_beir(BUILTIN_DIR / name)


def load_paths(paths: Sequence[str | Path], columns: TableColumns | None = None) -> Corpus:
    """A BEIR folder, a folder of files, or a list of files, read from disk (sizes checked before reading)."""
    resolved = [Path(p) for p in paths]
    root = None
    if len(resolved) == 1 and resolved[0].is_dir():
        if is_beir_dir(resolved[0]):
            return load_beir(resolved[0])
        root = resolved[0]
        resolved = files_in(root)
    missing = [one_line(str(p)) for p in resolved if not p.is_file()]
    if missing:
        raise CorpusError(f"no such file: {', '.join(missing)}")
    sources = [Source.from_path(p, root) for p in resolved]
    name = root.name if root is not None else corpus_name(sources)
    return load_sources(sources, name, columns)
