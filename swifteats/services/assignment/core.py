"""The Driver Assignment Service without its transport: requests in, answers out.

:class:`AssignmentCore` is what the service does with a request, whoever carries it: the
live service feeds it Kafka records and publishes through a Kafka producer; the in-process
replay feeds it from the in-process bus. A one-at-a-time policy decides each request as it
is read, a windowed one every window. With an external decision clock (replays:
``SWIFTEATS_DECISION_CLOCK=external``) every policy holds its requests until
:meth:`AssignmentCore.decide` names the instant to decide at, so a replay through the live
services decides exactly as one in process.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from swifteats.domain.assignment import Assigner
from swifteats.domain.bus import EventBus, Outgoing
from swifteats.domain.clock import Clock, ManualClock, system_clock
from swifteats.domain.drivers import DriverIndex
from swifteats.domain.eta import ConstantSpeedEta, EtaModel, PlanarEta, PlanarProjection
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point
from swifteats.domain.policies.base import PolicyContext
from swifteats.domain.policies.registry import DEFAULT_POLICY, build_policy, ordering, policy_spec
from swifteats.domain.scoring import ScoringWeights
from swifteats.domain.topics import RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.decisions import DecisionSink, HeldStep, OneRequest
from swifteats.services.assignment.handler import RequestHandler
from swifteats.services.assignment.one_by_one import OneByOneStep
from swifteats.services.assignment.windowed import WindowedStep
from swifteats.services.outgoing import Headers
from swifteats.settings import Settings

log = logging.getLogger("swifteats.assignment")


@dataclass(frozen=True, slots=True)
class DecisionReport:
    """After a decision at an external clock's instant: the answers published so far
    (running total), the requests still held, when the next decision is due, and the
    drivers this decision gave a queued route."""

    answers_published: int
    held: int
    next_decision_at: datetime | None
    queued: tuple[str, ...] = ()


class NotExternalClockError(RuntimeError):
    """:meth:`AssignmentCore.decide` on a service that decides on its own clock."""


class AnswersNotPublishedError(RuntimeError):
    """The bus did not acknowledge a decision's answers after every try; the next flush
    (the consumer's next batch) sends them again."""


_DECIDE_FLUSH_TRIES = 3
_DECIDE_FLUSH_PAUSE_S = 0.5


class AssignmentCore:
    """Requests in, answers and dead letters out (see the module). Thread-safe."""

    def __init__(
        self,
        settings: Settings,
        *,
        drivers: DriverIndex,
        bus: EventBus,
        metrics: ServiceMetrics,
        clock: Clock | None = None,
        on_decision: DecisionSink | None = None,
    ) -> None:
        self.external = settings.decision_clock == "external"
        self.clock: Clock = clock or (
            ManualClock(system_clock()) if self.external else system_clock
        )
        self._bus = bus
        self._changed = threading.Condition()
        self.requests_seen = 0
        """Records read from the request topics, whatever became of them."""
        self.answers_published = 0
        """Responses sent (running total)."""
        weights = ScoringWeights.from_json(settings.scoring_weights)
        eta = eta_model(settings)
        windowed = policy_spec(settings.policy).windowed
        assigner = Assigner(
            drivers,
            weights,
            eta,
            self.clock,
            pickup_lead_minutes=settings.pickup_lead_minutes,
            policy=ordering(DEFAULT_POLICY if windowed else settings.policy),
        )
        one = OneRequest(
            assigner,
            clock=self.clock,
            metrics=metrics,
            slow_ms=settings.slow_processing_ms,
            on_decision=on_decision,
        )
        self.step: HeldStep | None = None
        if windowed:
            self.step = _windowed(settings, weights, eta, drivers, self.clock, metrics, on_decision)
        elif self.external:
            self.step = OneByOneStep(one, clock=self.clock)
        self.handler = RequestHandler(
            one,
            clock=self.clock,
            metrics=metrics,
            max_message_bytes=settings.kafka_max_message_bytes,
            held=self.step,
        )
        self._anchored = False
        self._held_records: dict[str, tuple[str, int, int]] = {}
        """Held order → the earliest record holding it: ``(topic, partition, offset)``."""
        self._unflushed: list[Outgoing] = []
        """Sent since the last flush that succeeded."""
        self._bus_dropped = False
        """A publish or flush failed, so the bus dropped what it queued: the next flush
        publishes ``_unflushed`` again first."""

    def on_request(
        self,
        raw: bytes | None,
        *,
        topic: str,
        key: str | None,
        headers: Headers | None = None,
        position: tuple[int, int] | None = None,
    ) -> None:
        """Handle one record of a request topic: answer, hold, or dead-letter it.

        ``position`` is the record's ``(partition, offset)``: a held request's offset is
        not committed (:meth:`uncommitted`) until it is answered.
        """
        with self._changed:
            message = self.handler.handle(raw, source_topic=topic, key=key, headers=headers)
            if message is not None:
                self._send(message)
            elif position is not None and self.handler.held_order is not None:
                self._held_records.setdefault(self.handler.held_order, (topic, *position))
            self.requests_seen += 1
            self._changed.notify_all()

    def uncommitted(self) -> dict[tuple[str, int], int]:
        """Per ``(topic, partition)``, the offset of the earliest record whose request is
        still held: the consumer commits no further, so a process that dies holding it
        leaves it to be read again by the partition's next owner."""
        with self._changed:
            floor: dict[tuple[str, int], int] = {}
            for topic, partition, offset in self._held_records.values():
                floor[(topic, partition)] = min(offset, floor.get((topic, partition), offset))
            return floor

    def reject(self, raw: bytes | None, *, topic: str, key: str | None, reason: str) -> None:
        """Dead-letter a record whose handling kept raising."""
        with self._changed:
            self._send(self.handler.reject(raw, source_topic=topic, key=key, reason=reason))

    def flush(self) -> None:
        """Wait until everything sent is acknowledged (raises the first failure).

        Whatever a failed publish or flush lost, from any thread, is sent again by the next
        flush (at least once: the Order Service ignores an answer it already applied); a
        held request's offset stays uncommitted until its answer is acknowledged.
        """
        with self._changed:
            self._flush()

    def _flush(self) -> None:
        if self._bus_dropped:
            for message in self._unflushed:
                self._bus.publish(message)
            self._bus_dropped = False
        try:
            self._bus.flush()
        except Exception:
            self._bus_dropped = True
            raise
        for message in self._unflushed:
            if message.topic == RESPONSES_TOPIC:
                self._held_records.pop(message.key, None)
        self._unflushed.clear()

    def on_poll(self) -> None:
        """On the service's own clock: run the windowed step when a window has ended.

        A failure leaves the undecided requests held for the next window; answers lost
        with a failed publish come back when the Order Service sends the request again
        (the order then holds its driver already).
        """
        if self.external or self.step is None:
            return
        with self._changed:
            if self.step.due():
                self._run_step()
            if self._unflushed:
                try:
                    self._flush()
                except Exception:
                    log.exception("answers not acknowledged; the next flush sends them again")

    def wait_for_requests(self, count: int, *, timeout_s: float) -> bool:
        """Wait until ``count`` request records have been read in all; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self.requests_seen < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def decide(self, at: datetime) -> DecisionReport:
        """External clock: move to ``at`` and decide what is due then; publish the answers.

        The first call anchors the windows of a windowed policy at ``at``. Raises
        :class:`AnswersNotPublishedError` if the bus kept failing to acknowledge them.
        """
        if not self.external or not isinstance(self.clock, ManualClock):
            raise NotExternalClockError("this service decides on its own clock")
        with self._changed:
            self.clock.advance_to(at)
            if not self._anchored and isinstance(self.step, WindowedStep):
                self.step.restart(self.clock())
            self._anchored = True
            queued: tuple[str, ...] = ()
            if self.step is not None and self.step.due():
                self._run_step()
                queued = self.step.queued if isinstance(self.step, WindowedStep) else ()
            self._flush_trying()
            return DecisionReport(
                self.answers_published,
                self.step.held if self.step else 0,
                self.step.next_at if self.step else None,
                queued,
            )

    @property
    def held(self) -> int:
        """Requests waiting for a decision."""
        return self.step.held if self.step else 0

    def _flush_trying(self) -> None:
        """Flush, trying again after a pause (which lets the consumer run) on failure."""
        for attempt in range(1, _DECIDE_FLUSH_TRIES + 1):
            try:
                self._flush()
                return
            except Exception as error:
                log.warning("answers not acknowledged (try %d): %s", attempt, error)
                if attempt == _DECIDE_FLUSH_TRIES:
                    raise AnswersNotPublishedError(
                        f"the bus did not acknowledge the answers: {error}"
                    ) from error
                self._changed.wait(_DECIDE_FLUSH_PAUSE_S * attempt)

    def _run_step(self) -> None:
        """Send what the step decided (and, if it raised, what it decided before that)."""
        assert self.step is not None  # noqa: S101 - callers check
        try:
            for message in self.step.step():
                self._send(message)
        except Exception:
            log.exception("decision step failed; undecided requests stay held")

    def _send(self, message: Outgoing) -> None:
        self._unflushed.append(message)
        if message.topic == RESPONSES_TOPIC:
            self.answers_published += 1
        if self._bus_dropped:
            return
        try:
            self._bus.publish(message)
        except Exception:
            self._bus_dropped = True
            raise


def _windowed(
    settings: Settings,
    weights: ScoringWeights,
    eta: EtaModel,
    drivers: DriverIndex,
    clock: Clock,
    metrics: ServiceMetrics,
    on_decision: DecisionSink | None,
) -> WindowedStep:
    context = PolicyContext(weights, eta, ServiceTimes(2 * settings.pickup_lead_minutes))
    window = None if settings.policy_window_s is None else settings.policy_window_s / 60
    policy = build_policy(
        settings.policy, context, window_minutes=window, params=settings.policy_overrides
    )
    return WindowedStep(
        policy,
        context,
        drivers,
        clock=clock,
        metrics=metrics,
        max_hold_s=settings.window_max_hold_s,
        on_decision=on_decision,
    )


def eta_model(settings: Settings) -> EtaModel:
    """The travel-time model the settings name."""
    if settings.eta_model == "planar":
        latitude, longitude = (float(part) for part in settings.eta_origin.split(","))
        projection = PlanarProjection(Point(latitude, longitude))
        return PlanarEta(projection, settings.eta_meters_per_minute)
    if settings.eta_model != "haversine":
        raise ValueError(f"unknown SWIFTEATS_ETA_MODEL {settings.eta_model!r}")
    return ConstantSpeedEta(settings.eta_speed_kmh, settings.eta_min_minutes)
