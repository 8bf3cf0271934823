"""Token-bucket arithmetic for per-key rate limits, and the port a limiter fills.

A bucket holds at most ``burst`` tokens and regains ``rate_per_s`` of them a second;
taking one is allowed while at least one is left. A key never seen is a full bucket, so
a state can be forgotten once it has refilled (:meth:`TokenBucket.full_after_s`). Time is
passed in as epoch seconds; nothing here reads a clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BucketState:
    """Tokens left at instant ``at_s`` (epoch seconds)."""

    tokens: float
    at_s: float


@dataclass(frozen=True, slots=True)
class Take:
    """The answer to one request for a token, and the bucket after it."""

    allowed: bool
    state: BucketState
    retry_after_s: float
    """Seconds until a token is back; 0 when allowed."""


@dataclass(frozen=True, slots=True)
class TokenBucket:
    """Capacity ``burst``, refilled continuously at ``rate_per_s``."""

    rate_per_s: float
    burst: int

    def __post_init__(self) -> None:
        if not self.rate_per_s > 0 or math.isinf(self.rate_per_s):
            raise ValueError(f"rate_per_s must be positive and finite, not {self.rate_per_s}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, not {self.burst}")

    def level(self, state: BucketState | None, now_s: float) -> float:
        """Tokens in the bucket at ``now_s``; time running backwards refills nothing."""
        if state is None:
            return float(self.burst)
        elapsed = max(0.0, now_s - state.at_s)
        return min(float(self.burst), state.tokens + elapsed * self.rate_per_s)

    def take(self, state: BucketState | None, now_s: float) -> Take:
        """Take one token at ``now_s`` if there is one; otherwise say when there will be."""
        tokens = self.level(state, now_s)
        at_s = now_s if state is None else max(now_s, state.at_s)
        if tokens >= 1:
            return Take(True, BucketState(tokens - 1, at_s), 0.0)
        return Take(False, BucketState(tokens, at_s), (1 - tokens) / self.rate_per_s)

    def full_after_s(self, state: BucketState) -> float:
        """Seconds after ``state.at_s`` at which the bucket is full (and the state moot)."""
        return max(0.0, self.burst - state.tokens) / self.rate_per_s


def retry_after_seconds(take: Take) -> int:
    """The ``Retry-After`` value of a refusal: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(take.retry_after_s))


class RateLimiterUnavailableError(Exception):
    """The limiter's store did not answer; the caller decides whether to let the request in."""


class RateLimiter(Protocol):
    """Token buckets by key, shared by every instance of a service."""

    def take(self, key: str, *, now: datetime) -> Take:
        """Take one token from ``key``'s bucket at ``now``.

        Raises:
            RateLimiterUnavailableError: The store of the buckets did not answer.
        """
        ...
