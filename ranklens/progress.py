"""Progress reports: the one callback shape every long step takes, `on_progress(done, total)`.

An exception raised by the callback stops the step where it stands (the app cancels a
query that a newer one replaced this way).
"""

from __future__ import annotations

from collections.abc import Callable

OnProgress = Callable[[int, int], None]
