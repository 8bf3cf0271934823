"""The live engine: the replay drives the real services over HTTP, Kafka between them.

The harness starts what the stack lacks, a fresh database and Redis namespace per run,
and both services. The Order Service runs on the replay's simulated clock
(``SWIFTEATS_SIMULATED_CLOCK``, moved with ``PUT /clock``), so its retries and backoff
happen in simulated time exactly as in production; the Assignment Service decides only
when told (``SWIFTEATS_DECISION_CLOCK=external``, ``POST /decisions``). Each instant is a
barrier (``replay.engine``): one Kafka round trip serves every request of the instant.
"""

from __future__ import annotations

import fcntl
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from replay.decision_log import read_decision_log
from replay.engine import PIPELINE_STAGES, Applied, FinalOrder, Settled, order_body
from replay.inputs import LoggedOrder, ReplayInput
from replay.service_config import ServiceConfig
from swifteats.adapters.kafka.topics import create_topics
from swifteats.adapters.redis_client import forget_namespace
from swifteats.client import SwiftEatsClient, driver_body
from swifteats.domain.drivers import RouteStops
from swifteats.domain.events import format_instant, parse_instant
from swifteats.domain.geo import Point, geo_key
from swifteats.domain.topics import request_topic
from swifteats.launcher import ServiceProcess, stack_env
from swifteats.settings import Settings
from swifteats.stack import (
    drop_database,
    ensure_database,
    free_port,
    skip_commit_flush,
    stack_up,
)

_SUBSCRIBE_TIMEOUT_S = 120.0


class BrokerBusyError(RuntimeError):
    """Another live replay uses the broker: the two would read each other's messages
    (topic names and consumer groups are the design's, the same for every run)."""


@contextmanager
def sole_live_replay(settings: Settings) -> Iterator[None]:
    """Hold the broker for one live replay of this machine's (a lock file in the state
    directory); raise :class:`BrokerBusyError` while another holds it."""
    name = "".join(c if c.isalnum() else "_" for c in settings.kafka_host)
    path = settings.state_dir / "locks" / f"live-replay-{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BrokerBusyError(
                f"another live replay uses the broker at {settings.kafka_host}"
            ) from None
        yield


@dataclass(frozen=True, slots=True)
class LiveServices:
    """Where the services of one live replay answer, and where decisions are logged."""

    orders_url: str
    assignment_url: str
    decision_log: Path


@contextmanager
def live_services(
    settings: Settings, config: ServiceConfig, request_topics: tuple[str, ...]
) -> Iterator[LiveServices]:
    """Both services on a fresh database and Redis namespace, configured by ``config``;
    the input's ``request_topics`` are created and read before the clock runs."""
    with sole_live_replay(settings):
        yield from _live_services(settings, config, request_topics)


def _live_services(
    settings: Settings, config: ServiceConfig, request_topics: tuple[str, ...]
) -> Iterator[LiveServices]:
    stack_up(settings)
    tag = uuid.uuid4().hex[:10]
    base = settings.database_url.get_secret_value().rsplit("/", 1)[0]
    database_url = f"{base}/swifteats_replay_{tag}"
    ensure_database(database_url)
    skip_commit_flush(database_url)  # a replay's database is dropped at its end
    namespace = f"replay:{tag}"
    common = {
        **stack_env(settings),
        "DATABASE_URL": database_url,
        "SWIFTEATS_REDIS_PREFIX": namespace,
        "SWIFTEATS_LOG_LEVEL": "WARNING",
        **config.env(),
    }
    logs = settings.state_dir / "logs" / f"replay-{tag}"
    services = [
        ServiceProcess.start(
            "order-service",
            port=free_port(),
            log=logs / "orders.log",
            env=common,
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
        _subscribe_ahead(settings, services[1].url, request_topics)
        yield LiveServices(services[0].url, services[1].url, logs / "assignment.log")
    finally:
        for service in services:
            service.stop()
        drop_database(database_url)
        forget_namespace(settings, namespace)


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


class LiveEngine:
    """The running services over HTTP, Kafka between them (see ``replay.engine``).

    What happens for the Order Service (orders placed, picked up, delivered) is kept,
    each event with its instant, and sent in one ``PUT /clock`` at the next barrier or
    route read. Shifts starting and ending go to the Assignment Service with the next
    ``POST /decisions``, in turn, before it decides: after the events told before them (a
    drop-off frees the driver a shift end takes off). No route read depends on them, and
    those told after the last decision are not sent, as no decision follows.

    With ``queued_routes`` (a windowed policy), the call that waits for a decision's
    answers also reads the routes of the drivers they assigned; a route read finds them
    there until an event is told or the clock moves again.
    """

    def __init__(
        self,
        services: LiveServices,
        *,
        queued_routes: bool = False,
        api_key: SecretStr | None = None,
    ) -> None:
        self._services = services
        self._queued_routes = queued_routes
        self._assigned_routes: dict[str, RouteStops] = {}
        """Routes read with the last decision's answers, while nothing happened since."""
        self._client = SwiftEatsClient(
            services.orders_url, services.assignment_url, timeout_s=60, api_key=api_key
        )
        self._answers = 0
        """Responses the assignment service has published in all."""
        self._now: datetime | None = None
        self._events: list[dict[str, Any]] = []
        """The instant's events not sent yet."""
        self._published = 0
        self._pending: list[dict[str, Any]] = []
        self._shifts: list[dict[str, Any]] = []
        """Shift starts and ends not sent yet, in turn (``POST /decisions``'s ``shifts``)."""

    def begin(self, now: datetime) -> None:
        """A new instant: the events told from now on happened at ``now``."""
        self._now = now

    def _flush(self) -> None:
        """``PUT /clock`` with the events told since the last one, at their instant."""
        if self._events and self._now is not None:
            self._clock(self._now)

    def _clock(
        self, now: datetime, routes_of: list[str] | None = None, *, of_assigned: bool = False
    ) -> dict[str, Any]:
        events, self._events = self._events, []
        self._assigned_routes = {}
        report = self._client.set_clock(
            format_instant(now),
            after_responses=self._answers,
            events=events,
            routes_of=routes_of,
            routes_of_assigned=of_assigned,
        )
        self._published = report["requestsPublished"]
        self._pending += report["applied"]
        return report

    def close(self) -> None:
        """Close both HTTP clients."""
        self._client.close()

    def driver_on(self, driver_id: str, at: Point, shift_ends_at: datetime) -> None:
        """Register the driver, available from now until the end of the shift (sent with
        the next decision)."""
        since = None if self._now is None else format_instant(self._now)
        body = driver_body(
            driver_id,
            at.latitude,
            at.longitude,
            shift_ends_at=format_instant(shift_ends_at),
            available_since=since,
        )
        self._shifts.append({"on": body})

    def driver_off(self, driver_id: str) -> None:
        """Sign the driver off (sent with the next decision)."""
        self._shifts.append({"off": driver_id})

    def place(self, order: LoggedOrder, *, radius_km: float, now_min: float) -> None:
        """``POST /orders``'s body, sent with the instant."""
        self._tell({"placed": order_body(order, radius_km=radius_km, now_min=now_min)})

    def picked_up(self, order_id: str) -> None:
        """Tell the Order Service the food left the restaurant."""
        self._tell({"pickedUp": order_id})

    def delivered(self, order_id: str) -> None:
        """Tell the Order Service; it frees the driver at the door."""
        self._tell({"delivered": order_id})

    def _tell(self, event: dict[str, Any]) -> None:
        at = None if self._now is None else format_instant(self._now)
        self._events.append({**event, "at": at})
        self._assigned_routes = {}

    def driver_routes(self, driver_ids: list[str]) -> dict[str, RouteStops]:
        """The routes the driver index holds for the drivers, read after the events told
        so far are applied (one call: with those events when there are some; none when
        the last decision's answers brought them)."""
        if all(d in self._assigned_routes for d in driver_ids):
            return {d: self._assigned_routes[d] for d in driver_ids}
        if self._events and self._now is not None:
            return _routes(self._clock(self._now, routes_of=driver_ids)["routes"])
        return _routes(self._client.driver_routes(driver_ids))

    def settle(self, now: datetime, *, routes_of: list[str]) -> Settled:
        """Publish what is due (reading the routes of ``routes_of``), decide, and wait
        until every answer is applied."""
        started = time.perf_counter()
        instant = format_instant(now)
        self._now = now
        published = self._clock(now, routes_of=routes_of or None)
        routes = _routes(published["routes"])
        shifts, self._shifts = self._shifts, []
        decided = self._client.decide(instant, after_requests=self._published, shifts=shifts)
        if decided["answersPublished"] > self._answers:  # else nothing more to apply
            self._answers = decided["answersPublished"]
            published = self._clock(now, of_assigned=self._queued_routes)
            self._assigned_routes = _routes(published["routes"])
        pending, self._pending = self._pending, []
        wakes = [w for w in (published["nextDueAt"], decided["nextDecisionAt"]) if w is not None]
        return Settled(
            [_applied(a) for a in pending],
            min((parse_instant(w) for w in wakes), default=None),
            (time.perf_counter() - started) * 1000,
            tuple(decided["queuedDrivers"]),
            routes,
        )

    def decisions(self) -> list[dict[str, Any]]:
        """The decisions the assignment service logged."""
        self._flush()
        return read_decision_log(self._services.decision_log)

    def final_orders(self, order_ids: list[str]) -> dict[str, FinalOrder]:
        """Each order as the Order Service holds it (one call)."""
        self._flush()
        found = {o["orderId"]: o for o in self._client.get_orders(order_ids)}
        return {order_id: _final(found[order_id]) for order_id in order_ids}


def _routes(routes: dict[str, list[dict[str, Any]]]) -> dict[str, RouteStops]:
    return {
        driver_id: tuple((stop["orderId"], int(stop["eta"])) for stop in route)
        for driver_id, route in routes.items()
    }


def _applied(answer: dict[str, Any]) -> Applied:
    return Applied(
        answer["orderId"],
        answer["outcome"],
        answer["driverId"],
        answer["eta"],
        answer["error"],
        answer["attempt"],
    )


def _final(order: dict[str, Any]) -> FinalOrder:
    stamps = order["timestamps"]
    pipeline = {stage: stamps[_camel(stage)] for stage in PIPELINE_STAGES}
    return FinalOrder(order["attempts"], order["lastError"], pipeline)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
