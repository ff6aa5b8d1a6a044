"""A bounded in-memory cache in front of the on-disk ones: values by key, the least recently used dropped first.

Safe to use from several threads (the app's sessions share the engine's caches).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """At most `limit` values by key; reading a key makes it the most recently used."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """The values held for `keys` (missing keys are absent from the result)."""
        found: dict[K, V] = {}
        with self._lock:
            for key in keys:
                if key in self._values:
                    self._values.move_to_end(key)
                    found[key] = self._values[key]
        return found

    def get(self, key: K) -> V | None:
        """The value held for `key`, or None."""
        return self.get_many([key]).get(key)

    def put_many(self, values: dict[K, V]) -> None:
        """Hold these values, dropping the least recently used beyond the limit."""
        with self._lock:
            self._values.update(values)
            for key in values:
                self._values.move_to_end(key)
            while len(self._values) > self.limit:
                self._values.popitem(last=False)

    def clear(self) -> None:
        """Forget every value (what a new process starts without)."""
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)
