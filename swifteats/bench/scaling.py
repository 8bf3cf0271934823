"""Horizontal scaling, live: assigned orders per second with 1–2 Order Service and 1–3
Driver Assignment Service instances (one consumer group, ``partitions`` per topic).

For each ``(orders, assignments)`` pair the benchmark starts that many processes of each
service on one fresh database and Redis prefix, writes the fleet, warms the pipeline up,
then offers ``batch`` orders at ``rate`` per second spread evenly over the Order Service
instances, and waits until every accepted order is decided. Throughput is the orders
assigned over the seconds from the first acceptance to the last assignment (PostgreSQL
stamps): what the instances together carried. Answer re-sends are pushed out
(``SWIFTEATS_ANSWER_TIMEOUT_S``) so a backlog is measured, not amplified. On a 2-core
machine every process shares the same cores, so the ratio to one instance of each is the
figure; it says how far the design lets instances add up, not what more cores would give.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from swifteats.adapters.kafka.topics import create_topics
from swifteats.adapters.redis_client import forget_namespace
from swifteats.adapters.redis_drivers import RedisDriverIndex
from swifteats.bench.e2e import E2eOptions, request_topics
from swifteats.bench.e2e_orders import OrderMaker
from swifteats.bench.fleet import Area
from swifteats.bench.loadgen import Offer, offer_orders
from swifteats.bench.releaser import DriverReleaser
from swifteats.bench.services import auth_headers, bench_redis
from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.launcher import ServiceProcess, stack_env
from swifteats.settings import Settings
from swifteats.stack import drop_database, ensure_database, free_port

Echo = Callable[[str], None]
_START_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class ScalingOptions:
    """Instance counts, load and fleet of the scaling benchmark."""

    layouts: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3))
    """``(order services, assignment services)`` pairs, each measured once."""
    rate: float = 400.0
    batch: int = 2_000
    partitions: int = 6
    """Partitions per topic: 1, 2 and 3 consumers each get an equal share."""
    drivers: int = 2_000
    drain_timeout_s: float = 120.0
    seed: int = 11


def run_scaling(settings: Settings, options: ScalingOptions, *, echo: Echo) -> dict[str, Any]:
    """Measure every layout; throughputs and their ratio to the first layout."""
    own = settings.model_copy(update={"kafka_topic_partitions": options.partitions})
    runs = []
    for orders, assignments in options.layouts:
        run = _measure(own, options, orders=orders, assignments=assignments)
        runs.append(run)
        echo(
            f"  scaling {orders} order / {assignments} assignment: "
            f"{run['assigned_per_s']} assigned/s ({run['assigned']} of {run['accepted']})"
        )
    base = runs[0]["assigned_per_s"] or None
    for run in runs:
        run["ratio"] = round(run["assigned_per_s"] / base, 2) if base else None
    return {"rate": options.rate, "batch": options.batch, "runs": runs}


def _measure(
    settings: Settings, options: ScalingOptions, *, orders: int, assignments: int
) -> dict[str, Any]:
    rng = random.Random(options.seed)  # noqa: S311 - test data, not cryptography
    shape = E2eOptions(drivers=options.drivers)
    area = Area.for_fleet(shape.drivers, found=shape.found, radius_km=shape.radius_km)
    with _instances(settings, area, orders=orders, assignments=assignments) as running:
        urls, db, prefix = running.orders, running.database_url, running.prefix
        client = bench_redis(settings)
        index = RedisDriverIndex(client, prefix)
        index.register_many(
            DriverRecord(f"driver-{i}", area.point(rng), DriverStatus.AVAILABLE)
            for i in range(options.drivers)
        )
        try:
            with DriverReleaser(db, index), psycopg.connect(db, autocommit=True) as conn:
                maker = OrderMaker(area, rng, shape.radius_km)
                warm = maker.bodies("warm-", 20 * orders)
                _offer(settings, urls, warm, rate=20.0)
                _drain(conn, "warm-", len(warm), options.drain_timeout_s)
                bodies = maker.bodies("run-", options.batch)
                accepted = sum(o.accepted for o in _offer(settings, urls, bodies, options.rate))
                drained = _drain(conn, "run-", accepted, options.drain_timeout_s)
                return {
                    "order_services": orders,
                    "assignment_services": assignments,
                    "accepted": accepted,
                    "drained": drained,
                    **_throughput(conn),
                    "requests_per_assignment_instance": _handled(settings, running.assignments),
                }
        finally:
            client.close()


@dataclass(frozen=True, slots=True)
class _Running:
    """Where the instances of one layout answer and keep their data."""

    orders: list[str]
    assignments: list[str]
    database_url: str
    prefix: str


@contextmanager
def _instances(
    settings: Settings, area: Area, *, orders: int, assignments: int
) -> Iterator[_Running]:
    """Running instances on a fresh database and Redis prefix."""
    tag = uuid.uuid4().hex[:10]
    database_url = f"{settings.database_url.get_secret_value().rsplit('/', 1)[0]}/scale_{tag}"
    prefix = f"bench:{tag}"
    env = {
        **stack_env(settings),
        "DATABASE_URL": database_url,
        "SWIFTEATS_REDIS_PREFIX": prefix,
        "SWIFTEATS_KAFKA_TOPIC_PARTITIONS": str(settings.kafka_topic_partitions),
        "SWIFTEATS_ANSWER_TIMEOUT_S": "600",
    }
    logs = settings.state_dir / "logs" / f"scaling-{tag}"
    ensure_database(database_url)
    started: list[ServiceProcess] = []
    try:
        commands = ["order-service"] * orders + ["assignment-service"] * assignments
        for n, command in enumerate(commands):
            log = logs / f"{command}-{n}.log"
            started.append(ServiceProcess.start(command, port=free_port(), env=env, log=log))
        for service in started:
            service.wait_until_up(timeout_s=_START_TIMEOUT_S)
        create_topics(settings, request_topics(area))
        _wait_for_partitions(settings, [s.url for s in started[orders:]])
        urls = [s.url for s in started]
        yield _Running(urls[:orders], urls[orders:], database_url, prefix)
    finally:
        for service in started:
            service.stop()
        drop_database(database_url)
        forget_namespace(settings, prefix)


def _wait_for_partitions(settings: Settings, assignment_urls: list[str]) -> None:
    """Until every assignment instance owns a partition (the group has settled)."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    headers = auth_headers(settings)
    while time.monotonic() < deadline:
        owned = [
            httpx.get(f"{url}/stats", headers=headers, timeout=10).json()["assignedPartitions"]
            for url in assignment_urls
        ]
        if all(n > 0 for n in owned):
            return
        time.sleep(0.2)
    raise TimeoutError("the assignment instances never all owned a partition")


def _handled(settings: Settings, assignment_urls: list[str]) -> list[int]:
    """Requests each assignment instance handled (warm-up included)."""
    headers = auth_headers(settings)
    return [
        int(httpx.get(f"{url}/stats", headers=headers, timeout=10).json()["requests"])
        for url in assignment_urls
    ]


def _offer(settings: Settings, urls: list[str], bodies: list[bytes], rate: float) -> list[Offer]:
    """Offer ``bodies`` at ``rate`` in total, each instance an equal share, at once."""
    shares = [bodies[n :: len(urls)] for n in range(len(urls))]
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        runs = [
            pool.submit(
                offer_orders,
                url,
                share,
                rate_per_s=rate / len(urls),
                headers=auth_headers(settings),
                connections=32,
            )
            for url, share in zip(urls, shares, strict=True)
        ]
        return [run.result() for run in runs]


def _drain(conn: psycopg.Connection[Any], prefix: str, expected: int, timeout_s: float) -> float:
    """Seconds until ``expected`` orders of ``prefix`` are decided (TimeoutError if not)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        row = conn.execute(
            "SELECT count(*) FROM orders WHERE id LIKE %s AND status <> 'new_order'",
            (f"{prefix}%",),
        ).fetchone()
        if row is not None and row[0] >= expected:
            return round(time.monotonic() - started, 2)
        time.sleep(0.2)
    raise TimeoutError(f"orders {prefix}* not decided within {timeout_s} s")


def _throughput(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Assigned orders of the run per second, first acceptance to last assignment."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE status = 'assigned_driver'),"
        " extract(epoch FROM max(response_consumed_at) - min(accepted_at))"
        " FROM orders WHERE id LIKE 'run-%'"
    ).fetchone()
    assigned, span_s = (int(row[0]), float(row[1] or 0.0)) if row else (0, 0.0)
    return {
        "assigned": assigned,
        "span_s": round(span_s, 2),
        "assigned_per_s": round(assigned / span_s, 1) if span_s else 0.0,
    }
