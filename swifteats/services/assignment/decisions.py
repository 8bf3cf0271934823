"""Deciding one request through the Assigner: the decision logged, counted and answered.

Every decision is logged as one JSON line (``assignment decision``, with its candidates
and score terms) and handed to ``on_decision`` when given: a live replay reads the log
back, an in-process one takes the same fields from the callback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from swifteats.domain.assignment import Assigner, Decision
from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.domain.events import AssignmentFailed, AssignmentRequested, DriverAssigned
from swifteats.domain.ranking import INTERNAL_ERROR
from swifteats.observability import ServiceMetrics
from swifteats.services.outgoing import answer

log = logging.getLogger("swifteats.assignment")

DecisionSink = Callable[[dict[str, Any]], None]
"""Receives each decision's log fields."""


class OneRequest:
    """Decides a request at once; an Assigner that raises gives the design's failure."""

    def __init__(
        self,
        assigner: Assigner,
        *,
        clock: Clock,
        metrics: ServiceMetrics,
        slow_ms: float,
        on_decision: DecisionSink | None = None,
    ) -> None:
        self._assigner = assigner
        self._clock = clock
        self._metrics = metrics
        self._slow_s = slow_ms / 1000
        self._on_decision = on_decision

    def __call__(self, request: AssignmentRequested, received_at: datetime) -> Outgoing:
        """The answer to ``request`` (read at wall time ``received_at``), decided now."""
        try:
            decision = self._assigner.assign(request)
        except Exception:
            log.exception("assignment of %s failed", request.order_id)
            return self.failed(request.order_id, INTERNAL_ERROR, request.event_id, received_at)
        self._record(decision)
        return answer(decision.response, request.event_id, received_at)

    def many(self, requests: Sequence[tuple[AssignmentRequested, datetime]]) -> list[Outgoing]:
        """The answers to ``(request, received_at)`` pairs, decided in turn with one search
        for all (:meth:`Assigner.assign_many`). If that raises, the requests not decided
        yet are decided one by one (so each failure is answered as in :meth:`__call__`)."""
        answers: list[Outgoing] = []
        try:
            batch = self._assigner.assign_many([request for request, _ in requests])
            for decision, (request, received_at) in zip(batch, requests, strict=False):
                self._record(decision)
                answers.append(answer(decision.response, request.event_id, received_at))
        except Exception:
            log.exception("deciding %d requests together failed; one by one now", len(requests))
            answers += [self(request, at) for request, at in requests[len(answers) :]]
        return answers

    def failed(
        self, order_id: str, reason: str, request_id: str | None, received_at: datetime
    ) -> Outgoing:
        """The design's failure response, counted by reason."""
        self._metrics.count("failed")
        self._metrics.count(f"failed:{reason}")
        return answer(AssignmentFailed(order_id, reason, self._clock()), request_id, received_at)

    def _record(self, decision: Decision) -> None:
        for stage, seconds in decision.timings.items():
            self._metrics.observe(stage, seconds)
        outcome = "assigned" if isinstance(decision.response, DriverAssigned) else "failed"
        self._metrics.count(outcome)
        if isinstance(decision.response, AssignmentFailed):
            self._metrics.count(f"failed:{decision.response.error}")
        slow = decision.timings["total"] > self._slow_s
        fields = decision.log_fields()
        log.log(
            logging.WARNING if slow else logging.INFO,
            "slow assignment decision" if slow else "assignment decision",
            extra={"fields": fields},
        )
        if self._on_decision is not None:
            self._on_decision(fields)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A valid request as it was read: at business instant ``consumed_at`` and wall
    instant ``received_at``, for an order placed at ``placed_at`` (business time)."""

    request: AssignmentRequested
    consumed_at: datetime
    received_at: datetime
    placed_at: datetime

    @property
    def turn(self) -> tuple[datetime, datetime, str]:
        """Requests held together are decided in this order: earliest due first, then the
        oldest order, then by order id."""
        return self.request.occurred_at, self.placed_at, self.request.order_id


class HeldStep(Protocol):
    """Requests held and decided together at steps: a windowed policy's windows, or every
    instant an external decision clock names."""

    @property
    def held(self) -> int:
        """Requests waiting for a decision."""
        ...

    @property
    def next_at(self) -> datetime | None:
        """When the next step is due; None while nothing is held."""
        ...

    def hold(self, arrival: Arrival) -> None:
        """Keep a valid request for a later step."""
        ...

    def due(self) -> bool:
        """Whether a step is due now."""
        ...

    def step(self) -> list[Outgoing]:
        """Decide; the answers to publish (undecided requests stay held)."""
        ...
