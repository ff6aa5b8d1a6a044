"""Corpus text is untrusted: shown as literal characters, never as Markdown or HTML."""

from __future__ import annotations

import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$&:=\"'^%@])")


def literal(text: str) -> str:
    """Escape every character Markdown (and Streamlit's extensions: $math$, :emoji:) would act on."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text).replace("\n", "  \n")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
