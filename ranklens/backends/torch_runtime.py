"""PyTorch as a backend: the transformers module itself, in whatever dtype it was loaded in."""

from __future__ import annotations

import numpy as np

from ranklens.backends.registry import Forward


def torch_forward(module) -> Forward:
    """A forward pass over padded numpy batches; returns the module's first output as float32."""
    import torch

    module.eval()

    def forward(feed: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            output = module(**{name: torch.from_numpy(values) for name, values in feed.items()})[0]
        return output.float().numpy()

    return forward
