"""What RankLens keeps under $RANKLENS_HOME that it can make again: how big each cache is, and clearing one.

Caches, not data: each is made again when it is needed, at the cost of time (the scores, the token ids, the query
vectors and the explanations by the models; `auto`'s backend choices by measuring again; the FAISS and BM25 indexes and the Milvus Lite collections by indexing
again; the exports by exporting; an unfinished `ranklens ingest` by running it again from its start). The projects
and their labels, the stored corpora and the saved runs are data, and are neither listed nor cleared here; nor is a
Milvus server's content.

A SQLite cache is emptied in place (its rows deleted, then VACUUM), so that an app or a command holding it open
keeps a valid file; a file SQLite cannot read (damaged: no process can use it) is removed, and made again at the
next write. A folder cache loses its entries one by one. Exports made with other library versions than
these or in an earlier layout (an upgrade's leftovers, which no load reads again) can be removed alone: `stale`.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ranklens import sqlite_cache
from ranklens.backends.exports import stale_export
from ranklens.index.milvus import checkpointed_collections, drop_collections, lite_file
from ranklens.ranking import score_cache
from ranklens.settings import data_dir
from ranklens.speed import calibration
from ranklens.sqlite_cache import CACHE_FILES, connect_cache


@dataclass(frozen=True)
class Kept:
    """Where one cache lives (a file under $RANKLENS_HOME/cache, or a folder under $RANKLENS_HOME whose entries are
    the cache), its tables where it is a file, and what it holds, in a few words for a table."""

    location: str
    holds: str
    tables: tuple[str, ...] = ()


TABLES = {
    "scores": Kept(
        CACHE_FILES["scores"], "cross-encoder scores by model, backend, budget, query and passage", ("scores",)
    ),
    "passage-tokens": Kept(
        CACHE_FILES["passage-tokens"], "passages' token ids for the cross-encoder", ("passages", "filled")
    ),
    "query-vectors": Kept(CACHE_FILES["query-vectors"], "query embeddings", ("vectors",)),
    "explanations": Kept(CACHE_FILES["explanations"], '"Why it moved" explanations', ("explanations",)),
}
OPENVINO_BLOBS = "openvino-blobs"  # OpenVINO's compiled models, kept inside exports/
FOLDERS = {
    "indexes": Kept("indexes", "FAISS indexes (passages and their vectors)"),
    "bm25-indexes": Kept("bm25", "BM25 indexes"),
    "passages": Kept("passages", "corpora cut into passages"),
    "exports": Kept("exports", "models exported for ONNX Runtime and OpenVINO"),
    OPENVINO_BLOBS: Kept(f"exports/{OPENVINO_BLOBS}", "OpenVINO's compiled models"),
    # cleared, an unfinished ingestion starts over
    "ingestions": Kept("ingest", "unfinished `ranklens ingest` runs, kept to resume"),
}
BACKEND_CHOICES = "backend-choices"  # one JSON file: cleared, the next load of a cross-encoder measures again
MILVUS_LITE = "milvus-lite"  # the collections RankLens made in its Milvus Lite file (a server's are not listed)
CACHES = (*TABLES, *FOLDERS, BACKEND_CHOICES, MILVUS_LITE)
HOLDS = {
    **{name: kept.holds for name, kept in {**TABLES, **FOLDERS}.items()},
    BACKEND_CHOICES: "the cross-encoder backend `auto` measured, per CPU, model and runtime versions",
    MILVUS_LITE: "collections in RankLens's Milvus Lite file",
}


@dataclass(frozen=True)
class CacheSize:
    """One cache: where it is, how many entries (rows, or folders and files) and bytes, and how many of them are
    stale (exports made with other library versions or in an earlier layout)."""

    name: str
    path: Path
    entries: int
    size: int
    stale: int = 0
    stale_size: int = 0
    damaged: bool = False  # an SQLite file that cannot be read


def size_text(size: int) -> str:
    """A size for people: MB from 0.1 MB up, kB under it."""
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else 0


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _entries(name: str) -> Iterator[Path]:
    """A folder cache's entries (an export's folder, an index's folder, a passages file), ours alone."""
    folder = data_dir() / FOLDERS[name].location
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or (name == "exports" and entry.name == OPENVINO_BLOBS):
            continue  # a build in progress (ranklens.cachedir cleans those); the blobs are a cache of their own
        yield entry


def _rows(path: Path, tables: tuple[str, ...]) -> int | None:
    """The rows of an SQLite cache's tables; None where the file is not a database SQLite can read."""
    if not path.is_file():
        return 0
    try:
        with contextlib.closing(connect_cache(path)) as db:
            count = 0
            for table in tables:
                with contextlib.suppress(sqlite3.OperationalError):  # a table this version has not made yet
                    count += db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            return count
    except sqlite3.DatabaseError:
        return None


def measure(name: str) -> CacheSize:
    """How big one cache is now."""
    if name == MILVUS_LITE:
        return CacheSize(
            name, data_dir() / "milvus", checkpointed_collections(lite_file()), _size(data_dir() / "milvus")
        )
    if name == BACKEND_CHOICES:
        path = calibration.choices_file()
        return CacheSize(name, path, calibration.kept_choices(), _size(path))
    if name in TABLES:
        path = data_dir() / "cache" / TABLES[name].location
        rows = _rows(path, TABLES[name].tables)
        size = sum(_size(f) for f in _sqlite_files(path))
        return CacheSize(name, path, rows or 0, size, damaged=rows is None)
    entries = list(_entries(name))
    stale = [e for e in entries if name == "exports" and stale_export(e)]
    return CacheSize(
        name,
        data_dir() / FOLDERS[name].location,
        len(entries),
        sum(_size(e) for e in entries),
        len(stale),
        sum(_size(e) for e in stale),
    )


def measure_all() -> list[CacheSize]:
    """Every cache, in the order of CACHES."""
    return [measure(name) for name in CACHES]


def _remove(entry: Path) -> None:
    if entry.is_dir():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def clear(name: str) -> CacheSize:
    """Empty one cache; what it held before."""
    if name not in CACHES:
        raise ValueError(f"unknown cache {name!r}; choose from {', '.join(CACHES)}")
    before = measure(name)
    if name == MILVUS_LITE:
        if Path(lite_file()).exists():
            drop_collections(lite_file())
    elif name == BACKEND_CHOICES:
        calibration.forget_choice()
    elif name not in TABLES:
        for entry in _entries(name):
            _remove(entry)
    elif before.damaged:
        for path in _sqlite_files(before.path):
            path.unlink(missing_ok=True)
    elif before.path.is_file():
        with contextlib.closing(connect_cache(before.path)) as db:
            for table in TABLES[name].tables:
                with contextlib.suppress(sqlite3.OperationalError):
                    db.execute(f"DELETE FROM {table}")
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _forget_in_memory(name)
    if name in TABLES:
        sqlite_cache.forget_unusable(before.path)
    return before


def _forget_in_memory(name: str) -> None:
    """What this process holds in memory in front of an emptied cache, where a page shows what was cached (the
    scores: "n pairs scored, m cached"; the explanations): cleared means made again, here too."""
    if name == "scores":
        score_cache.forget_in_memory()
    elif name == "explanations":
        from ranklens.ranking import explain  # numpy, the retrievers: only where explanations are cleared

        explain.forget_in_memory()


def remove_stale_exports() -> CacheSize:
    """Remove the exports made with other library versions than these or in an earlier layout; what was removed."""
    stale = [e for e in _entries("exports") if stale_export(e)]
    size = sum(_size(e) for e in stale)
    for entry in stale:
        _remove(entry)
    return CacheSize("exports", data_dir() / "exports", len(stale), size, len(stale), size)
