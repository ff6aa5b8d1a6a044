"""Lexical first stage: BM25 with bm25s (sparse matrices, in process), cached on disk like the dense index.

Whole documents (title + text) are indexed by default, as BEIR's BM25 baseline does; `level`
"passage" scores each passage and a document by its best one. The analysis (lower case,
words of two letters or more, English stopwords, Snowball stemming) is `analyze`, shared
with the Milvus engine so both index the very same terms.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ranklens import cachedir, inference
from ranklens.corpus.corpus import Corpus
from ranklens.corpus.passages import PassageTable
from ranklens.index.base import FirstStage, Hit, RetrievalError, Retrieved, best_per_document, overlap_passage
from ranklens.settings import data_dir

FORMAT_VERSION = 1


@dataclass(frozen=True)
class BM25Settings:
    """BM25's analysis and parameters, and whether it indexes documents or passages."""

    stemming: bool = True
    stopwords: bool = True
    k1: float = 1.5
    b: float = 0.75
    level: str = "document"  # or "passage"

    def __post_init__(self) -> None:
        if self.level not in ("document", "passage"):
            raise RetrievalError(f"BM25 indexes 'document' or 'passage' texts, not {self.level!r}")


def _stemmer(settings: BM25Settings):
    if not settings.stemming:
        return None
    import Stemmer

    return Stemmer.Stemmer("english").stemWords


def analyze(texts: list[str], settings: BM25Settings) -> list[list[str]]:
    """Each text's terms: lower case, words of 2+ letters, English stopwords out, Snowball stems (as set)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.ERROR)
    return bm25s.tokenize(
        texts,
        stopwords="en" if settings.stopwords else None,
        stemmer=_stemmer(settings),
        return_ids=False,
        show_progress=False,
    )


def _key(corpus: Corpus, settings: BM25Settings, passages: PassageTable) -> str:
    parts = [str(FORMAT_VERSION), corpus.content_hash(), json.dumps(asdict(settings), sort_keys=True)]
    if settings.level == "passage":
        parts.append(hashlib.sha256(np.ascontiguousarray(passages.columns["end"]).tobytes()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


class BM25Retriever(FirstStage):
    """BM25 over the corpus's documents (or passages), with bm25s."""

    name = "bm25"
    label = "BM25"
    score_name = "BM25"
    bounded = False

    def __init__(
        self,
        corpus: Corpus,
        passages: PassageTable,
        settings: BM25Settings | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.corpus, self.passages = corpus, passages
        self.settings = settings or BM25Settings()
        digest = _key(corpus, self.settings, passages)
        self.key = f"bm25|{digest}"
        self.folder = (cache_dir or data_dir() / "bm25") / digest
        self.model = self._load() or self._build()

    def _texts(self) -> list[str]:
        if self.settings.level == "passage":
            return self.passages.texts(range(len(self.passages)))
        return [doc.full_text for doc in self.corpus.documents]

    def _build(self):
        import bm25s

        model = bm25s.BM25(k1=self.settings.k1, b=self.settings.b, method="lucene")
        model.index(analyze(self._texts(), self.settings), show_progress=False)
        staging = cachedir.staging_folder(self.folder)
        try:
            model.save(str(staging), show_progress=False)
            cachedir.install(staging, self.folder)
        except BaseException:
            cachedir.discard(staging)
            raise
        return model

    def _load(self):
        import bm25s

        expected = len(self.passages) if self.settings.level == "passage" else len(self.corpus)
        try:
            model = bm25s.BM25.load(str(self.folder), mmap=True, show_progress=False)
        except (OSError, ValueError, KeyError):
            return None
        return model if model.scores.get("num_docs") == expected else None

    def retrieve(self, query: str, top_n: int) -> Retrieved:
        """The top-N documents by BM25 score of the analysed query."""
        started = time.perf_counter()
        terms = analyze([query], self.settings)[0]
        known = [term for term in terms if term in self.model.vocab_dict]
        if not known:  # no term of the query is in the corpus: nothing to rank
            return Retrieved([], 0.0, (time.perf_counter() - started) * 1000)
        units = len(self.passages) if self.settings.level == "passage" else len(self.corpus)
        with inference.LOCK:
            scores = self.model.get_scores(known)
        order = np.argsort(-scores, kind="stable")
        order = order[scores[order] > 0][: units if self.settings.level == "passage" else top_n]
        if self.settings.level == "passage":
            hits = best_per_document(((int(p), float(scores[p])) for p in order), self.passages, top_n)
        else:
            hits = [self._document_hit(query, int(d), float(scores[d])) for d in order]
        return Retrieved(hits, 0.0, (time.perf_counter() - started) * 1000)

    def _document_hit(self, query: str, position: int, score: float) -> Hit:
        doc_id = self.corpus.documents.id_at(position)
        return Hit(doc_id, score, overlap_passage(query, self.passages, doc_id))

    def describe(self) -> dict:
        """The BM25 settings, for captions and reports."""
        return {"first_stage": self.name, "bm25": asdict(self.settings)}
