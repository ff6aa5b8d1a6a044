"""First stages at scale: FAISS flat, HNSW, IVF and Milvus Lite at 10k, 100k and 1M passages, and ingestion.

    python bench/scale.py [--sizes 10000 100000 1000000] [--engines faiss faiss-hnsw faiss-ivf milvus]
                          [--queries 200] [--ingest-lines 25000 100000]        # about an hour with 1M

10k passages are the real all-MiniLM-L6-v2 vectors of the shared datasets; larger sizes are those vectors again with
Gaussian noise, so the clusters stay real and nothing repeats. Each engine and size is built and searched in a fresh
process: build time, size on disk, peak memory, latency p50/p95 (top-100) and recall@100 against the exact search.
Ingestion streams generated JSON Lines through `ranklens ingest` at each of --ingest-lines (documents/s, peak
memory); `--sizes` with no value runs it alone. Writes under $RANKLENS_HOME/bench/scale, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.settings import data_dir, datasets_dir

DATASETS = ("adi", "med", "cranfield", "scifact")
NOISE = 0.3
TOP = 100


# short synthetic documents for the ingestion runs
WORDS = [
    "search",
    "rank",
    "model",
    "query",
    "document",
    "score",
    "passage",
    "index",
    "vector",
    "token",
    "cross",
    "encoder",
    "dense",
    "sparse",
    "lexical",
    "relevance",
    "judgement",
    "label",
    "corpus",
]


def write_corpus(path: Path, lines: int) -> None:
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 8)))
            out.write(json.dumps({"_id": f"d{i:07d}", "text": words}) + "\n")


def bench_folder() -> Path:
    folder = data_dir() / "bench" / "scale"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def real_vectors() -> tuple[np.ndarray, np.ndarray]:
    """Every shared dataset's passage vectors and query vectors (embedded once, then from the cache)."""
    from ranklens.corpus.beir import load_beir
    from ranklens.index.embeddings import embed_corpus
    from ranklens.models.loading import load_embedder

    embedder = load_embedder()
    passages, queries = [], []
    for name in DATASETS:
        corpus = load_beir(datasets_dir() / name)
        passages.append(np.asarray(embed_corpus(corpus, embedder).vectors))
        queries.append(embedder.encode(list(corpus.queries.values())))
    return np.concatenate(passages), np.concatenate(queries)


def vectors_of_size(real: np.ndarray, size: int) -> np.ndarray:
    if size <= len(real):
        return real[:size]
    rng = np.random.default_rng(0)
    out = np.empty((size, real.shape[1]), dtype=np.float32)
    for start in range(0, size, 100_000):
        stop = min(size, start + 100_000)
        rows = real[np.arange(start, stop) % len(real)] + rng.normal(
            0, NOISE / np.sqrt(real.shape[1]), (stop - start, real.shape[1])
        )
        out[start:stop] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def prepare(sizes: list[int], query_count: int) -> dict[int, Path]:
    real, queries = real_vectors()
    folder = bench_folder()
    np.save(folder / "queries.npy", queries[:query_count].astype(np.float32))
    files = {}
    for size in sizes:
        files[size] = folder / f"vectors-{size}.npy"
        np.save(files[size], vectors_of_size(real, size))
    print(f"real passage vectors: {len(real):,}; queries: {min(query_count, len(queries))}", file=sys.stderr)
    return files


def _disk(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _faiss(engine: str, vectors: np.ndarray, work: Path):
    import faiss

    from ranklens.index.dense import AnnSettings, build_faiss

    kind = {"faiss": "flat", "faiss-hnsw": "hnsw", "faiss-ivf": "ivf"}[engine]
    index = build_faiss(kind, vectors, AnnSettings())
    if kind == "hnsw":
        index.hnsw.efSearch = AnnSettings().ef_search
    elif kind == "ivf":
        index.nprobe = AnnSettings().nprobe
    faiss.write_index(index, str(work / "index.faiss"))
    return lambda q: index.search(q[None, :], TOP)[1][0]


def _milvus(vectors: np.ndarray, work: Path):
    from pymilvus import DataType, MilvusClient

    client = MilvusClient(str(work / "milvus.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=vectors.shape[1])
    indexes = client.prepare_index_params()
    indexes.add_index("dense", index_type="HNSW", metric_type="IP", params={"M": 32, "efConstruction": 80})
    client.create_collection("bench", schema=schema, index_params=indexes)
    for start in range(0, len(vectors), 5_000):
        rows = [{"pk": i, "dense": vectors[i].tolist()} for i in range(start, min(len(vectors), start + 5_000))]
        client.insert("bench", rows)
    client.flush("bench")
    client.load_collection("bench")
    params = {"metric_type": "IP", "params": {"ef": 128}}

    def search(query: np.ndarray) -> np.ndarray:
        found = client.search("bench", data=[query.tolist()], anns_field="dense", limit=TOP, search_params=params)
        return np.array([hit["pk"] for hit in found[0]])

    return search


def _status(field: str) -> int:
    """A VmRSS / VmHWM figure of this process, in bytes (Linux)."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1]) * 1024


def reset_peak() -> int:
    """Reset this process's peak resident memory to what it holds now (after its imports), and return that: the
    peak of what follows is then measured above it, not hidden under the imports' own peak."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def peak_above(base: int) -> int:
    return _status("VmHWM") - base


def run_one(engine: str, size: int) -> None:
    """In a fresh process: build, measure and print one JSON line."""
    import faiss

    folder = bench_folder()
    vectors = np.load(folder / f"vectors-{size}.npy", mmap_mode="r")
    queries = np.load(folder / "queries.npy")
    work = folder / f"{engine}-{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    base = reset_peak()
    started = time.perf_counter()
    search = _milvus(np.asarray(vectors), work) if engine == "milvus" else _faiss(engine, vectors, work)
    build = time.perf_counter() - started
    exact = faiss.IndexFlatIP(vectors.shape[1])
    latencies, recalls = [], []
    for query in queries:
        started = time.perf_counter()
        found = search(query)
        latencies.append((time.perf_counter() - started) * 1000)
        recalls.append(found)
    peak = peak_above(base)
    for start in range(0, len(vectors), 65_536):
        exact.add(np.ascontiguousarray(vectors[start : start + 65_536]))
    truth = exact.search(queries, TOP)[1]
    recall = float(np.mean([len(set(f) & set(t)) / TOP for f, t in zip(recalls, truth)]))
    print(
        json.dumps(
            {
                "engine": engine,
                "passages": size,
                "build_s": build,
                "disk_mb": _disk(work) / 2**20,
                "peak_mb": peak / 2**20,
                "p50_ms": float(np.percentile(latencies, 50)),
                "p95_ms": float(np.percentile(latencies, 95)),
                "recall@100": recall,
            }
        )
    )
    shutil.rmtree(work, ignore_errors=True)


def ingest_one(path: Path) -> None:
    """In a fresh process: ingest a file (bf16 bi-encoder) and print documents/s and peak memory."""
    from ranklens.index.ingest import ingest
    from ranklens.models.loading import load_embedder

    embedder = load_embedder(backend="torch-bf16")
    base = reset_peak()
    done = ingest([path], embedder)
    peak = peak_above(base)
    print(
        json.dumps(
            {
                "documents": len(done.corpus),
                "passages": done.embeddings.passage_count,
                "docs_per_s": len(done.corpus) / done.seconds,
                "peak_mb": peak / 2**20,
                "file_mb": path.stat().st_size / 2**20,
            }
        )
    )


def _child(*args: str, home: str | None = None) -> dict:
    """Run one measurement in a fresh process (with its own RANKLENS_HOME when `home` is given)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **({"RANKLENS_HOME": home} if home else {})}
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False, env=env)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", default=["faiss", "faiss-hnsw", "faiss-ivf", "milvus"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ingest-lines", nargs="+", type=int, default=[25_000, 100_000])
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--ingest-one", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return run_one(args.one[0], int(args.one[1]))
    if args.ingest_one:
        return ingest_one(Path(args.ingest_one))
    try:
        if args.sizes:
            prepare(args.sizes, args.queries)
        rows = []
        for size in args.sizes:
            for engine in args.engines:
                print(f"{engine} at {size:,} passages…", file=sys.stderr)
                rows.append(_child("--one", engine, str(size)))
        ingested = []
        for lines in sorted(args.ingest_lines):
            path = bench_folder() / f"ingest-{lines}.jsonl"
            write_corpus(path, lines)
            print(f"ingesting {lines:,} lines…", file=sys.stderr)
            # a home of its own: the ingested corpus, its checkpoints and embeddings are the bench's, not the user's
            with tempfile.TemporaryDirectory(prefix="scale-ingest-", dir=bench_folder()) as home:
                ingested.append(_child("--ingest-one", str(path), home=home))
    finally:
        shutil.rmtree(bench_folder(), ignore_errors=True)
    print(f"machine: {cpu_name()}, {cpu_cores()} cores; top-{TOP}, {args.queries} real queries one at a time")
    if rows:
        print(
            f"{'engine':<12} {'passages':>10} {'build s':>9} {'disk MiB':>9} {'peak MiB':>9} {'p50 ms':>8} "
            f"{'p95 ms':>8} {'recall@100':>10}"
        )
    for row in rows:
        print(
            f"{row['engine']:<12} {row['passages']:>10,} {row['build_s']:>9.1f} {row['disk_mb']:>9.1f} "
            f"{row['peak_mb']:>9.1f} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} {row['recall@100']:>10.3f}"
        )
    print("\ningestion (read, validate, chunk, embed in bf16, write, checkpoint), short documents:")
    print(f"{'lines':>10} {'file MiB':>9} {'passages':>10} {'docs/s':>8} {'peak MiB':>9}")
    for row in ingested:
        print(
            f"{row['documents']:>10,} {row['file_mb']:>9.1f} {row['passages']:>10,} {row['docs_per_s']:>8.0f} "
            f"{row['peak_mb']:>9.0f}"
        )
    if len(ingested) > 1 and ingested[0]["peak_mb"] > 0:
        print(
            f"peak memory, {ingested[-1]['documents']:,} lines against {ingested[0]['documents']:,}: "
            f"{ingested[-1]['peak_mb'] / ingested[0]['peak_mb']:.2f}x"
        )


if __name__ == "__main__":
    main()
