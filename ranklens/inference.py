"""One model at a time: a process-wide lock around every forward pass, FAISS search and training step.

Each runtime (torch, FAISS, ONNX Runtime, OpenVINO) is given one thread per core; two of them
running at once, for two browser sessions or a search beside a training, would oversubscribe
the cores and both run slower. Holding this lock for one batch at a time lets their work
interleave batch by batch instead, and makes objects a runtime shares between callers (an
OpenVINO infer request) safe to share.
"""

from __future__ import annotations

import threading

LOCK = threading.RLock()


class StepLock:
    """The lock taken at each training step's start and let go at its end, by trainer callbacks; `release_all`
    lets go whatever a step that raised still held."""

    def __init__(self) -> None:
        self._held = 0

    def acquire(self) -> None:
        """Take the forward-pass lock once more for this step."""
        LOCK.acquire()
        self._held += 1

    def release(self) -> None:
        """Give back one hold of the lock, if any is held."""
        if self._held:
            self._held -= 1
            LOCK.release()

    def release_all(self) -> None:
        """Give back every hold (after a failed step)."""
        while self._held:
            self.release()
