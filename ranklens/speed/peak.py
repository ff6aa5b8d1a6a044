"""How close a backend runs to this machine's limit: its own matmul peak per precision, and a cross-encoder's FLOPs.

The peak is a square matmul timed with torch on every core this process has (fp32, bf16, and int8 through
torch._int_mm where this torch has it): what the cores reach on the operation a transformer spends its time in.
A reranking's work is counted from the model's shape and the pairs' token counts, so its share of the peak says
whether going faster means tuning the same work or doing less of it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ranklens.backends.cpu import native_bf16

SIZE = 2048  # big enough that the kernel, not the call, is timed
PRECISIONS = ("fp32", "bf16", "int8")


def matmul_peak(precision: str, size: int = SIZE, repeats: int = 5) -> float | None:
    """The best GFLOP/s (GOP/s for int8) of `repeats` size × size matmuls: a peak, so the fastest run, not the
    median; None where this torch cannot run it."""
    import torch

    if precision == "int8":
        if not hasattr(torch, "_int_mm"):
            return None
        a = torch.randint(-64, 64, (size, size), dtype=torch.int8)

        def multiply():
            return torch._int_mm(a, a)
    else:
        a = torch.randn(size, size, dtype=torch.float32 if precision == "fp32" else torch.bfloat16)

        def multiply():
            return a @ a

    try:
        multiply()  # the warm-up picks kernels
    except RuntimeError:
        return None
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        multiply()
        times.append(time.perf_counter() - started)
    return 2 * size**3 / min(times) / 1e9


def matmul_peaks() -> dict[str, float | None]:
    """matmul_peak of every precision."""
    return {precision: matmul_peak(precision) for precision in PRECISIONS}


def best_peaks(*measured: dict[str, float | None]) -> dict[str, float | None]:
    """Per precision, the highest of several matmul_peaks measurements (None where none could run it). A bench
    measures the peak before and after its run: on a shared machine one measurement can land in a slow spell and
    put a backend above 100 % of it."""
    return {
        precision: max((run[precision] for run in measured if run.get(precision)), default=None)
        for precision in PRECISIONS
    }


def described(peaks: dict[str, float | None]) -> str:
    """'fp32 184 GFLOP/s, bf16 426 GFLOP/s, int8 not measurable here'."""
    return ", ".join(f"{p} {v:.0f} GFLOP/s" if v else f"{p} not measurable here" for p, v in peaks.items())


def precision_of(backend: str) -> str:
    """The precision a backend's matmuls run in (OpenVINO computes weight-compressed int8 models in bf16 where the
    CPU has bf16, else fp32; the seed is torch fp32). cuda's is the GPU's fp16, which the CPU microbenchmark does
    not measure."""
    if backend == "cuda":
        return "fp16-gpu"
    if backend.endswith("-bf16"):
        return "bf16"
    if backend in ("onnx-int8", "openvino-int8-static"):
        return "int8"
    if backend == "openvino-int8":
        return "bf16" if native_bf16() else "fp32"
    return "fp32"


def encoder_flops(hidden: int, layers: int, intermediate: int, lengths: Sequence[int]) -> float:
    """Multiply-adds × 2 of a BERT-style encoder over sequences of these token counts: per layer and token the
    four attention projections (4·d²) and the feed-forward pair (2·d·i), plus the attention itself (2·n·d)."""
    per_layer = sum(2 * n * (4 * hidden * hidden + 2 * hidden * intermediate + 2 * n * hidden) for n in lengths)
    return float(layers * per_layer)


def reranker_flops(reranker, pairs: Sequence[tuple[str, str]], max_tokens: int | None = None) -> float:
    """The FLOPs of one reranking of `pairs` by this cross-encoder at this token budget."""
    config = reranker.model.transformers_model.config
    encoded, _ = reranker.tokenize(pairs, max_tokens)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    return encoder_flops(config.hidden_size, config.num_hidden_layers, config.intermediate_size, lengths)
