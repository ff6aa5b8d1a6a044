"""Corpus text is untrusted: shown as literal characters, never as Markdown or HTML."""

from __future__ import annotations

import re

from ranklens.models.files import looks_like_a_path

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$&:=\"'^%@])")


def literal(text: str) -> str:
    """Escape every character Markdown (and Streamlit's extensions: $math$, :emoji:) would act on."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text).replace("\n", "  \n")


def model_name(name: str) -> str:
    """A model as people name it: a hub id as it is, a local folder by its own name (a machine's paths stay off the
    page and out of reports)."""
    return name.rstrip("/").rsplit("/", 1)[-1] if looks_like_a_path(name) else name


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
