"""Milvus first stages: dense vectors, BM25 (Milvus's own full-text function) and their hybrid (Milvus's RRF).

By default an embedded Milvus Lite database file under $RANKLENS_HOME/milvus (pymilvus +
milvus-lite, no server); with `--milvus-uri` / RANKLENS_MILVUS_URI the same client code talks
to a Milvus server or cluster (token from RANKLENS_MILVUS_TOKEN). One collection per corpus,
embeddings and analysis, a row per passage: its vector, and its text as RankLens analyses it
for BM25 (so Milvus's BM25 and `bm25` index the very same terms). Ingestion is batched and
resumable: a checkpoint after each batch, and upserts, so a killed ingestion resumes where
it stopped and never doubles a row.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ranklens import inference
from ranklens.index.base import FirstStage, RetrievalError, Retrieved, best_per_document
from ranklens.index.embeddings import CorpusEmbeddings
from ranklens.index.lexical import BM25Settings, analyze
from ranklens.index.query_vectors import query_vector
from ranklens.models.embedder import Embedder
from ranklens.progress import OnProgress
from ranklens.settings import data_dir

URI_ENV, TOKEN_ENV = "RANKLENS_MILVUS_URI", "RANKLENS_MILVUS_TOKEN"
MODES = {"milvus": "dense", "milvus-bm25": "bm25", "milvus-hybrid": "hybrid"}
LABELS = {"dense": "Milvus dense", "bm25": "Milvus BM25", "hybrid": "Milvus hybrid (RRF)"}
MAX_LIMIT = 16_384  # Milvus's largest top-k
RRF_K = 60
COLLECTION_PREFIX = "rl_"  # every collection RankLens makes, and only those, is named so


@dataclass(frozen=True)
class MilvusSettings:
    """Which Milvus (a server URI, else Milvus Lite), its index and search knobs, and its BM25 analysis."""

    uri: str | None = None  # None: RANKLENS_MILVUS_URI, else Milvus Lite in $RANKLENS_HOME/milvus/ranklens.db
    index_type: str = "FLAT"  # the dense index: FLAT is exact; Milvus Lite also has HNSW, IVF_FLAT, IVF_SQ8, HNSW_SQ
    hnsw_m: int = 32
    ef_search: int = 128
    batch: int = 512  # passages per insert, and per checkpoint
    bm25: BM25Settings = field(default_factory=lambda: BM25Settings(level="passage"))

    def resolved_uri(self) -> str:
        """The URI to connect to: the setting, $RANKLENS_MILVUS_URI, else a Milvus Lite file under $RANKLENS_HOME."""
        return self.uri or os.environ.get(URI_ENV) or lite_file()


def lite_file() -> str:
    """The Milvus Lite database RankLens uses when no server is named: a file under $RANKLENS_HOME."""
    return str(data_dir() / "milvus" / "ranklens.db")


_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def client(uri: str):
    """One MilvusClient per URI per process (Milvus Lite allows one process per file)."""
    from pymilvus import MilvusClient

    with _clients_lock:
        if uri not in _clients:
            if "://" not in uri:
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                _clients[uri] = MilvusClient(uri=uri, token=os.environ.get(TOKEN_ENV, ""))
            except Exception as err:
                raise RetrievalError(
                    f"cannot open Milvus at {uri}: {err} (a Milvus Lite file is usable by one process at a time)"
                ) from err
        return _clients[uri]


def close_clients() -> None:
    """Close every client this process opened (tests, and a CLI command's end)."""
    with _clients_lock:
        for opened in _clients.values():
            opened.close()
        _clients.clear()


def checkpoint_folder(uri: str) -> Path:
    """Where the ingestion checkpoints of the collections in one Milvus (a Lite file or a server) are kept: one
    folder per URI, since the same corpus ingested into two of them is two ingestions with one collection name."""
    where = uri if "://" in uri else str(Path(uri).resolve())
    return data_dir() / "milvus" / "checkpoints" / hashlib.sha256(where.encode()).hexdigest()[:16]


def checkpointed_collections(uri: str) -> int:
    """How many collections RankLens has made in this Milvus, as its checkpoints tell (Milvus is not opened)."""
    folder = checkpoint_folder(uri)
    return sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0


def drop_collections(uri: str) -> int:
    """Drop the collections RankLens made in this Milvus (and their checkpoints); how many. Others are left."""
    with _clients_lock:
        was_open = uri in _clients
    opened = client(uri)
    try:
        ours = [name for name in opened.list_collections() if name.startswith(COLLECTION_PREFIX)]
        for name in ours:
            opened.drop_collection(name)
    finally:
        if not was_open:  # Milvus Lite lets one process at a time hold its file: let go of what we opened for this
            with _clients_lock:
                _clients.pop(uri).close()
    shutil.rmtree(checkpoint_folder(uri), ignore_errors=True)
    return len(ours)


def collection_name(embeddings: CorpusEmbeddings, settings: MilvusSettings) -> str:
    """The collection for these embeddings and settings: a change to either is a new collection."""
    parts = [
        embeddings.key,
        json.dumps(asdict(settings.bm25), sort_keys=True),
        settings.index_type,
        str(settings.hnsw_m),
    ]
    return COLLECTION_PREFIX + hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


class MilvusCollection:
    """One corpus's passages in Milvus: created, filled batch by batch (resumably), searched."""

    def __init__(self, embeddings: CorpusEmbeddings, settings: MilvusSettings) -> None:
        self.embeddings, self.settings = embeddings, settings
        self.uri = settings.resolved_uri()
        self.client = client(self.uri)
        self.name = collection_name(embeddings, settings)
        self.checkpoint = checkpoint_folder(self.uri) / f"{self.name}.json"

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self.client.create_schema(auto_id=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("doc", DataType.VARCHAR, max_length=1024)
        schema.add_field(
            "terms",
            DataType.VARCHAR,
            max_length=65_535,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},
        )
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.embeddings.vectors.shape[1])
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["sparse"]
            )
        )
        indexes = self.client.prepare_index_params()
        dense = {"M": self.settings.hnsw_m, "efConstruction": 80} if "HNSW" in self.settings.index_type else {}
        indexes.add_index("dense", index_type=self.settings.index_type, metric_type="IP", params=dense)
        bm25 = self.settings.bm25
        indexes.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": bm25.k1, "bm25_b": bm25.b},
        )
        self.client.create_collection(self.name, schema=schema, index_params=indexes)

    def _done(self) -> int:
        try:
            return int(json.loads(self.checkpoint.read_text())["passages"])
        except (OSError, ValueError, KeyError):
            return 0

    def _mark(self, done: int) -> None:
        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        staging = self.checkpoint.with_suffix(".tmp")
        staging.write_text(json.dumps({"passages": done, "of": self.embeddings.passage_count}))
        staging.replace(self.checkpoint)

    def ingest(self, progress: OnProgress | None = None, stop_after: int | None = None) -> int:
        """Insert the passages not in yet, `batch` at a time, from the last checkpoint; returns how many are in.
        `stop_after` ends after that many batches (how the tests interrupt an ingestion)."""
        if not self.client.has_collection(self.name):
            self._create()
            self._mark(0)
        total, done, batches = self.embeddings.passage_count, self._done(), 0
        passages, vectors = self.embeddings.passages, self.embeddings.vectors
        while done < total and (stop_after is None or batches < stop_after):
            stop = min(done + self.settings.batch, total)
            terms = analyze(passages.texts(range(done, stop)), self.settings.bm25)
            rows = [
                {"pk": p, "doc": passages.doc_id(p), "terms": " ".join(t) or "_", "dense": vectors[p].tolist()}
                for p, t in zip(range(done, stop), terms)
            ]
            self.client.upsert(self.name, rows)  # upsert: a batch sent again after a kill replaces itself
            done, batches = stop, batches + 1
            self._mark(done)
            if progress:
                progress(done, total)
        if done == total:
            self.client.flush(self.name)
            self.client.load_collection(self.name)
        return done

    def rows(self) -> int:
        """Rows the collection holds."""
        return int(self.client.get_collection_stats(self.name)["row_count"])

    def search(self, mode: str, query: str, vector, limit: int) -> list[tuple[int, float]]:
        """(passage, score) pairs best first, from the dense field, the BM25 field, or both by RRF."""
        from pymilvus import AnnSearchRequest, RRFRanker

        dense_params = {"metric_type": "IP", "params": {"ef": self.settings.ef_search}}
        bm25_query = " ".join(analyze([query], self.settings.bm25)[0]) or "_"
        with inference.LOCK:
            if mode == "dense":
                found = self.client.search(
                    self.name, data=[vector], anns_field="dense", limit=limit, search_params=dense_params
                )
            elif mode == "bm25":
                found = self.client.search(
                    self.name,
                    data=[bm25_query],
                    anns_field="sparse",
                    limit=limit,
                    search_params={"metric_type": "BM25"},
                )
            else:
                requests = [
                    AnnSearchRequest(data=[vector], anns_field="dense", param=dense_params, limit=limit),
                    AnnSearchRequest(
                        data=[bm25_query], anns_field="sparse", param={"metric_type": "BM25"}, limit=limit
                    ),
                ]
                found = self.client.hybrid_search(self.name, requests, RRFRanker(RRF_K), limit=limit)
        # Milvus Lite gives BM25 as a negative distance, a server as a positive score: the order is the same
        return [
            (int(hit["pk"]), abs(float(hit["distance"])) if mode == "bm25" else float(hit["distance"]))
            for hit in found[0]
        ]


class MilvusRetriever(FirstStage):
    """A first stage answered by Milvus: dense, BM25 or hybrid."""

    def __init__(
        self,
        embeddings: CorpusEmbeddings,
        embedder: Embedder,
        name: str = "milvus",
        settings: MilvusSettings | None = None,
        progress: OnProgress | None = None,
    ) -> None:
        self.name, self.mode = name, MODES[name]
        self.label, self.score_name = LABELS[self.mode], {"dense": "cosine", "bm25": "BM25", "hybrid": "RRF"}[self.mode]
        self.bounded = self.mode != "bm25"
        self.settings = settings or MilvusSettings()
        self.embeddings, self.embedder = embeddings, embedder
        self.corpus, self.passages = embeddings.corpus, embeddings.passages
        self.collection = MilvusCollection(embeddings, self.settings)
        if self.collection.ingest(progress) < embeddings.passage_count:
            raise RetrievalError("the Milvus ingestion stopped before every passage was in")
        self.key = f"{name}|{self.collection.uri}|{self.collection.name}|ef{self.settings.ef_search}"

    def retrieve(self, query: str, top_n: int) -> Retrieved:
        """The top-N documents from Milvus (dense, BM25 or hybrid search)."""
        started = time.perf_counter()
        vector = None if self.mode == "bm25" else query_vector(self.embedder, query)[0].tolist()
        encoded = time.perf_counter()
        total = self.embeddings.passage_count
        limit = min(total, top_n, MAX_LIMIT)
        while True:  # several passages of one document may take places: ask for more until N documents
            ranked = self.collection.search(self.mode, query, vector, limit)
            hits = best_per_document(ranked, self.passages, top_n)
            if len(hits) >= top_n or limit >= min(total, MAX_LIMIT) or len(ranked) < limit:
                break
            limit = min(total, MAX_LIMIT, limit * 2)
        return Retrieved(hits, (encoded - started) * 1000, (time.perf_counter() - encoded) * 1000)

    def describe(self) -> dict:
        """Where Milvus runs and how it searches, for captions and reports."""
        uri = self.collection.uri if "://" in self.collection.uri else "Milvus Lite (local file)"
        return {
            "first_stage": self.name,
            "milvus": uri,
            "collection": self.collection.name,
            "index_type": self.settings.index_type,
            "bi_model": self.embedder.name,
        }
