"""Stored corpora: a loaded corpus kept under $RANKLENS_HOME/corpora by its identity, so that a link, a reload
or a restart can reopen an uploaded corpus without the files, and texts larger than memory stay on disk.

Each is a folder: `documents.arrow` (ids, titles, texts, memory-mapped when opened) and
`corpus.json` (name, queries, qrels, warnings). Written aside and swapped in whole.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ranklens import cachedir
from ranklens.corpus.corpus import Corpus, CorpusError
from ranklens.corpus.docstore import DocStore
from ranklens.settings import data_dir

_KEY = re.compile(r"^c[0-9a-f]{24}$")


def stored_corpora_root() -> Path:
    """Where stored corpora live: $RANKLENS_HOME/corpora."""
    return data_dir() / "corpora"


def save_corpus(corpus: Corpus) -> Path:
    """Keep the corpus on disk under its key (once: a corpus already stored is not written again)."""
    folder = stored_corpora_root() / corpus.key
    if (folder / "corpus.json").is_file():
        return folder
    staging = cachedir.staging_folder(folder)
    try:
        corpus.documents.save(staging / "documents.arrow")
        meta = {
            "name": corpus.name,
            "queries": corpus.queries,
            "qrels": corpus.qrels,
            "warnings": corpus.warnings,
            "documents": len(corpus),
        }
        (staging / "corpus.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        cachedir.install(staging, folder)
    except BaseException:
        cachedir.discard(staging)
        raise
    return folder


def open_corpus(key: str) -> Corpus:
    """A stored corpus by its key; refuses anything that is not a key, and says when none is stored under it."""
    if not _KEY.fullmatch(key or ""):
        raise CorpusError(f"{key!r} is not a corpus identity (c followed by 24 hex digits)")
    folder = stored_corpora_root() / key
    try:
        meta = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
        store = DocStore.open(folder / "documents.arrow")
    except (OSError, ValueError, KeyError) as err:
        raise CorpusError(f"no corpus {key} is stored on this server (upload its files again)") from err
    return Corpus(meta["name"], store, queries=meta["queries"], qrels=meta["qrels"], warnings=meta["warnings"])


def stored_corpora() -> dict[str, str]:
    """Key -> name of every stored corpus."""
    root = stored_corpora_root()
    found = {}
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if _KEY.fullmatch(folder.name) and (folder / "corpus.json").is_file():
            try:
                found[folder.name] = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))["name"]
            except (OSError, ValueError, KeyError):
                continue
    return found
