"""Can openvino-int8-static keep the ranking on the pairs `auto` measures? Quantization recipes against the guard.

    python bench/int8_variants.py [--datasets med scifact] [--queries 30]

`auto` (ranklens.speed.calibration) rules a backend out when its Spearman with torch fp32 on its measuring pairs
(the built-in corpus's queries against its documents joined to full windows) falls under 0.99. This quantizes the
cross-encoder's fp32 ONNX export several ways and gives, for each: that Spearman; the Spearman and nDCG@10 against
fp32 on BM25's top 30 of the first N judged queries of real datasets (abstracts, as they are); the seconds per 100
measuring pairs (median of 5, after a warm-up), interleaved round by round with openvino-bf16's, and the ratio; the
seconds to quantize.

- as shipped: RankLens's recipe (150 short pairs of the built-in corpora, NNCF's transformer preset);
- f32 elsewhere: the same model, its floating-point layers in f32 rather than OpenVINO's default bf16;
- full windows: calibrated on pairs joined to full windows, as `auto` measures;
- and, on those, the last layer left in floating point, no SmoothQuant, full bias correction, the mixed preset.

The machine is named in the output.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd
from int8_calibration import onnx_file, reranking_quality, reranking_sets
from shared_datasets import datasets_or_exit

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.backends.openvino_runtime import import_nncf_quietly, openvino_forward, quantize_static_int8
from ranklens.corpus.corpus import builtin_names
from ranklens.corpus.loading import load_builtin
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_embedder, load_reranker
from ranklens.models.reranker import Reranker
from ranklens.ranking.compare import spearman
from ranklens.speed.bench import median_times
from ranklens.speed.calibration import PAIRS, calibration_pairs

BACKEND = "openvino-int8-static"
MEASURED_ON = "python"  # the app's and `make run`'s built-in corpus, where `auto` measures first


def joined_pairs(corpus_name: str, count: int) -> list[tuple[str, str]]:
    """A built-in corpus's queries against its documents joined to full windows, as `auto` measures them."""
    corpus = load_builtin(corpus_name)
    return calibration_pairs(list(corpus.queries.values()), [d.text for d in corpus.documents], count)


def seconds_per_100(models: dict[str, Reranker], pairs: list[tuple[str, str]], repeats: int = 5) -> dict[str, float]:
    """Each model's median seconds per 100 of `pairs`, the models interleaved in every round."""
    times = median_times({name: (lambda m=model: m.score(pairs)) for name, model in models.items()}, repeats)
    return {name: seconds * 100 / len(pairs) for name, seconds in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["med", "scifact"])
    parser.add_argument("--queries", type=int, default=30)
    options = parser.parse_args()
    root = datasets_or_exit()
    nncf = import_nncf_quietly()
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, AdvancedSmoothQuantParameters

    full = [pair for name in builtin_names() for pair in joined_pairs(name, 40)]
    recipes = {
        "as shipped": ({}, None),
        "as shipped, f32 elsewhere": ({}, "f32"),
        "full windows": ({"texts": full}, None),
        "full windows, last layer in float": (
            {"texts": full, "ignored_scope": nncf.IgnoredScope(patterns=[r".*layer\.5/.*"], validate=False)},
            None,
        ),
        "full windows, no SmoothQuant": (
            {
                "texts": full,
                "advanced_parameters": AdvancedQuantizationParameters(
                    smooth_quant_alphas=AdvancedSmoothQuantParameters(matmul=-1)
                ),
            },
            None,
        ),
        "full windows, full bias correction": ({"texts": full, "fast_bias_correction": False}, None),
        "full windows, mixed preset": ({"texts": full, "preset": nncf.QuantizationPreset.MIXED}, None),
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="ranklens-int8-variants-") as home:  # no cache of the user's touched
        os.environ["RANKLENS_HOME"] = home
        fp32 = load_reranker(DEFAULT_CROSS_ENCODER, backend="onnx")  # the configured fallback where it must
        sets = reranking_sets(root, options.datasets, options.queries, load_embedder(DEFAULT_BI_ENCODER))
        reference = reranking_quality(fp32, sets)
        pairs = joined_pairs(MEASURED_ON, PAIRS)
        guard_reference = fp32.score(pairs)
        source = onnx_file(fp32.name, fp32.max_tokens)
        bf16 = load_reranker(DEFAULT_CROSS_ENCODER, backend="openvino-bf16")
        bf16_row: dict[str, object] = {"recipe": "openvino-bf16 (baseline)", "s per 100": []}
        bf16_row["guard Spearman"] = spearman(guard_reference, bf16.score(pairs))
        for name, (nncf_options, precision) in recipes.items():
            target = Path(home) / name.replace(" ", "-").replace(",", "") / "model.xml"
            started = time.perf_counter()
            quantize_static_int8(source, target, fp32.model.tokenizer, True, **nncf_options)
            row: dict[str, object] = {"recipe": name, "quantize s": time.perf_counter() - started}
            forward = openvino_forward(target, BACKEND, precision)
            int8 = Reranker(fp32.name, fp32.model, BACKEND, forward, backend=BACKEND)
            timed = seconds_per_100({"int8": int8, "bf16": bf16}, pairs)  # the baseline in the same rounds
            row["s per 100"], row["bf16 s per 100"] = timed["int8"], timed["bf16"]
            row["× bf16"] = timed["bf16"] / timed["int8"]
            bf16_row["s per 100"].append(timed["bf16"])
            row["guard Spearman"] = spearman(guard_reference, int8.score(pairs))
            for dataset, (ndcg, scores) in reranking_quality(int8, sets).items():
                row[f"{dataset} Spearman"] = spearman(reference[dataset][1], scores)
                row[f"{dataset} nDCG vs fp32"] = ndcg / reference[dataset][0]
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
        bf16_row["s per 100"] = statistics.median(bf16_row["s per 100"])  # over every variant's rounds
        rows.append(bf16_row)
    print(f"{cpu_name()}, {cpu_cores()} cores; {fp32.name}; guard: Spearman ≥ 0.99 on {len(pairs)} measuring pairs\n")
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
