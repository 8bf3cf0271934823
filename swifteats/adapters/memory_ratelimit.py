"""Token buckets in process memory, for tests and single-process use; same contract as Redis."""

from __future__ import annotations

import threading
from datetime import datetime

from swifteats.domain.ratelimit import BucketState, Take, TokenBucket


class InMemoryRateLimiter:
    """:class:`~swifteats.domain.ratelimit.RateLimiter` over a dict (states are never forgotten)."""

    def __init__(self, bucket: TokenBucket) -> None:
        self._bucket = bucket
        self._states: dict[str, BucketState] = {}
        self._lock = threading.Lock()

    def take(self, key: str, *, now: datetime) -> Take:
        """Take one token from ``key``'s bucket at ``now``."""
        with self._lock:
            taken = self._bucket.take(self._states.get(key), now.timestamp())
            if taken.allowed:
                self._states[key] = taken.state
            return taken
