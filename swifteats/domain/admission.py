"""Admission at the door and the re-send budget: pure rules, no clock read, no I/O.

An order is let in while the pipeline behind the door keeps up: the outbox backlog
(requests not yet handed to the broker) and the orders still waiting for their answer
(queued at the Assignment Service, being decided, or answered and not yet applied) each
stay under a bound. Beyond either bound the order is shed with ``503`` and
``Retry-After``: the orders already accepted then finish in bounded time instead of every
order waiting behind a queue that only grows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PipelineLoad:
    """What waits behind the door, as last sampled."""

    outbox_backlog: int
    """Outbox rows due and not yet sent."""
    unanswered: int
    """Accepted orders still waiting for an answer (status ``new_order``)."""


@dataclass(frozen=True, slots=True)
class AdmissionBounds:
    """Most of each that may wait before new orders are shed; 0 turns a bound off."""

    max_outbox_backlog: int = 200
    max_unanswered: int = 200
    retry_after_s: int = 1

    @property
    def enforced(self) -> bool:
        """Whether any bound is on (both 0: the door is never shut)."""
        return self.max_outbox_backlog > 0 or self.max_unanswered > 0


def shed_reason(load: PipelineLoad, bounds: AdmissionBounds) -> str | None:
    """Why a new order is shed now (``outbox_backlog`` or ``unanswered``); None: let in."""
    if 0 < bounds.max_outbox_backlog <= load.outbox_backlog:
        return "outbox_backlog"
    if 0 < bounds.max_unanswered <= load.unanswered:
        return "unanswered"
    return None


@dataclass(frozen=True, slots=True)
class ResendPolicy:
    """When an unanswered request is sent again, and how many copies a second at most.

    A request counts as passed by its consumer once a request published after it on the
    same topic was answered; only then is it re-sent after ``timeout_s``. A request with
    no such proof may merely be queued, and is re-sent only after ``unproven_after_s``
    (a broker that lost it, with no traffic behind it).
    """

    timeout_s: float = 30.0
    unproven_after_s: float = 120.0
    max_per_s: float = 20.0


@dataclass(slots=True)
class ResendBudget:
    """A token bucket of re-sends: ``max_per_s`` a second, at most one second's worth saved."""

    policy: ResendPolicy
    tokens: float = 0.0
    at_s: float | None = None

    def available(self, now_s: float) -> int:
        """Whole re-sends allowed at ``now_s`` (the bucket is refilled first)."""
        rate = self.policy.max_per_s
        elapsed = 1.0 if self.at_s is None else max(0.0, now_s - self.at_s)
        self.tokens = min(max(rate, 1.0), self.tokens + elapsed * rate)
        self.at_s = now_s
        return int(self.tokens)

    def spend(self, count: int) -> None:
        """``count`` copies were queued."""
        self.tokens = max(0.0, self.tokens - count)
