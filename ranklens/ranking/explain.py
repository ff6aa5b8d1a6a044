"""Explain a document's scores: what each word of the passage the models read contributes, by occlusion.

For the passage the cross-encoder read, the first N words are each removed in turn; every
variant is scored in one batched call, and a word's contribution is the full logit minus the
logit without it (so removing a word with contribution +1.8 lowers the score by exactly 1.8).
The same for the bi-encoder's cosine with the query. Words past the cross-encoder's window
are marked as not read (the window truncates them). Explanations are cached per model,
budget, query and passage, in memory and in $RANKLENS_HOME/cache/explanations.sqlite (the
FILE_LIMIT made last), so a view reopened in a new process explains its document without
loading either model.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace

import numpy as np

from ranklens.cache_bounds import Bound, written_now
from ranklens.index.lexical import BM25Settings, analyze
from ranklens.lru import Lru
from ranklens.models.embedder import Embedder
from ranklens.models.reranker import Reranker
from ranklens.ranking.fusion import Shift
from ranklens.sqlite_cache import CACHE_FILES, cache_file, cache_key, cache_table, unless_unusable

DEFAULT_WORDS = 64
_WORD = re.compile(r"\S+")
CACHE_LIMIT = 256
NAME = "explanations"
FILE = CACHE_FILES[NAME]
FILE_LIMIT = 5_000  # on disk: about 140 bytes a word, 30 KB for a 256-token passage, so some 150 MB
BOUND = Bound("explanations", FILE_LIMIT)
_cache: Lru[tuple, Explanation] = Lru(CACHE_LIMIT)  # in front of explanations.sqlite


def forget_in_memory() -> None:
    """Drop the explanations this process holds in memory in front of explanations.sqlite."""
    _cache.clear()


@dataclass(frozen=True)
class Token:
    """One word of the passage: where it is, its contribution to each model's score, whether the query has it."""

    text: str
    start: int  # character offsets in the passage
    end: int
    contribution: float | None  # to the cross-encoder's logit; None: past the first N words, not measured
    bi_contribution: float | None  # to the bi-encoder's cosine
    query_term: bool  # the same stem as a word of the query
    read: bool  # inside the cross-encoder's window (False: the window cut it off)


@dataclass(frozen=True)
class Explanation:
    """Why one document scored as it did: the passage read, both scores, each word's contribution, a summary."""

    query: str
    doc_id: str
    passage: str
    model: str
    score: float  # the cross-encoder's logit for the whole passage
    bi_model: str
    bi_score: float  # the bi-encoder's cosine of query and passage
    window_end: int  # where in the passage the cross-encoder's window ends (its length when all is read)
    tokens: tuple[Token, ...]
    summary: str = ""

    def top(self, count: int = 2) -> list[Token]:
        """The measured words that move the cross-encoder's score most, either way."""
        measured = [t for t in self.tokens if t.contribution is not None]
        return sorted(measured, key=lambda t: -abs(t.contribution))[:count]

    def as_json(self) -> dict:
        """Tokens with their contributions, the full scores and the models (the CLI's --json)."""
        return {**asdict(self), "tokens": [asdict(t) for t in self.tokens]}


def _words(passage: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _WORD.finditer(passage)]


def _without(passage: str, start: int, end: int) -> str:
    """The passage with one word taken out, and one of the spaces around it."""
    after = end + 1 if end < len(passage) and passage[end] == " " else end
    return passage[:start] + passage[after:]


def _cosines(embedder: Embedder, query: str, texts: list[str]) -> np.ndarray:
    vectors = embedder.encode([query, *texts])
    return vectors[1:] @ vectors[0]


def explain(
    reranker: Reranker,
    embedder: Embedder,
    query: str,
    doc_id: str,
    passage: str,
    words: int = DEFAULT_WORDS,
    shift: Shift | None = None,
    max_tokens: int | None = None,
) -> Explanation:
    """Per-word contributions to both models' scores for one (query, passage), and a one-line summary; the
    cross-encoder reads `max_tokens` of each variant (default: its window), as the search did."""
    key = (reranker.fingerprint, reranker.budget(max_tokens), embedder.fingerprint, query, passage, words)
    held = _cache.get(key)
    if held is not None:
        return _with_summary(held, shift)
    stored = _stored(key)
    if stored is not None:
        _cache.put_many({key: stored})
        return _with_summary(stored, shift)
    spans = _words(passage)
    measured = spans[:words]
    variants = [_without(passage, start, end) for start, end in measured]
    # each variant is a text no search will read again: its token ids are not kept (about 1 KB each on disk)
    logits = reranker.score(
        [(query, text) for text in [passage, *variants]], max_tokens=max_tokens, keep_passages=False
    )
    cosines = _cosines(embedder, query, [passage, *variants])
    stems = set(analyze([query], BM25Settings(stopwords=False))[0])
    end_read = reranker.window_end(query, passage, max_tokens)
    tokens = []
    for i, (start, end) in enumerate(spans):
        word = passage[start:end]
        stem = analyze([word], BM25Settings(stopwords=False))[0]
        ce = float(logits[0] - logits[i + 1]) if i < len(measured) else None
        bi = float(cosines[0] - cosines[i + 1]) if i < len(measured) else None
        tokens.append(Token(word, start, end, ce, bi, bool(stem) and stem[0] in stems, start < end_read))
    found = Explanation(
        query,
        doc_id,
        passage,
        reranker.name,
        float(logits[0]),
        embedder.name,
        float(cosines[0]),
        end_read,
        tuple(tokens),
    )
    _cache.put_many({key: found})
    with unless_unusable(cache_file(FILE), NAME), _connect() as db:
        db.execute(
            "INSERT OR REPLACE INTO explanations (key, explanation, written) VALUES (?, ?, ?)",
            (_disk_key(key), json.dumps(asdict(found)), written_now()),
        )
        BOUND.added(db, 1)
    return _with_summary(found, shift)


def _connect():
    return cache_table(
        cache_file(FILE),
        "CREATE TABLE IF NOT EXISTS explanations (key BLOB PRIMARY KEY, explanation TEXT NOT NULL, "
        "written INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
        BOUND,
    )


def _disk_key(key: tuple) -> bytes:
    return cache_key(*(str(part) for part in key))


def _stored(key: tuple) -> Explanation | None:
    """The explanation kept on disk under `key` (a damaged one counts as none: it is made again)."""
    row = None
    with unless_unusable(cache_file(FILE), NAME), _connect() as db:
        row = db.execute("SELECT explanation FROM explanations WHERE key = ?", (_disk_key(key),)).fetchone()
    if row is None:
        return None
    try:
        fields = json.loads(row[0])
        return Explanation(**{**fields, "tokens": tuple(Token(**token) for token in fields["tokens"])})
    except (ValueError, TypeError, KeyError):
        return None


def _phrase(explanation: Explanation, token: Token) -> str:
    """The word, with its neighbours when they push the score the same way at least half as hard."""
    tokens = list(explanation.tokens)
    at = tokens.index(token)
    words = [token.text]
    for step in (-1, 1):
        neighbour = at + step
        if 0 <= neighbour < len(tokens):
            other = tokens[neighbour].contribution
            if other is not None and other * token.contribution > 0 and abs(other) >= abs(token.contribution) / 2:
                words.insert(0 if step < 0 else len(words), tokens[neighbour].text)
    return " ".join(words)


def summary(explanation: Explanation, shift: Shift | None = None) -> str:
    """One line in plain words: how the document moved, and the words that moved it: for a document reranked down
    the words that pull its score down most, for one reranked up (or new to the top-k) those that lift it most,
    otherwise those it rests on most either way."""
    moved, direction = "", 0
    if shift is not None:
        moved = {None: "new to the reranked top-k", 0: "kept its place"}.get(shift.change, "")
        direction = 1 if shift.change is None else (shift.change > 0) - (shift.change < 0)
        if not moved:
            moved = f"reranked {'up' if shift.change > 0 else 'down'} {abs(shift.change)}"
        moved += ": "
    measured = [t for t in explanation.tokens if t.contribution is not None and abs(t.contribution) >= 1e-4]
    if not measured:
        return f"{moved}no single word of the first {DEFAULT_WORDS} changes the cross-encoder's score"
    logit = f"the cross-encoder's score (logit {explanation.score:.2f})"
    if direction:
        pushing = sorted(
            (t for t in measured if t.contribution * direction > 0), key=lambda t: -t.contribution * direction
        )
        verb = "lifted most by" if direction > 0 else "pulled down most by"
        if not pushing:
            return f"{moved}no word of the first {DEFAULT_WORDS} {'lifts' if direction > 0 else 'lowers'} {logit}"
        return f"{moved}{logit} is {verb} {_quoted(explanation, pushing[:2])}"
    return f"{moved}{logit} rests most on {_quoted(explanation, explanation.top(2))}"


def _quoted(explanation: Explanation, tokens: list[Token]) -> str:
    return " and ".join(f"“{_phrase(explanation, t)}” ({t.contribution:+.2f})" for t in tokens)


def _with_summary(explanation: Explanation, shift: Shift | None) -> Explanation:
    return replace(explanation, summary=summary(explanation, shift))
