"""Peak memory and speed of loading a large JSON Lines corpus: RankLens's reader against the plain way.

    python bench/load_memory.py [--lines 2000000] [--repeats 3]

Writes a synthetic BEIR-style corpus.jsonl of short documents (the shape that costs the most
per byte: ~70 bytes a line) under $RANKLENS_HOME/bench, then loads it in a fresh process per
run with each implementation and reports the peak resident memory above the process's
baseline (after imports), as a multiple of the file's size; medians of the runs. The plain
baseline reads the file whole, decodes it, splits it into lines and keeps a Python object per
document, as RankLens did before its column store. The file is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ranklens.backends.cpu import cpu_name
from ranklens.settings import data_dir

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


def plain_load(path: Path) -> int:
    """The plain way: the whole file read and decoded, split into lines, a Python object per document."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Document:
        id: str
        text: str
        title: str = ""
        source: str = ""

    lines = path.read_bytes().decode("utf-8").splitlines()
    records = (json.loads(line) for line in lines)
    documents = [
        Document(str(r.get("_id")), r["text"], r.get("title", ""), f"{path}:{n}") for n, r in enumerate(records)
    ]
    return len(documents)


def ranklens_load(path: Path) -> int:
    from ranklens.corpus.loading import load_paths

    return len(load_paths([path]))


IMPLEMENTATIONS = {
    "plain (read whole, a Python object per document)": plain_load,
    "ranklens load_paths (streamed into Arrow columns)": ranklens_load,
}


def run_one(name: str, path: Path) -> None:
    """In a fresh process: load once and print (documents, peak bytes above the baseline, seconds)."""
    import resource
    import time

    import ranklens.corpus.readers  # noqa: F401 -- imported before the baseline is taken, like the plain way's json

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    count = IMPLEMENTATIONS[name](path)
    seconds = time.perf_counter() - started
    print(count, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024, seconds)


def write_corpus(path: Path, lines: int) -> None:
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 8)))
            out.write(json.dumps({"_id": f"d{i:07d}", "text": words}) + "\n")


def measure(name: str, path: Path) -> tuple[int, float, float]:
    command = [sys.executable, __file__, "--measure", name, str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    count, peak, seconds = done.stdout.split()
    return int(count), float(peak), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measure", nargs=2, metavar=("IMPLEMENTATION", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        run_one(args.measure[0], Path(args.measure[1]))
        return
    folder = data_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"load-memory-{args.lines}.jsonl"
    try:
        write_corpus(path, args.lines)
        size = path.stat().st_size
        results = {name: [] for name in IMPLEMENTATIONS}
        for _ in range(args.repeats):  # interleaved, so drift on a shared machine hits both alike
            for name in IMPLEMENTATIONS:
                results[name].append(measure(name, path))
    finally:
        path.unlink(missing_ok=True)
    print(
        f"machine: {cpu_name()}; {args.lines:,} lines, {size / 2**20:.1f} MiB; medians of {args.repeats} runs, "
        "each in a fresh process; peak = resident memory above the process's baseline after imports"
    )
    print(f"{'implementation':<52} {'peak MiB':>9} {'x file':>7} {'seconds':>8} {'docs/s':>9}")
    baseline = None
    for name, runs in results.items():
        peak = statistics.median(r[1] for r in runs) / 2**20
        seconds = statistics.median(r[2] for r in runs)
        baseline = baseline or peak
        print(f"{name:<52} {peak:>9.0f} {peak * 2**20 / size:>7.2f} {seconds:>8.1f} {runs[0][0] / seconds:>9,.0f}")
    print(f"RankLens peak / plain peak: {peak / baseline:.2f}")


if __name__ == "__main__":
    main()
