"""PyTorch as a backend: the transformers module itself, in whatever dtype it was loaded in."""

from __future__ import annotations

import numpy as np

from ranklens.backends.registry import Forward


def torch_forward(module) -> Forward:
    """A forward pass over padded numpy batches, on the module's device; returns its first output as float32."""
    import torch

    module.eval()
    device = module.device

    def forward(feed: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            output = module(**{name: torch.from_numpy(values).to(device) for name, values in feed.items()})[0]
        return output.float().cpu().numpy()

    return forward
