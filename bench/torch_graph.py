"""Graph compilers for the torch-bf16 cross-encoder: do TorchScript with oneDNN Graph fusion or torch.compile
(Inductor, frozen weights) rerank faster than the eager module RankLens runs?

    python bench/torch_graph.py [--datasets med scifact] [--candidates 100] [--repeats 7]

Each round reranks the first N documents of a dataset against another of its judged queries (a new search: other
lengths, so other shapes for the compilers), through RankLens's own path (cached passage ids, batches of 16 sorted
by length) with the forward pass swapped, beside the seed's code (torch fp32 CrossEncoder.predict) in the same
rounds. Medians of interleaved rounds after a warm-up round; compiling is timed apart (the first reranking) and
also counted in later rounds, whenever a new shape makes a compiler compile again. Spearman with the seed's
scores on the first query. The machine is named in the output.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import cycle
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd
from shared_datasets import datasets_or_exit

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.corpus.beir import load_beir
from ranklens.models.loading import DEFAULT_CROSS_ENCODER, forget_loaded, load_reranker
from ranklens.ranking.compare import spearman
from ranklens.speed.bench import SEED, median_times, seed_reranker

EAGER = "torch-bf16 (eager, as RankLens runs it)"


def torchscript_forward(module, names: list[str]):
    """The module traced once at its first batch and frozen, run with oneDNN Graph fusion (which compiles again
    for each new shape it profiles)."""
    import torch

    torch.jit.enable_onednn_fusion(True)

    class Positional(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, *tensors):
            return self.inner(**dict(zip(names, tensors)))[0]

    traced = None

    def forward(feed: dict[str, np.ndarray]) -> np.ndarray:
        nonlocal traced
        tensors = tuple(torch.from_numpy(feed[name]) for name in names)
        with torch.inference_mode():
            if traced is None:
                traced = torch.jit.freeze(torch.jit.trace(Positional().eval(), tensors, check_trace=False))
            return traced(*tensors).float().numpy()

    return forward


def compiled_forward(module):
    """torch.compile (Inductor) with the weights frozen into the graph; shapes become dynamic after a recompile."""
    import torch
    import torch._inductor.config

    torch._inductor.config.freezing = True
    compiled = torch.compile(module)

    def forward(feed: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            return compiled(**{name: torch.from_numpy(values) for name, values in feed.items()})[0].float().numpy()

    return forward


def measure(dataset: Path, candidates: int, repeats: int) -> list[dict]:
    """The table's rows for one dataset."""
    corpus = load_beir(dataset)
    passages = [corpus.documents[i].full_text for i in range(min(candidates, len(corpus)))]
    queries = list(corpus.judged_queries().values())
    rerankers = []
    for _ in range(3):  # three models, each with its own forward pass (a load is kept and handed out again)
        rerankers.append(load_reranker(DEFAULT_CROSS_ENCODER, backend="torch-bf16"))
        forget_loaded("cross", DEFAULT_CROSS_ENCODER, "torch-bf16")
    eager, scripted, compiled = rerankers
    if eager.backend != "torch-bf16":
        sys.exit(f"torch-bf16 is not available here: {eager.backend_note}")
    seed = seed_reranker(eager.name)  # the configured fallback where the default cannot be had
    names = list(eager.tokenize([(queries[0], passages[0])])[0].keys())
    scripted.forward = torchscript_forward(scripted.model.transformers_model, names)
    compiled.forward = compiled_forward(compiled.model.transformers_model)

    def of(score: Callable[[list[tuple[str, str]]], object]) -> Callable[[], object]:
        asked = cycle(queries)  # each implementation meets the same query in the same round
        return lambda: score([(next(asked), passage) for passage in passages])

    functions = {
        SEED: of(seed),
        EAGER: of(eager.score),
        "torch-bf16, TorchScript + oneDNN Graph": of(scripted.score),
        "torch-bf16, torch.compile (Inductor, frozen)": of(compiled.score),
    }
    first_pairs = [(queries[0], passage) for passage in passages]
    reference = np.asarray(seed(first_pairs))
    first_call, agreement = {}, {}
    for name, reranker in zip(list(functions)[1:], rerankers):
        started = time.perf_counter()
        scores = reranker.score(first_pairs)
        first_call[name] = time.perf_counter() - started
        agreement[name] = spearman(reference, scores)
    seconds = median_times(functions, repeats)
    return [
        {
            "dataset": corpus.name,
            "implementation": name,
            "ms": value * 1000,
            "vs seed": seconds[SEED] / value,
            "vs eager": seconds[EAGER] / value if name != SEED else float("nan"),
            "first call, s": first_call.get(name, float("nan")),
            "Spearman with seed": agreement.get(name, 1.0),
        }
        for name, value in seconds.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["med", "scifact"])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    options = parser.parse_args()
    root = datasets_or_exit()
    with tempfile.TemporaryDirectory(prefix="ranklens-torch-graph-") as home:  # no cache of the user's is touched
        os.environ["RANKLENS_HOME"] = home
        rows = [row for name in options.datasets for row in measure(root / name, options.candidates, options.repeats)]
    print(f"{cpu_name()}, {cpu_cores()} cores; {options.candidates} candidates, medians of {options.repeats} rounds\n")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
