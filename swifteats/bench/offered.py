"""What a load generator did in one step, whichever generator it was (wrk or Python)."""

from __future__ import annotations

from dataclasses import dataclass, field

from swifteats.bench.stats import Summary

ACCEPTED = "201"
SHED = "503"


@dataclass(frozen=True, slots=True)
class Offered:
    """One step's offer: requests sent, answers by HTTP status, the generator's own cost."""

    generator: str
    """``wrk`` or ``python``."""
    rate_per_s: float
    duration_s: float
    start: float
    """Wall time request 0 was due."""
    sent: int
    statuses: dict[str, int]
    """Answers by status (``"0"``: none came, Python generator)."""
    cpu_s: float
    """CPU seconds the generator spent."""
    max_late_ms: float
    """How late the latest request was sent after it was due."""
    post_ms: Summary
    """POST round trips (wrk: every answer; Python: the accepted ones)."""
    transport_errors: dict[str, int] = field(default_factory=dict)

    @property
    def achieved_per_s(self) -> float:
        """Requests sent per second, over the step or longer if sending ran late."""
        return self.sent / (self.duration_s + max(0.0, self.max_late_ms) / 1000)

    @property
    def accepted(self) -> int:
        """Orders the service accepted (201)."""
        return self.statuses.get(ACCEPTED, 0)

    @property
    def shed(self) -> int:
        """Orders the service shed at the door (503)."""
        return self.statuses.get(SHED, 0)

    def errors(self) -> dict[str, int]:
        """Answers other than 201, by status."""
        return {k: v for k, v in self.statuses.items() if k != ACCEPTED}
