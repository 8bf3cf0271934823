"""Exponential backoff for assignment retries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delay before attempt ``n + 1`` is ``min(base * factor**(n - 1), cap)`` seconds;
    ``max_attempts`` 0 retries without end (a replay stops at the end of its day)."""

    base_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 30.0
    max_attempts: int = 5

    def delay_after(self, attempt: int) -> float | None:
        """Seconds to wait after failed attempt ``attempt`` (1-based); None when out of attempts."""
        if 0 < self.max_attempts <= attempt:
            return None
        return float(min(self.base_s * self.factor ** (attempt - 1), self.cap_s))
