"""Wiring of the Driver Assignment Service: Redis index, assigner, Kafka loop, HTTP API."""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from kafka import KafkaConsumer

from swifteats.adapters.kafka.bus import KafkaEventBus
from swifteats.adapters.kafka.clients import make_consumer, make_producer
from swifteats.adapters.kafka.consumer_loop import ConsumerLoop, Record
from swifteats.adapters.kafka.topics import TopicCreator
from swifteats.adapters.redis_client import RedisClient, redis_for
from swifteats.adapters.redis_sharded import driver_index_for
from swifteats.domain.clock import Clock
from swifteats.domain.drivers import DriverIndex
from swifteats.domain.topics import REQUEST_TOPIC_PATTERN
from swifteats.observability import ServiceMetrics, consumer_lag_gauge
from swifteats.services.assignment.api import build_api
from swifteats.services.assignment.core import AssignmentCore
from swifteats.services.http import Check, HttpSecurity, problem_check
from swifteats.settings import Settings

log = logging.getLogger("swifteats.assignment")

GROUP_ID = "driver-assignment"


class AssignmentService:
    """The running service: a consumer thread and the HTTP API around one core."""

    def __init__(
        self,
        settings: Settings,
        *,
        drivers: DriverIndex,
        redis_client: RedisClient,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.drivers = drivers
        self.metrics = ServiceMetrics("driver-assignment")
        self._redis = redis_client
        self._topics = TopicCreator(settings)
        self._publisher = KafkaEventBus(lambda: make_producer(settings), self._topics.ensure)
        self.core = AssignmentCore(
            settings, drivers=drivers, bus=self._publisher, metrics=self.metrics, clock=clock
        )
        self.clock = self.core.clock
        self._stop = threading.Event()
        self._loop = ConsumerLoop(
            "assignment-consumer",
            self._connect,
            self._handle,
            after_batch=self.core.flush,
            stop=self._stop,
            dead_letter=self._dead_letter,
            after_poll=self.core.on_poll if self.core.step is not None else None,
            uncommitted=self.core.uncommitted,
        )
        self._expose_gauges()
        self.api: FastAPI = build_api(
            self, HttpSecurity.from_settings(settings, service="driver-assignment")
        )
        self.api.add_exception_handler(redis.ConnectionError, _redis_unavailable)
        self.api.add_exception_handler(redis.TimeoutError, _redis_unavailable)

    def _expose_gauges(self) -> None:
        """In /metrics: consumer lag per topic, held requests, available drivers per geo key."""
        consumer_lag_gauge(self.metrics, lambda: self._loop.lag_by_topic)
        self.metrics.gauge(
            "held_requests",
            "Assignment requests held for a decision (a window or an external clock)",
            lambda: self.core.held,
        )
        self.metrics.gauge(
            "available_drivers",
            "Available drivers per geo key of where they are",
            self.drivers.available_by_geo_key,
            "geo_key",
        )

    def start(self) -> None:
        """Start consuming."""
        self._loop.start()

    def stop(self) -> None:
        """Stop consuming, commit what was handled and close the clients."""
        self._stop.set()
        self._loop.join(timeout=10)
        self._publisher.close()
        self._topics.close()

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
            "heldRequests": self.core.held,
            "decisionClock": self.settings.decision_clock,
            "requests": counts.get("requests", 0),
            "assigned": counts.get("assigned", 0),
            "failed": counts.get("failed", 0),
            "deadLettered": counts.get("dead_letters", 0),
            "driverReleases": counts.get("driver_releases", 0),
            "driverReleasesRefused": counts.get("driver_releases_refused", 0),
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
        position = (record.partition, record.offset)
        self.core.on_request(
            record.value, topic=record.topic, key=key, headers=record.headers, position=position
        )

    def _dead_letter(self, record: Record, reason: str) -> None:
        """A record whose handling kept raising goes to the DLQ with the reason."""
        key = record.key.decode(errors="replace") if record.key else None
        self.core.reject(record.value, topic=record.topic, key=key, reason=reason)


def _redis_unavailable(_: Request, error: Exception) -> JSONResponse:
    """503 with the reason while Redis cannot be reached; the caller tries again."""
    log.warning("redis unavailable: %s", error)
    return JSONResponse(
        {"detail": f"Redis unavailable ({type(error).__name__}: {error}); try again"},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def build_assignment_service(
    settings: Settings, *, drivers: DriverIndex | None = None
) -> AssignmentService:
    """The service with a Redis driver index unless ``drivers`` is given."""
    client = redis_for(settings)
    index = drivers or driver_index_for(client, settings.redis_prefix)
    return AssignmentService(settings, drivers=index, redis_client=client)
