"""Wiring of the Driver Assignment Service: Redis index, assigner, Kafka loop, HTTP API."""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any

import redis
from fastapi import FastAPI
from kafka import KafkaConsumer

from swifteats.adapters.kafka.clients import make_consumer, make_producer
from swifteats.adapters.kafka.consumer_loop import ConsumerLoop, Record
from swifteats.adapters.kafka.publisher import Publisher
from swifteats.adapters.redis_drivers import RedisDriverIndex, redis_for
from swifteats.domain.assignment import Assigner
from swifteats.domain.clock import Clock, system_clock
from swifteats.domain.dispatch import PolicyContext
from swifteats.domain.drivers import DriverIndex
from swifteats.domain.eta import ConstantSpeedEta, EtaModel, PlanarEta, PlanarProjection
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point
from swifteats.domain.policies import DEFAULT_POLICY, dispatch_policy, is_windowed, policy_named
from swifteats.domain.scoring import ScoringWeights
from swifteats.domain.topics import REQUEST_TOPIC_PATTERN
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.api import build_api
from swifteats.services.assignment.handler import RequestHandler
from swifteats.services.assignment.windowed import WindowedStep
from swifteats.services.http import Check, HttpSecurity, problem_check
from swifteats.settings import Settings

log = logging.getLogger("swifteats.assignment")

GROUP_ID = "driver-assignment"


class AssignmentService:
    """The running service: a consumer thread and the HTTP API around one handler."""

    def __init__(
        self,
        settings: Settings,
        *,
        drivers: DriverIndex,
        redis_client: redis.Redis,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self.drivers = drivers
        self.metrics = ServiceMetrics("driver-assignment")
        self._redis = redis_client
        weights = ScoringWeights.from_json(settings.scoring_weights)
        eta = eta_model(settings)
        self.windowed = windowed_step(settings, weights, eta, drivers, clock, self.metrics)
        assigner = Assigner(
            drivers,
            weights,
            eta,
            clock,
            pickup_lead_minutes=settings.pickup_lead_minutes,
            policy=policy_named(DEFAULT_POLICY if self.windowed else settings.policy),
        )
        self.handler = RequestHandler(
            assigner,
            clock=clock,
            metrics=self.metrics,
            slow_ms=settings.slow_processing_ms,
            max_message_bytes=settings.kafka_max_message_bytes,
            windowed=self.windowed,
        )
        self._publisher = Publisher(lambda: make_producer(settings))
        self._stop = threading.Event()
        self._loop = ConsumerLoop(
            "assignment-consumer",
            self._connect,
            self._handle,
            after_batch=self._publisher.flush,
            stop=self._stop,
            dead_letter=self._dead_letter,
            after_poll=partial(self._decide_window, self.windowed) if self.windowed else None,
        )
        self.api: FastAPI = build_api(
            self, HttpSecurity.from_settings(settings, service="driver-assignment")
        )

    def start(self) -> None:
        """Start consuming."""
        self._loop.start()

    def stop(self) -> None:
        """Stop consuming, commit what was handled and close the clients."""
        self._stop.set()
        self._loop.join(timeout=10)
        self._publisher.close()

    def health_checks(self) -> dict[str, Check]:
        """Redis answers PING; the consumer polls and owns partitions (else the reason)."""
        return {
            "redis": lambda: bool(self._redis.ping()),
            "kafka": problem_check(self._loop.problem),
        }

    def stats(self) -> dict[str, Any]:
        """Requests, outcomes, latency per step, available drivers and consumer lag."""
        counts = self.metrics.counts()
        decided = counts.get("assigned", 0) + counts.get("failed", 0)
        return {
            "service": "driver-assignment",
            "policy": self.settings.policy,
            "heldRequests": self.windowed.held if self.windowed else 0,
            "requests": counts.get("requests", 0),
            "assigned": counts.get("assigned", 0),
            "failed": counts.get("failed", 0),
            "deadLettered": counts.get("dead_letters", 0),
            "successRate": counts.get("assigned", 0) / decided if decided else None,
            "failuresByReason": {
                k.removeprefix("failed:"): v for k, v in counts.items() if k.startswith("failed:")
            },
            "latencyMs": self.metrics.latency_ms(),
            "availableDrivers": self.drivers.count_available(),
            "consumerLag": self._loop.lag,
            "consumerFailures": self._loop.failures,
            "assignedPartitions": self._loop.partitions,
            "assignedTopics": self._loop.topics,
        }

    def _connect(self) -> KafkaConsumer:
        return make_consumer(self.settings, group_id=GROUP_ID, pattern=REQUEST_TOPIC_PATTERN)

    def _handle(self, record: Record) -> None:
        key = record.key.decode(errors="replace") if record.key else None
        message = self.handler.handle(record.value, source_topic=record.topic, key=key)
        if message is not None:
            self._publisher.send(message)

    def _decide_window(self, step: WindowedStep) -> None:
        """Run the windowed step when a window has ended and publish its answers.

        A failure leaves the undecided requests held for the next window; answers lost
        with a failed publish come back when the Order Service sends the request again
        (the order then holds its driver already).
        """
        if not step.due():
            return
        try:
            for message in step.step():
                self._publisher.send(message)
            self._publisher.flush()
        except Exception:
            log.exception("windowed decision failed; undecided requests stay held")

    def _dead_letter(self, record: Record, reason: str) -> None:
        """A record whose handling kept raising goes to the DLQ with the reason."""
        key = record.key.decode(errors="replace") if record.key else None
        rejected = self.handler.reject(
            record.value, source_topic=record.topic, key=key, reason=reason
        )
        self._publisher.send(rejected)


def windowed_step(
    settings: Settings,
    weights: ScoringWeights,
    eta: EtaModel,
    drivers: DriverIndex,
    clock: Clock,
    metrics: ServiceMetrics,
) -> WindowedStep | None:
    """The windowed step of the settings' policy; None for a one-at-a-time policy."""
    if not is_windowed(settings.policy):
        return None
    context = PolicyContext(weights, eta, ServiceTimes(2 * settings.pickup_lead_minutes))
    window = None if settings.policy_window_s is None else settings.policy_window_s / 60
    policy = dispatch_policy(settings.policy, context, window_minutes=window)
    return WindowedStep(
        policy,
        context,
        drivers,
        clock=clock,
        metrics=metrics,
        max_hold_s=settings.window_max_hold_s,
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


def build_assignment_service(
    settings: Settings, *, drivers: DriverIndex | None = None
) -> AssignmentService:
    """The service with a Redis driver index unless ``drivers`` is given."""
    client = redis_for(settings)
    index = drivers or RedisDriverIndex(client, settings.redis_prefix)
    return AssignmentService(settings, drivers=index, redis_client=client)
