"""Cross-encoder inputs put together from cached passage token ids.

Tokenizing is 5-10 % of reranking (100 scifact abstracts: 60-110 ms here), and nearly all of it is the passages,
which repeat: across queries, across processes, in every evaluation. So each passage is tokenized once per tokenizer
(its ids without special tokens, kept in memory and in $RANKLENS_HOME/cache/passage_tokens.sqlite beside the score
cache, which keeps the FILE_LIMIT passages tokenized last), each query once per call, and each pair is put together
from the two with the tokenizer's own special tokens and cut the way its `longest_first` truncation cuts. The result
is what tokenizing the pair gives: the same ids, token types, masks and cuts (tests/test_pair_tokens.py holds it to
transformers' tokenizer on real texts).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ranklens.cache_bounds import Bound, written_now
from ranklens.corpus.passages import PassageTable
from ranklens.lru import Lru
from ranklens.progress import OnProgress
from ranklens.sqlite_cache import (
    CACHE_FILES,
    cache_file,
    cache_key,
    cache_table,
    key_chunks,
    rows_by_key,
    unless_unusable,
)

MEMORY_LIMIT = 50_000  # passages kept in memory per tokenizer (about 1 KB each at 256 tokens)
INPUTS = ("input_ids", "token_type_ids", "attention_mask")
_PROBE = ("alpha", "omega")  # a pair whose encoding shows where the special tokens go


@dataclass(frozen=True)
class Template:
    """Where a pair's special tokens go, `before` A `between` B `after`, and the token type of each of the five
    parts, as the tokenizer's post-processor lays them out."""

    before: tuple[int, ...]
    between: tuple[int, ...]
    after: tuple[int, ...]
    types: tuple[int, int, int, int, int]

    @property
    def added(self) -> int:
        """Special tokens per pair."""
        return len(self.before) + len(self.between) + len(self.after)


def _find(ids: list[int], part: list[int], start: int) -> int | None:
    return next((at for at in range(start, len(ids) - len(part) + 1) if ids[at : at + len(part)] == part), None)


def template_of(tokenizer) -> Template | None:
    """The pair layout of a `tokenizers.Tokenizer` (truncation off), read from one encoded pair; None where a pair
    is not its two sequences' own ids with special tokens around them (then pairs are tokenized whole)."""
    first, second = (tokenizer.encode(text, add_special_tokens=False).ids for text in _PROBE)
    pair = tokenizer.encode(*_PROBE, add_special_tokens=True)
    ids, types = pair.ids, pair.type_ids
    start = _find(ids, first, 0)
    middle = None if start is None else _find(ids, second, start + len(first))
    if start is None or middle is None:
        return None
    end, stop = start + len(first), middle + len(second)
    part_types = [
        set(types[a:b]) for a, b in ((0, start), (start, end), (end, middle), (middle, stop), (stop, len(ids)))
    ]
    if any(len(found) > 1 for found in part_types):
        return None
    return Template(
        before=tuple(ids[:start]),
        between=tuple(ids[end:middle]),
        after=tuple(ids[stop:]),
        types=tuple(min(found, default=0) for found in part_types),  # type: ignore[arg-type]
    )


def cut_lengths(first: int, second: int, room: int) -> tuple[int, int]:
    """How many tokens of each sequence `longest_first` truncation keeps when `room` tokens are left for both: the
    `tokenizers` library's rule (the shorter stays whole where the longer can take the cut, else each gets half)."""
    if first + second <= room:
        return first, second
    short = min(first, second)
    kept_short, kept_long = short, short if short > room else max(short, room - short)
    if kept_short + kept_long > room:
        kept_short = room // 2
        kept_long = kept_short + room % 2
    return (kept_short, kept_long) if first <= second else (kept_long, kept_short)


NAME = "passage-tokens"
FILE = CACHE_FILES[NAME]
FILL_BATCH = 2048  # passages per step when an index's passages are tokenized
SCHEMA = """
CREATE TABLE IF NOT EXISTS passages (key BLOB PRIMARY KEY, ids BLOB NOT NULL, written INTEGER NOT NULL DEFAULT 0)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS filled (model TEXT NOT NULL, passages TEXT NOT NULL, PRIMARY KEY (model, passages))
"""
# passages: about 1 KB each at 256 tokens, so up to 300 MB; three indexes of ranklens.index.passage_tokens.MAX_PASSAGES
FILE_LIMIT = 300_000


def _forget_filled(db: sqlite3.Connection) -> None:
    # an index whose passages were trimmed is tokenized again at its next load: what is still on disk is read, not
    # tokenized, and a record kept would send its rerankings to tokenize the missing passages one query at a time
    db.execute("DELETE FROM filled")


BOUND = Bound("passages", FILE_LIMIT, on_trim=_forget_filled)


def _connect():
    return cache_table(cache_file(FILE), SCHEMA, BOUND)


# The file only saves tokenizing again: where it cannot be read or written (a read-only home, a locked or damaged
# file), the passages are tokenized and the reranking goes on (said once, by ranklens.sqlite_cache.unless_unusable).
def _read(keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
    found: dict[bytes, np.ndarray] = {}
    with unless_unusable(cache_file(FILE), NAME), _connect() as db:
        for key, ids in rows_by_key(db, "SELECT key, ids FROM passages", keys):
            if len(ids) % 4 == 0:
                found[bytes(key)] = np.frombuffer(ids, dtype=np.int32)
    return found


def _write(ids: dict[bytes, np.ndarray]) -> None:
    with unless_unusable(cache_file(FILE), NAME), _connect() as db:
        written = written_now()
        db.executemany(
            "INSERT OR REPLACE INTO passages (key, ids, written) VALUES (?, ?, ?)",
            [(k, v.tobytes(), written) for k, v in ids.items()],
        )
        BOUND.added(db, len(ids))


def _touch(keys: Sequence[bytes]) -> None:
    """Count these passages as written now, so that the bound trims other passages before them."""
    written = written_now()
    with unless_unusable(cache_file(FILE), NAME), _connect() as db:
        for clause, chunk in key_chunks(keys):
            db.execute(f"UPDATE passages SET written = ? WHERE {clause}", [written, *chunk])


def is_filled(model: str, passages: str) -> bool:
    """Whether the passages named `passages` were all tokenized for the model named `model` (ranklens.index.passage_tokens:
    a model's fingerprint and an index's key); a record that is wrong costs only tokenizing at the first reranking."""
    with unless_unusable(cache_file(FILE), NAME), _connect() as db:
        found = db.execute("SELECT 1 FROM filled WHERE model = ? AND passages = ?", (model, passages)).fetchone()
        return found is not None
    return False


def mark_filled(model: str, passages: str) -> None:
    """Record that the passages named `passages` are all tokenized for the model named `model`."""
    with unless_unusable(cache_file(FILE), NAME), _connect() as db:
        db.execute("INSERT OR IGNORE INTO filled VALUES (?, ?)", (model, passages))


class PairTokenizer:
    """Pairs tokenized from cached passage ids, for one tokenizer (a `tokenizers.Tokenizer`, copied: its truncation
    is set once and shared with no one, so threads cannot race on it)."""

    def __init__(self, tokenizer, template: Template, truncation_side: str, input_names: Sequence[str]) -> None:
        self._tokenizer = tokenizer
        self.template = template
        self.truncation_side = truncation_side
        self.input_names = tuple(input_names)
        self.key = hashlib.blake2b(tokenizer.to_str().encode("utf-8"), digest_size=16).hexdigest()
        self._memory: Lru[bytes, np.ndarray] = Lru(MEMORY_LIMIT)

    @classmethod
    def of(cls, batch_tokenizer) -> PairTokenizer | None:
        """One for a model's batch tokenizer (transformers' fast tokenizer or ranklens.models.tokens.Tokens); None where it
        has no `tokenizers` backend or its pairs are not laid out as a template (those tokenize pairs whole)."""
        from tokenizers import Tokenizer

        backend = getattr(batch_tokenizer, "backend_tokenizer", None)
        if backend is None:
            return None
        own = Tokenizer.from_str(backend.to_str())
        own.no_truncation()
        own.no_padding()
        template = template_of(own)
        if template is None:
            return None
        takes = getattr(batch_tokenizer, "model_input_names", INPUTS)
        names = ["input_ids", *(name for name in INPUTS[1:] if name in takes)]
        return cls(own, template, getattr(batch_tokenizer, "truncation_side", "right"), names)

    def _on_disk_or_tokenized(
        self, keys: Sequence[bytes], text_of: dict[bytes, str]
    ) -> tuple[dict[bytes, np.ndarray], dict[bytes, np.ndarray]]:
        """The ids of `keys` (distinct) found on disk, and those of the rest, tokenized now."""
        on_disk = _read(keys)
        new = [key for key in keys if key not in on_disk]
        if not new:
            return on_disk, {}
        encodings = self._tokenizer.encode_batch([text_of[key] for key in new], add_special_tokens=False)
        return on_disk, {key: np.asarray(e.ids, dtype=np.int32) for key, e in zip(new, encodings)}

    def passage_ids(self, passages: Sequence[str], keep: bool = True) -> list[np.ndarray]:
        """Each passage's token ids without special tokens: from memory, from disk, else tokenized and kept (not kept
        where `keep` is False: texts made for one call, such as an explanation's passage with a word taken out)."""
        keys = [cache_key(self.key, passage) for passage in passages]
        found = self._memory.get_many(keys)
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            on_disk, tokenized = self._on_disk_or_tokenized(missing, dict(zip(keys, passages)))
            found.update(on_disk)
            found.update(tokenized)
            if keep and tokenized:
                _write(tokenized)
            self._memory.put_many({key: found[key] for key in missing if keep or key not in tokenized})
        return [found[key] for key in keys]

    def fill(self, passages: PassageTable, progress: OnProgress | None = None) -> int:
        """Every passage of an index tokenized and on disk, so that no reranking tokenizes one; how many passages it
        tokenized (the rest were on disk, and count as written now: the bound trims other indexes' passages first)."""
        tokenized = 0
        for start in range(0, len(passages), FILL_BATCH):
            stop = min(start + FILL_BATCH, len(passages))
            text_of = {cache_key(self.key, text): text for text in passages.texts(range(start, stop))}
            on_disk, new = self._on_disk_or_tokenized(list(text_of), text_of)
            _touch(list(on_disk))
            if new:
                _write(new)
                tokenized += len(new)
            if progress:
                progress(stop, len(passages))
        return tokenized

    def window_end(self, query: str, passage: str, max_length: int) -> int:
        """The character offset in `passage` where its pair with `query`, cut to `max_length` tokens as `encode` cuts
        it, stops reading (the passage's length where it is read to the end)."""
        first, second = self._tokenizer.encode_batch([query, passage], add_special_tokens=False)
        _, kept = cut_lengths(len(first.ids), len(second.ids), max(max_length - self.template.added, 0))
        if kept >= len(second.ids) or self.truncation_side == "left":
            return len(passage)
        return second.offsets[kept - 1][1] if kept else 0

    def _cut(self, ids: np.ndarray, keep: int) -> np.ndarray:
        if keep >= len(ids):
            return ids
        return ids[len(ids) - keep :] if self.truncation_side == "left" else ids[:keep]

    def encode(
        self, pairs: Sequence[tuple[str, str]], max_length: int, keep_passages: bool = True
    ) -> tuple[dict[str, list], np.ndarray]:
        """The pairs' inputs with special tokens, cut to `max_length` tokens each, and which pairs were cut; the
        passages' ids are kept for the next call unless `keep_passages` is False."""
        queries = list(dict.fromkeys(query for query, _ in pairs))
        query_ids = {
            query: np.asarray(e.ids, dtype=np.int32)
            for query, e in zip(queries, self._tokenizer.encode_batch(queries, add_special_tokens=False))
        }
        passage_ids = self.passage_ids([passage for _, passage in pairs], keep_passages)
        room = max(max_length - self.template.added, 0)
        before, between, after = (
            np.asarray(part, dtype=np.int32)
            for part in (self.template.before, self.template.between, self.template.after)
        )
        encoded: dict[str, list] = {name: [] for name in self.input_names}
        truncated = np.zeros(len(pairs), dtype=bool)
        for row, ((query, _), passage) in enumerate(zip(pairs, passage_ids)):
            first = query_ids[query]
            kept_first, kept_second = cut_lengths(len(first), len(passage), room)
            truncated[row] = kept_first + kept_second < len(first) + len(passage)
            parts = (before, self._cut(first, kept_first), between, self._cut(passage, kept_second), after)
            ids = np.concatenate(parts)
            encoded["input_ids"].append(ids)
            if "token_type_ids" in encoded:
                encoded["token_type_ids"].append(
                    np.repeat(np.asarray(self.template.types, dtype=np.int32), [len(part) for part in parts])
                )
            if "attention_mask" in encoded:
                encoded["attention_mask"].append(np.ones(len(ids), dtype=np.int32))
        return encoded, truncated
