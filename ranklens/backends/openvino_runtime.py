"""OpenVINO as a backend: it reads our ONNX export (fp32 or bf16 inference), or an NNCF int8 model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ranklens.backends.cpu import cpu_cores
from ranklens.backends.registry import Forward
from ranklens.settings import data_dir

PRECISION = {"openvino": "f32", "openvino-bf16": "bf16"}


def import_nncf_quietly():
    """NNCF sends usage telemetry at import unless it believes it runs in CI; RankLens sends nothing anywhere."""
    previous = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        import nncf
    finally:
        if previous is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = previous
    return nncf


def compress_weights_int8(source: Path, target: Path) -> None:
    """NNCF weight compression of an ONNX model to int8 (activations stay in the inference precision)."""
    import openvino as ov

    nncf = import_nncf_quietly()
    compressed = nncf.compress_weights(ov.Core().read_model(str(source)), mode=nncf.CompressWeightsMode.INT8_ASYM)
    ov.save_model(compressed, str(target), compress_to_fp16=False)


def openvino_forward(path: Path, backend: str) -> Forward:
    """A compiled OpenVINO model on the CPU as a forward pass; compiled blobs are cached beside the exports."""
    import openvino as ov

    core = ov.Core()
    core.set_property({"CACHE_DIR": str(data_dir() / "exports" / "openvino-blobs")})
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": cpu_cores()}
    if backend in PRECISION:
        config["INFERENCE_PRECISION_HINT"] = PRECISION[backend]
    compiled = core.compile_model(str(path), "CPU", config)
    names = {port.get_any_name() for port in compiled.inputs}
    request = compiled.create_infer_request()

    def forward(feed: dict[str, np.ndarray]) -> np.ndarray:
        return np.array(request.infer({n: v for n, v in feed.items() if n in names})[0])

    return forward
