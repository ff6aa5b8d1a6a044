"""Cache folders: built aside and swapped in whole, so neither a crash nor a damaged copy ever stays in the way.

A folder is written under a staging name (`.NAME-staging-XXXX`) beside its final place and
renamed into it when complete; a damaged folder already there is renamed aside
(`.NAME-old-XXXX`) and removed. Staging and old folders left by a crash are removed once they
are an hour old (only names of that pattern, which only this module makes). Small files (the
backend choices, the remembered model loads) are replaced whole the same way (`replace_file`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

STALE_AFTER_S = 3600


def staging_folder(folder: Path) -> Path:
    """A new empty folder beside `folder` to build its content in; leftovers of crashed builds are removed first."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(folder.parent)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}-staging-", dir=folder.parent))


def install(staging: Path, folder: Path) -> None:
    """Put a finished staging folder in place of `folder`, moving a damaged one aside and removing it."""
    try:
        os.replace(staging, folder)
        return
    except OSError:
        if not folder.exists():
            raise
    aside = folder.with_name(f".{folder.name}-old-{uuid.uuid4().hex[:8]}")
    os.replace(folder, aside)
    os.replace(staging, folder)
    shutil.rmtree(aside, ignore_errors=True)


def replace_file(path: Path, text: str) -> None:
    """Write a small file whole: under a staging name beside it, then renamed over it, so that another process
    reading it sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


def discard(staging: Path) -> None:
    """Remove a staging folder after a failed build."""
    shutil.rmtree(staging, ignore_errors=True)


def remove_stale(parent: Path, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove staging and old folders (this module's names only) not touched for `older_than_s`."""
    removed = []
    if not parent.is_dir():
        return removed
    cutoff = time.time() - older_than_s
    for entry in parent.iterdir():
        if entry.name.startswith(".") and ("-staging-" in entry.name or "-old-" in entry.name):
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry)
            except OSError:
                continue
    return removed
