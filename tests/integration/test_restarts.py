"""Kill -9 and quick restarts under load, of the assignment service and of the broker.

Orders go to six geo topics at a steady rate the whole time. Every order placed before a
restart of the assignment service is assigned within 30 s of it, ten restarts in a row;
after three broker restarts (which lose the requests in flight: the Order Service sends
them again after 15 s) every order is assigned and no driver holds two orders.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from swifteats.domain.geo import geo_key
from swifteats.domain.topics import request_topic
from swifteats.launcher import ServiceProcess
from tests.integration.helpers import Broker, Deployment, OrderLoad, order_near, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

CITIES = [
    (40.71, -74.0),
    (34.05, -118.24),
    (51.5, -0.12),
    (48.85, 2.35),
    (35.68, 139.69),
    (-33.87, 151.21),
]
PARTITIONS = 2
SPREAD = 0.25
"""Degrees around a city's centre where restaurants are (and drivers, a little further):
an order sees a few dozen drivers within its 8 km, so each decision stays cheap."""
RATE_PER_S = 10.0
RESTARTS = 10
ASSIGNED_WITHIN_S = 30.0


def _start(
    kafka: Broker, deployment: Deployment, *, drivers: int, answer_timeout_s: float = 30.0
) -> tuple[ServiceProcess, ...]:
    """Both services on six two-partition geo topics, ``drivers`` drivers in each city;
    the Order Service sends a request again after ``answer_timeout_s`` without answer."""
    admin = KafkaAdminClient(bootstrap_servers=kafka.host)
    topics = [request_topic(geo_key(*city)) for city in CITIES]
    admin.create_topics([NewTopic(topic, PARTITIONS, 1) for topic in topics])
    admin.close()
    orders = deployment.start(
        "order-service",
        SWIFTEATS_ORDER_BURST="0",
        SWIFTEATS_ANSWER_TIMEOUT_S=str(answer_timeout_s),
        SWIFTEATS_RESEND_UNPROVEN_AFTER_S=str(answer_timeout_s),
    )
    assignment = deployment.start("assignment-service")
    rng = random.Random(7)
    bodies = [
        {
            "driverId": f"driver-{c}-{d:04d}",
            "latitude": lat + rng.uniform(-SPREAD - 0.05, SPREAD + 0.05),
            "longitude": lon + rng.uniform(-SPREAD - 0.05, SPREAD + 0.05),
            "status": "available",
        }
        for c, (lat, lon) in enumerate(CITIES)
        for d in range(drivers)
    ]
    with (
        httpx.Client(base_url=assignment.url, timeout=30) as http,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        for response in pool.map(lambda body: http.post("/drivers", json=body), bodies):
            response.raise_for_status()
    _wait_for_partitions(assignment, len(CITIES) * PARTITIONS, timeout_s=60)
    return orders, assignment


def _wait_for_partitions(service: ServiceProcess, count: int, *, timeout_s: float) -> None:
    def owned() -> int:
        try:
            return int(httpx.get(service.url + "/stats", timeout=5).json()["assignedPartitions"])
        except httpx.HTTPError:
            return -1

    wait_until(lambda: owned() == count, timeout_s=timeout_s, what=f"{count} partitions owned")


def _load(orders: ServiceProcess) -> OrderLoad:
    rng = random.Random(11)
    load = OrderLoad(
        orders.url,
        lambda n: order_near(
            f"order-{n:06d}", CITIES[n % len(CITIES)], rng, spread=SPREAD, radius_km=8
        ),
        RATE_PER_S,
    )
    load.start()
    return load


def _seconds_until_assigned(
    http: httpx.Client, order_ids: set[str], since: float, *, timeout_s: float
) -> float:
    """Seconds from ``since`` until every order is assigned; fails on a failed order."""
    waiting = set(order_ids)
    while waiting:
        assert time.monotonic() - since < timeout_s, f"{len(waiting)} orders never assigned"
        for order_id in sorted(waiting):
            order = http.get(f"/orders/{order_id}").json()
            status = order["status"]
            assert status in ("new_order", "assigned_driver"), (
                f"{order_id}: {status} ({order['lastError']})"
            )
            if status == "assigned_driver":
                waiting.discard(order_id)
    return time.monotonic() - since


def _assert_every_order_assigned_once(http: httpx.Client, order_ids: list[str]) -> None:
    final = [http.get(f"/orders/{order_id}").json() for order_id in order_ids]
    statuses = Counter(order["status"] for order in final)
    print(f"final statuses of {len(order_ids)} orders: {dict(statuses)}")
    assert statuses == {"assigned_driver": len(order_ids)}
    drivers = [order["driverId"] for order in final]
    assert len(set(drivers)) == len(drivers)  # no driver holds two orders


def _healthy(service: ServiceProcess) -> bool:
    try:
        return httpx.get(service.url + "/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _restarts_under_load(
    orders: ServiceProcess,
    kill: Callable[[], None],
    start: Callable[[], None],
    *,
    times: int,
) -> list[float]:
    """Kill and start again ``times`` times under load, the start 0.5 s after the kill;
    for each, the seconds from the start until every order placed before it is assigned.
    Then every order is assigned, each to a driver of its own."""
    load = _load(orders)
    took: list[float] = []
    with httpx.Client(base_url=orders.url, timeout=30) as http:
        wait_until(lambda: len(load.accepted) >= 50, timeout_s=60, what="the load under way")
        _seconds_until_assigned(http, set(load.accepted), time.monotonic(), timeout_s=60)
        for _ in range(times):
            kill()
            time.sleep(0.5)  # the restart comes within 1 s of the kill
            restarted, placed = time.monotonic(), set(load.accepted)
            start()
            took.append(_seconds_until_assigned(http, placed, restarted, timeout_s=180))
        print("orders assigned after each restart within (s):", [round(t, 1) for t in took])
        accepted = load.stop()
        assert not load.given_up
        _seconds_until_assigned(http, set(accepted), time.monotonic(), timeout_s=180)
        _assert_every_order_assigned_once(http, accepted)
    return took


def test_ten_kills_and_quick_restarts_of_the_assignment_service_under_load(
    kafka: Broker, deployment: Deployment
) -> None:
    # Enough drivers that no order fails for want of one, whatever the restarts take.
    drivers = int(RATE_PER_S * (RESTARTS * ASSIGNED_WITHIN_S + 60) / len(CITIES))
    orders, first = _start(kafka, deployment, drivers=drivers)
    assignment = [first]

    def kill() -> None:
        assignment[-1].process.send_signal(signal.SIGKILL)
        assignment[-1].process.wait(timeout=10)

    def start() -> None:
        assignment.append(deployment.start("assignment-service", wait_healthy=False))

    took = _restarts_under_load(orders, kill, start, times=RESTARTS)
    assert max(took) <= ASSIGNED_WITHIN_S, took
    wait_until(lambda: _healthy(assignment[-1]), timeout_s=60, what="the assignment service up")


def test_three_broker_kills_and_quick_restarts_under_load(
    kafka: Broker, deployment: Deployment
) -> None:
    # The broker forgets the requests in flight: the Order Service sends them again. Drivers
    # are never freed, so there are enough that no area runs dry, however long it takes.
    orders, assignment = _start(kafka, deployment, drivers=800, answer_timeout_s=15)
    _restarts_under_load(orders, kafka.kill, kafka.start, times=3)
    for service in (orders, assignment):
        wait_until(lambda s=service: _healthy(s), timeout_s=60, what=f"{service.command} healthy")
        failures = httpx.get(service.url + "/stats").json()["consumerFailures"]
        print(f"{service.command}: {failures} consumer failure(s)")
