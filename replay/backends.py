"""Where assignment decisions are made during a replay: in process, or the live services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Protocol, runtime_checkable

from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.domain.assignment import Assigner, Decision
from swifteats.domain.clock import Clock
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.eta import EtaModel
from swifteats.domain.events import AssignmentRequested, DriverAssigned, parse_instant
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point
from swifteats.domain.policies.base import Assignment, DriverView, OpenOrder, PolicyContext
from swifteats.domain.policies.registry import DEFAULT_POLICY, build_policy, ordering, policy_spec
from swifteats.domain.scoring import ScoringWeights


@dataclass(frozen=True, slots=True)
class Answer:
    """The outcome of one assignment attempt."""

    order_id: str
    driver_id: str | None
    eta: int | None
    error: str | None
    decision: Decision | None = None
    retry_at: float | None = None
    """Backends that retry by themselves: the minute of the next attempt (None: given up)."""
    answer_ms: float | None = None
    """Wall milliseconds from asking to having the answer."""
    pipeline: dict[str, str | None] | None = None
    """Live only: the wall-clock stage instants of this attempt (``PIPELINE_STAGES``)."""


PIPELINE_STAGES = (
    "accepted_at",
    "request_published_at",
    "request_consumed_at",
    "decided_at",
    "response_consumed_at",
)
"""The Order Service's wall-clock stamps of an attempt, in pipeline order; the order row
is updated in the transaction that consumes the response."""


def pipeline_ms(
    pipeline: dict[str, str | None] | None, *, first_attempt: bool
) -> dict[str, float | None]:
    """Milliseconds of each stage, ``<from>_to_<to>_ms``; None where a stamp is missing.

    A retry is published long after the order was accepted, so acceptance counts only on
    the first attempt.
    """
    stamps = [_instant(pipeline, stage) for stage in PIPELINE_STAGES]
    if not first_attempt:
        stamps[0] = None
    return {
        f"{a.removesuffix('_at')}_to_{b.removesuffix('_at')}_ms": (
            (end - begin).total_seconds() * 1000 if begin and end else None
        )
        for (a, begin), (b, end) in pairwise(zip(PIPELINE_STAGES, stamps, strict=True))
    }


def _instant(pipeline: dict[str, str | None] | None, stage: str) -> datetime | None:
    text = (pipeline or {}).get(stage)
    return parse_instant(text) if text else None


class DispatchBackend(Protocol):
    """What the replay needs from whoever assigns drivers."""

    owns_retries: bool
    """True when the backend retries failed attempts itself (the live Order Service)."""

    @property
    def in_flight(self) -> int:
        """Requests asked and not answered yet."""
        ...

    def advance(self, now: datetime) -> None:
        """The replay's clock moved to ``now``."""
        ...

    def retry_due(self, order_id: str) -> None:
        """A retry the backend scheduled is due now (only when it owns retries)."""
        ...

    def picked_up(self, order_id: str) -> None:
        """The food left the restaurant."""
        ...

    def moved(self, driver_id: str, at: Point) -> None:
        """A driver on the way reports its position."""
        ...

    def driver_on(self, driver_id: str, at: Point, shift_ends_at: datetime) -> None:
        """A driver starts a shift, available at ``at`` until ``shift_ends_at``."""
        ...

    def driver_off(self, driver_id: str) -> None:
        """A driver ends a shift."""
        ...

    def request(self, request: AssignmentRequested) -> None:
        """Ask for a driver."""
        ...

    def collect(self) -> list[Answer]:
        """Every answer to the requests made so far (lockstep: waits for all of them)."""
        ...

    def poll(self) -> list[Answer]:
        """The answers that arrived since the last call, without waiting (paced runs)."""
        ...

    def delivered(self, order_id: str, driver_id: str, door: Point) -> None:
        """The order is at the door; the driver is available there."""
        ...


@runtime_checkable
class WindowedBackend(Protocol):
    """A backend that can also run a windowed policy (``swifteats.domain.policies.base``)."""

    @property
    def window_minutes(self) -> float | None:
        """Minutes between decisions; None: the policy decides each request as it comes."""
        ...

    def decide(
        self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
    ) -> list[Assignment]:
        """The policy's decision at ``now``."""
        ...


class InProcessBackend:
    """The services' decision code with an in-memory driver index: no servers, same answers.

    A one-at-a-time policy (``greedy-score``, ``nearest``) runs through the services' own
    Assigner; a windowed one is asked by the replay through :meth:`decide`, every
    :attr:`window_minutes`.
    """

    owns_retries = False
    in_flight = 0

    def __init__(
        self,
        *,
        weights: ScoringWeights,
        eta: EtaModel,
        clock: Clock,
        pickup_lead_minutes: float,
        policy: str = DEFAULT_POLICY,
        service: ServiceTimes | None = None,
    ) -> None:
        self.drivers = InMemoryDriverIndex()
        self.policy = build_policy(
            policy,
            PolicyContext(weights, eta, service or ServiceTimes(2 * pickup_lead_minutes)),
        )
        self._assigner = Assigner(
            self.drivers,
            weights,
            eta,
            clock,
            pickup_lead_minutes=pickup_lead_minutes,
            policy=ordering(DEFAULT_POLICY if policy_spec(policy).windowed else policy),
        )
        self._answers: list[Answer] = []

    @property
    def window_minutes(self) -> float | None:
        """The windowed policy's minutes between decisions; None for one at a time."""
        return self.policy.window_minutes

    def decide(
        self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
    ) -> list[Assignment]:
        """The windowed policy's decision at ``now``."""
        return self.policy.decide(orders, drivers, now)

    def driver_on(self, driver_id: str, at: Point, shift_ends_at: datetime) -> None:
        """Register the driver as available until the end of the shift."""
        self.drivers.register(driver_id, at, DriverStatus.AVAILABLE, shift_ends_at)

    def driver_off(self, driver_id: str) -> None:
        """Mark the driver offline."""
        self.drivers.set_status(driver_id, DriverStatus.OFFLINE)

    def request(self, request: AssignmentRequested) -> None:
        """Decide at once."""
        decision = self._assigner.assign(request)
        response = decision.response
        took_ms = decision.timings["total"] * 1000
        if isinstance(response, DriverAssigned):
            answer = Answer(
                response.order_id,
                response.driver_id,
                response.eta,
                None,
                decision,
                answer_ms=took_ms,
            )
        else:
            answer = Answer(
                response.order_id, None, None, response.error, decision, answer_ms=took_ms
            )
        self._answers.append(answer)

    def advance(self, now: datetime) -> None:
        """Nothing to do: the assigner reads the replay's clock."""

    def retry_due(self, order_id: str) -> None:
        """Never called: the replay schedules in-process retries itself."""
        raise NotImplementedError

    def picked_up(self, order_id: str) -> None:
        """Nothing to record."""

    def moved(self, driver_id: str, at: Point) -> None:
        """Update the driver's position in the index (which only the Assigner reads)."""
        if self.window_minutes is None:
            self.drivers.move(driver_id, at)

    def collect(self) -> list[Answer]:
        """The answers decided since the last call."""
        answers, self._answers = self._answers, []
        return answers

    def poll(self) -> list[Answer]:
        """The same as ``collect``: every request is decided when it is made."""
        return self.collect()

    def delivered(self, order_id: str, driver_id: str, door: Point) -> None:
        """Free the driver at the door."""
        self.drivers.release(driver_id, order_id, door)
