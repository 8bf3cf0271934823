"""The live backend: the replay drives the real services over HTTP, in lockstep.

The harness starts what the stack lacks, a fresh database and Redis namespace per run,
and both services; the Order Service runs on the replay's simulated clock
(``PUT /clock``), so its retries and backoff happen in simulated time exactly as in
production. After each instant the harness waits until every order in flight is answered.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from replay.backends import PIPELINE_STAGES, Answer
from replay.inputs import ReplayInput
from swifteats.adapters.kafka.clients import create_topics
from swifteats.client import SwiftEatsClient
from swifteats.domain.events import AssignmentRequested, format_instant, parse_instant
from swifteats.domain.geo import Point, geo_key
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.topics import request_topic
from swifteats.launcher import ServiceProcess, stack_env
from swifteats.settings import Settings
from swifteats.stack import drop_database, ensure_database, free_port, stack_up

_ANSWER_TIMEOUT_S = 120.0
_SUBSCRIBE_TIMEOUT_S = 120.0
_PLACEHOLDER_ITEM = {"name": "order", "quantity": 1, "unitPrice": 0.0}


@dataclass(frozen=True, slots=True)
class LiveEnvironment:
    """What the services of one live replay are configured with."""

    retry: RetryPolicy
    pickup_lead_minutes: float
    request_topics: tuple[str, ...]
    """The geo topics the input's restaurants publish to, subscribed before the clock runs."""
    service_env: dict[str, str]
    """Weights and travel model, as the services' environment variables."""


@dataclass(frozen=True, slots=True)
class LiveServices:
    """Where the services of one live replay answer, and where decisions are logged."""

    orders_url: str
    assignment_url: str
    decision_log: Path


@contextmanager
def live_services(settings: Settings, env: LiveEnvironment) -> Iterator[LiveServices]:
    """Both services on a fresh database and Redis namespace."""
    stack_up(settings)
    tag = uuid.uuid4().hex[:10]
    base = settings.database_url.get_secret_value().rsplit("/", 1)[0]
    database_url = f"{base}/swifteats_replay_{tag}"
    ensure_database(database_url)
    common = {
        **stack_env(settings),
        "DATABASE_URL": database_url,
        "SWIFTEATS_REDIS_PREFIX": f"replay:{tag}",
        "SWIFTEATS_RETRY_BASE_S": str(env.retry.base_s),
        "SWIFTEATS_RETRY_FACTOR": str(env.retry.factor),
        "SWIFTEATS_RETRY_CAP_S": str(env.retry.cap_s),
        "SWIFTEATS_RETRY_MAX_ATTEMPTS": str(env.retry.max_attempts),
        "SWIFTEATS_PICKUP_LEAD_MINUTES": str(env.pickup_lead_minutes),
        "SWIFTEATS_LOG_LEVEL": "WARNING",
        **env.service_env,
    }
    logs = settings.state_dir / "logs" / f"replay-{tag}"
    services = [
        ServiceProcess.start(
            "order-service",
            port=free_port(),
            log=logs / "orders.log",
            env={**common, "SWIFTEATS_SIMULATED_CLOCK": "true"},
        ),
        ServiceProcess.start(
            "assignment-service",
            port=free_port(),
            env={**common, "SWIFTEATS_LOG_LEVEL": "INFO"},  # INFO: one line per decision
            log=logs / "assignment.log",
        ),
    ]
    try:
        for service in services:
            service.wait_until_up(timeout_s=90)
        _subscribe_ahead(settings, services[1].url, env.request_topics)
        yield LiveServices(services[0].url, services[1].url, logs / "assignment.log")
    finally:
        for service in services:
            service.stop()
        drop_database(database_url)


def request_topics(data: ReplayInput) -> tuple[str, ...]:
    """The request topics the input's orders will be published to."""
    keys = {geo_key(o.restaurant.latitude, o.restaurant.longitude) for o in data.orders}
    return tuple(sorted(request_topic(key) for key in keys))


def _subscribe_ahead(settings: Settings, assignment_url: str, topics: tuple[str, ...]) -> None:
    """Create the input's request topics and wait until the assignment service reads them all.

    On a fresh broker a geo topic appears with its first order, and the consumer group
    needs seconds to pick it up; done here, that wait precedes the simulated clock.
    """
    create_topics(settings, topics)
    with SwiftEatsClient(
        assignment_url, assignment_url, timeout_s=10, api_key=settings.client_api_key
    ) as client:
        deadline = time.monotonic() + _SUBSCRIBE_TIMEOUT_S
        while missing := set(topics) - set(client.assignment_stats()["assignedTopics"]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the assignment service never read {sorted(missing)[:3]}")
            time.sleep(0.1)


class LiveBackend:
    """Orders over HTTP to the Order Service; drivers through the assignment service."""

    owns_retries = True

    def __init__(
        self,
        orders_url: str,
        assignment_url: str,
        day_start: datetime,
        *,
        api_key: SecretStr | None = None,
    ) -> None:
        self._client = SwiftEatsClient(orders_url, assignment_url, timeout_s=30, api_key=api_key)
        self._day_start = day_start
        self._now = day_start
        self._waiting: dict[str, int] = {}
        """Orders in flight → the number of attempts already answered."""
        self._answered: dict[str, int] = {}
        self._asked_at: dict[str, float] = {}
        self.wall_latency_ms: list[float] = []

    def close(self) -> None:
        """Close both HTTP clients."""
        self._client.close()

    def advance(self, now: datetime) -> None:
        """Move the Order Service's clock to the replay's."""
        self._now = now
        self._client.set_clock(format_instant(now))

    def driver_on(self, driver_id: str, at: Point, shift_ends_at: datetime) -> None:
        """Register the driver, available until the end of the shift."""
        self._client.register_driver(
            driver_id, at.latitude, at.longitude, shift_ends_at=format_instant(shift_ends_at)
        )

    def driver_off(self, driver_id: str) -> None:
        """Sign the driver off."""
        self._client.set_driver_status(driver_id, "offline")

    def request(self, request: AssignmentRequested) -> None:
        """Place the order; the Order Service publishes its request."""
        body = {
            "orderId": request.order_id,
            "customerId": f"replay-{request.order_id}",
            "restaurantId": request.geo_key,
            "restaurantLocation": _location(request.restaurant),
            "customerLocation": _location(request.customer),
            "items": list(request.items) or [_PLACEHOLDER_ITEM],
            "totalAmount": request.total_amount,
            "preparationTime": request.preparation_time,
            "radius": request.radius_km,
        }
        self._asked_at[request.order_id] = time.perf_counter()
        self._client.place_order(body)
        self._waiting[request.order_id] = 0

    def retry_due(self, order_id: str) -> None:
        """A retry the Order Service scheduled is due: wait for its answer too."""
        self._asked_at[order_id] = time.perf_counter()
        self._waiting[order_id] = self._answered[order_id]

    @property
    def in_flight(self) -> int:
        """Orders waiting for an answer."""
        return len(self._waiting)

    def collect(self) -> list[Answer]:
        """Wait until every order in flight has its answer; return them."""
        answers: list[Answer] = []
        deadline = time.monotonic() + _ANSWER_TIMEOUT_S
        while True:
            answers += self.poll()
            if not self._waiting:
                return answers
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer for {sorted(self._waiting)[:5]} in time")
            time.sleep(0.005)

    def poll(self) -> list[Answer]:
        """Look once at every order in flight; return the answers that arrived."""
        answers = []
        for order_id, answered in list(self._waiting.items()):
            answer = self._settled(order_id, answered)
            if answer is not None:
                took_ms = (time.perf_counter() - self._asked_at[order_id]) * 1000
                answers.append(replace(answer, answer_ms=took_ms))
                del self._waiting[order_id]
        return answers

    def moved(self, driver_id: str, at: Point) -> None:
        """Report the driver's position to the assignment service."""
        self._client.move_driver(driver_id, at.latitude, at.longitude)

    def picked_up(self, order_id: str) -> None:
        """Tell the Order Service the food left the restaurant."""
        self._client.pick_up(order_id)

    def delivered(self, order_id: str, driver_id: str, door: Point) -> None:
        """Tell the Order Service; it frees the driver at the door."""
        self._client.deliver(order_id)

    def _settled(self, order_id: str, answered: int) -> Answer | None:
        order = self._client.get_order(order_id)
        status, attempts, stamps = order["status"], order["attempts"], order["timestamps"]
        pipeline = {stage: stamps[_camel(stage)] for stage in PIPELINE_STAGES}
        if status == "assigned_driver":
            return Answer(order_id, order["driverId"], order["eta"], None, pipeline=pipeline)
        next_at = stamps["nextAttemptAt"]
        if status == "assignment_failed":
            return Answer(order_id, None, None, order["lastError"], pipeline=pipeline)
        if next_at is not None and parse_instant(next_at) > self._now and attempts > answered:
            self._answered[order_id] = attempts
            retry_at = (parse_instant(next_at) - self._day_start) / timedelta(minutes=1)
            return Answer(
                order_id, None, None, order["lastError"], retry_at=retry_at, pipeline=pipeline
            )
        return None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _location(point: Point) -> dict[str, float]:
    return {"latitude": point.latitude, "longitude": point.longitude}
