"""How many calibration inputs openvino-int8-static needs: quality and quantizing time per NNCF subset size.

    python bench/int8_calibration.py [--samples 300 150 100 64] [--datasets med scifact] [--queries 60]

The cross-encoder's fp32 ONNX export is quantized with each number of calibration pairs (ranklens.backends.
openvino_runtime; 300 is NNCF's own default, the baseline), and each int8 model reranks BM25's top 30 of the first N
judged queries of each dataset: nDCG@10 (trec_eval's) against fp32's, and the Spearman of all its scores with
fp32's. The bi-encoder is quantized the same way and compared by the cosine of its embeddings of 200 passages with
fp32's (the index check's measure, ranklens.backends.registry.MIN_INDEX_COSINE). Quality is deterministic; the time
is one quantization each, on a shared machine: read it as a rough share. The machine is named in the output.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd
from shared_datasets import datasets_or_exit

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.backends.exports import cached_export
from ranklens.backends.openvino_runtime import openvino_forward, quantize_static_int8
from ranklens.corpus.beir import load_beir
from ranklens.evaluation.evaluate import judged, score_runs
from ranklens.index.embeddings import corpus_passages
from ranklens.index.lexical import BM25Retriever
from ranklens.models.embedder import Embedder
from ranklens.models.files import fingerprint
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_embedder, load_reranker
from ranklens.models.reranker import Reranker
from ranklens.ranking.compare import spearman

BACKEND = "openvino-int8-static"
CANDIDATES = 30
PASSAGES = 200


def reranking_sets(root: Path, names: list[str], queries: int, embedder) -> dict[str, tuple[dict, list]]:
    """Per dataset: its first judged queries' qrels and, for each, BM25's top candidates as (doc id, passage)."""
    sets = {}
    for name in names:
        corpus = load_beir(root / name)
        qrels = dict(list(judged(corpus.qrels).items())[:queries])
        stage = BM25Retriever(corpus, corpus_passages(corpus, embedder))
        items = []
        for qid in qrels:
            hits = stage.retrieve(corpus.queries[qid], CANDIDATES).hits
            items.append((qid, corpus.queries[qid], [(h.doc_id, stage.passages.text(h.passage)) for h in hits]))
        sets[name] = (qrels, items)
    return sets


def reranking_quality(model, sets: dict) -> dict[str, tuple[float, np.ndarray]]:
    """nDCG@10 of the model's reranking of each set, and all its scores in order."""
    found = {}
    for name, (qrels, items) in sets.items():
        run, scores = {}, []
        for qid, query, candidates in items:
            logits = model.score([(query, text) for _, text in candidates])
            scores.append(logits)
            run[qid] = {doc_id: float(logit) for (doc_id, _), logit in zip(candidates, logits)}
        found[name] = (float(score_runs(qrels, {"run": run}, ("ndcg@10",)).iloc[0, 0]), np.concatenate(scores))
    return found


def onnx_file(name: str, max_tokens: int) -> Path:
    path = cached_export(fingerprint(name), "onnx", max_tokens)
    assert path is not None, f"no fp32 ONNX export of {name}: loading it on onnx makes one"
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", nargs="+", type=int, default=[300, 150, 100, 64])
    parser.add_argument("--datasets", nargs="+", default=["med", "scifact"])
    parser.add_argument("--queries", type=int, default=60)
    options = parser.parse_args()
    root = datasets_or_exit()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ranklens-int8-calibration-") as home:  # no cache of the user's touched
        os.environ["RANKLENS_HOME"] = home
        embedder = load_embedder(DEFAULT_BI_ENCODER)
        fp32 = load_reranker(DEFAULT_CROSS_ENCODER, backend="onnx")  # the configured fallback where it must
        sets = reranking_sets(root, options.datasets, options.queries, embedder)
        reference = reranking_quality(fp32, sets)
        ce_source = onnx_file(fp32.name, fp32.max_tokens)
        bi_fp32 = load_embedder(DEFAULT_BI_ENCODER, backend="onnx")
        bi_source = onnx_file(bi_fp32.name, bi_fp32.max_tokens)
        corpus = load_beir(root / options.datasets[0])
        texts = [d.full_text for d in corpus.documents[:PASSAGES]]
        bi_reference = bi_fp32.encode(texts)
        for samples in options.samples:
            target = Path(home) / f"ce-{samples}" / "model.xml"
            started = time.perf_counter()
            quantize_static_int8(ce_source, target, fp32.model.tokenizer, True, samples)
            ce_seconds = time.perf_counter() - started
            int8 = Reranker(fp32.name, fp32.model, BACKEND, openvino_forward(target, BACKEND), backend=BACKEND)
            row: dict[str, object] = {"samples": samples, "CE quantize s": ce_seconds}
            for name, (ndcg, scores) in reranking_quality(int8, sets).items():
                row[f"{name} nDCG vs fp32"] = ndcg / reference[name][0]
                row[f"{name} Spearman"] = spearman(reference[name][1], scores)
            target = Path(home) / f"bi-{samples}" / "model.xml"
            started = time.perf_counter()
            quantize_static_int8(bi_source, target, bi_fp32.tokenizer, False, samples)
            row["bi quantize s"] = time.perf_counter() - started
            bi_int8 = Embedder(bi_fp32.name, bi_fp32.model, BACKEND, openvino_forward(target, BACKEND))
            cosines = (bi_int8.encode(texts) * bi_reference).sum(axis=1)
            row["bi cosine min"], row["bi cosine mean"] = float(cosines.min()), float(cosines.mean())
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    print(f"{cpu_name()}, {cpu_cores()} cores; {fp32.name}; baseline: {options.samples[0]} samples\n")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
