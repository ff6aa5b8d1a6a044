"""Projects: a project is a name; its folder, $RANKLENS_HOME/projects/<name>, holds labels.sqlite, models/ and
the judging guidelines.

The app only ever takes a name (letters, digits, '-' and '_'), never a path, so no browser
user can make RankLens write outside $RANKLENS_HOME.
"""

from __future__ import annotations

import re
from pathlib import Path

from ranklens.labelling.store import DB_NAME
from ranklens.settings import data_dir

DEFAULT_PROJECT = "default"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ProjectError(ValueError):
    """A project name that is not one (a path, say); the message says what a name may hold."""


def projects_root() -> Path:
    """Where projects live: $RANKLENS_HOME/projects."""
    return data_dir() / "projects"


def project_folder(name: str) -> Path:
    """The folder of the project called `name`, made if new; refuses anything but a plain name."""
    if not _NAME.fullmatch(name or ""):
        raise ProjectError(f"{name!r} is not a project name: use 1-64 letters, digits, '-' or '_' (no paths)")
    folder = projects_root() / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def project_names() -> list[str]:
    """The projects that exist (have a labels database), and the default one."""
    root = projects_root()
    found = (
        {p.name for p in root.iterdir() if (p / DB_NAME).is_file() and _NAME.fullmatch(p.name)}
        if root.is_dir()
        else set()
    )
    return sorted(found | {DEFAULT_PROJECT})


GUIDELINES = "guidelines.md"
MAX_GUIDELINES = 100_000  # characters


def guidelines(folder: Path) -> str:
    """The project's judging guidelines (Markdown its owner wrote), or "" when there are none."""
    try:
        return (folder / GUIDELINES).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def save_guidelines(folder: Path, text: str) -> None:
    """Replace the guidelines whole: a reader sees the old text or the new, never half of one."""
    if len(text) > MAX_GUIDELINES:
        raise ProjectError(f"guidelines of {len(text):,} characters are more than the limit of {MAX_GUIDELINES:,}")
    staging = folder / f".{GUIDELINES}.tmp"
    staging.write_text(text, encoding="utf-8")
    staging.replace(folder / GUIDELINES)
