"""CPU facts: cores this process may use, the processor's name and flags, and thread setup."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


def cpu_cores() -> int:
    """Cores this process may run on (its affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@cache
def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def cpu_name() -> str | None:
    """The processor's model name, e.g. 'Intel(R) Xeon(R) Processor', where the OS tells."""
    return next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), None)


def cpu_flags() -> frozenset[str]:
    """The instruction-set flags the OS reports (avx512_bf16, amx_bf16, avx512_vnni, ...)."""
    line = next((line for line in _cpuinfo() if line.startswith("flags")), "")
    return frozenset(line.split(":", 1)[1].split()) if ":" in line else frozenset()


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware; without it bf16 is emulated and slower than fp32."""
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


def configure_threads(cores: int | None = None) -> int:
    """One thread per core for torch and FAISS; ONNX Runtime and OpenVINO get the same. Called at model load,
    so that the libraries do not each start a pool of their own and fight over the cores."""
    import faiss
    import torch

    cores = cores or cpu_cores()
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    faiss.omp_set_num_threads(cores)
    return cores
