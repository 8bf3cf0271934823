"""Faults against the real servers: a broker that forgets, a killed assignment service, a
Redis that restarts empty, a service told to stop. Every order ends accounted for."""

from __future__ import annotations

import json
import random
import signal
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from swifteats.check_flow import sample_order
from swifteats.client import driver_body
from swifteats.launcher import ServiceProcess
from swifteats.stack import free_port
from swifteats.stack.postgres_server import start_postgres, stop_postgres
from swifteats.stack.redis_server import start_redis
from tests.integration.conftest import MakeClient
from tests.integration.helpers import Broker, Deployment, order_near, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

CENTER = (40.7128, -74.0060)
TOPIC = "driver_assignment.requests.4_-7"


NO_SHEDDING = {
    "SWIFTEATS_ADMISSION_MAX_OUTBOX_BACKLOG": "0",
    "SWIFTEATS_ADMISSION_MAX_UNANSWERED": "0",
}
"""Admission control off: these tests place a whole burst at once on purpose (shedding
has its own test, ``test_overload.py``)."""


def _place_all(orders_url: str, bodies: list[dict[str, Any]]) -> list[int]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(
            pool.map(
                lambda body: httpx.post(orders_url + "/orders", json=body, timeout=30).status_code,
                bodies,
            )
        )


def _requests_handled(workers: list[ServiceProcess]) -> int:
    total = 0
    for worker in workers:
        try:
            total += httpx.get(worker.url + "/stats", timeout=2).json()["requests"]
        except httpx.HTTPError:
            continue  # killed
    return total


def _decisions(logs: list[Path]) -> list[dict[str, Any]]:
    """Every decision the assignment services logged (JSON lines)."""
    entries = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and 'assignment decision"' in line:  # or "slow ..."
                entries.append(json.loads(line))
    return entries


def test_a_request_lost_with_the_brokers_topics_is_sent_again(
    kafka: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    deployment.env["SWIFTEATS_ANSWER_TIMEOUT_S"] = "3"
    # No request is published after the lost one: nothing shows that it is not merely
    # queued, so it goes again after the longer wait.
    deployment.env["SWIFTEATS_RESEND_UNPROVEN_AFTER_S"] = "6"
    orders = deployment.start("order-service")
    assignment = deployment.start("assignment-service")
    client = make_client(orders.url, assignment.url)
    client.register_driver("d-before", *CENTER)
    first = client.place_order(sample_order())
    client.wait_for_order(first["orderId"], {"assigned_driver"}, timeout_s=60)

    assignment.stop()  # nobody reads: the next request waits in the broker...
    lost = client.place_order(sample_order())
    wait_until(
        lambda: client.get_order(lost["orderId"])["timestamps"]["requestPublishedAt"] is not None,
        timeout_s=30,
        what="the request published",
    )
    kafka.stop()  # ...which forgets it (Tansu keeps nothing)
    kafka.start()
    assignment = deployment.start("assignment-service")
    client = make_client(orders.url, assignment.url)
    client.register_driver("d-after", *CENTER)

    order = client.wait_for_order(lost["orderId"], {"assigned_driver"}, timeout_s=90)
    assert order["driverId"] == "d-after"
    assert order["attempts"] == 1  # sent again, not retried as a failure
    assert client.get_order(first["orderId"])["driverId"] == "d-before"


def test_no_driver_is_double_booked_when_an_assignment_service_is_killed(
    kafka: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    orders_n, drivers_n = 2000, 100
    admin = KafkaAdminClient(bootstrap_servers=kafka.host)
    admin.create_topics([NewTopic(TOPIC, 6, 1)])
    admin.close()
    orders = deployment.start(
        "order-service",
        SWIFTEATS_RETRY_MAX_ATTEMPTS="1",
        SWIFTEATS_ANSWER_TIMEOUT_S="60",
        **NO_SHEDDING,
    )
    workers = [deployment.start("assignment-service") for _ in range(3)]
    wait_until(
        lambda: sum(httpx.get(w.url + "/stats").json()["assignedPartitions"] for w in workers) == 6,
        timeout_s=60,
        what="three assignment services share the six partitions",
    )
    client = make_client(orders.url, workers[1].url)
    rng = random.Random(11)
    for d in range(drivers_n):
        client.register_driver(
            f"driver-{d:03d}",
            CENTER[0] + rng.uniform(-0.03, 0.03),
            CENTER[1] + rng.uniform(-0.03, 0.03),
        )
    bodies = [order_near(f"burst-{i:04d}", CENTER, rng) for i in range(orders_n)]

    with ThreadPoolExecutor(max_workers=1) as placing:
        codes = placing.submit(_place_all, orders.url, bodies)
        wait_until(
            lambda: _requests_handled(workers) >= orders_n // 4,
            timeout_s=120,
            what="a quarter of the requests decided",
        )
        workers[0].process.send_signal(signal.SIGKILL)
        assert codes.result() == [201] * orders_n

    survivors = workers[1:]
    wait_until(
        lambda: (
            sum(httpx.get(w.url + "/stats").json()["assignedPartitions"] for w in survivors) == 6
        ),
        timeout_s=120,
        what="the survivors took over the killed service's partitions",
    )
    wait_until(
        lambda: "new_order" not in client.order_stats()["byStatus"],
        timeout_s=300,
        what="every order answered",
    )
    final = [client.get_order(body["orderId"]) for body in bodies]
    assert {o["status"] for o in final} <= {"assigned_driver", "assignment_failed"}
    assigned = [o["driverId"] for o in final if o["status"] == "assigned_driver"]
    assert len(assigned) == len(set(assigned)) == drivers_n
    orders_per_driver: defaultdict[str, set[str]] = defaultdict(set)
    for decision in _decisions([w.log for w in workers]):
        if decision["chosenDriver"]:
            orders_per_driver[decision["chosenDriver"]].add(decision["orderId"])
    assert len(orders_per_driver) == drivers_n
    assert all(len(held) == 1 for held in orders_per_driver.values())


def test_after_a_redis_restart_only_drivers_that_announce_themselves_again_are_assigned(
    kafka: Broker, deployment: Deployment, make_client: MakeClient, tmp_path: Path
) -> None:
    port = free_port()

    def start() -> Any:
        return start_redis("127.0.0.1", port, tmp_path / "redis", tmp_path / "redis.log")

    redis_server = start()
    deployment.env.update({"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(port)})
    try:
        orders = deployment.start("order-service")
        assignment = deployment.start("assignment-service")
        client = make_client(orders.url, assignment.url)
        client.register_driver("d-gone", *CENTER)
        client.register_driver("d-back", CENTER[0] + 0.01, CENTER[1])

        redis_server.terminate()
        redis_server.wait(timeout=10)
        during = httpx.post(
            assignment.url + "/drivers",
            json=driver_body("d-back", CENTER[0] + 0.01, CENTER[1]),
            timeout=30,
        )
        assert during.status_code == 503, during.text  # a reason, not a crash
        assert "redis unavailable" in during.json()["detail"].lower()
        assert during.headers["retry-after"] == "1"
        redis_server = start()  # empty: Redis keeps nothing here
        wait_until(
            lambda: _registers(client, "d-back", CENTER[0] + 0.01, CENTER[1]),
            timeout_s=30,
            what="the assignment service reconnected to Redis",
        )

        placed = client.place_order(sample_order())
        order = client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=60)
        assert order["driverId"] == "d-back"  # the nearer d-gone never came back
    finally:
        deployment.stop_all()
        redis_server.terminate()
        redis_server.wait(timeout=10)


def _registers(client: Any, driver_id: str, latitude: float, longitude: float) -> bool:
    try:
        client.register_driver(driver_id, latitude, longitude)
    except httpx.HTTPError:
        return False
    return True


def test_sigterm_hands_back_in_flight_work_and_strands_no_driver(
    kafka: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    orders_n, drivers_n = 600, 150
    admin = KafkaAdminClient(bootstrap_servers=kafka.host)
    admin.create_topics([NewTopic(TOPIC, 4, 1)])
    admin.close()
    # No re-sending of slow answers: every second decision would come from a redelivery.
    orders = deployment.start(
        "order-service",
        SWIFTEATS_RETRY_MAX_ATTEMPTS="1",
        SWIFTEATS_ANSWER_TIMEOUT_S="3600",
        **NO_SHEDDING,
    )
    workers = [deployment.start("assignment-service") for _ in range(2)]
    wait_until(
        lambda: all(httpx.get(w.url + "/stats").json()["assignedPartitions"] > 0 for w in workers),
        timeout_s=60,
        what="both assignment services own partitions",
    )
    client = make_client(orders.url, workers[1].url)
    rng = random.Random(5)
    drivers = [f"driver-{d:03d}" for d in range(drivers_n)]
    for driver_id in drivers:
        client.register_driver(
            driver_id, CENTER[0] + rng.uniform(-0.03, 0.03), CENTER[1] + rng.uniform(-0.03, 0.03)
        )
    bodies = [order_near(f"term-{i:04d}", CENTER, rng) for i in range(orders_n)]

    with ThreadPoolExecutor(max_workers=1) as placing:
        codes = placing.submit(_place_all, orders.url, bodies)
        wait_until(
            lambda: _requests_handled(workers) >= orders_n // 4,
            timeout_s=120,
            what="a quarter of the requests decided",
        )
        workers[0].process.send_signal(signal.SIGTERM)
        workers[0].process.wait(timeout=30)
        assert codes.result() == [201] * orders_n

    wait_until(
        lambda: "new_order" not in client.order_stats()["byStatus"],
        timeout_s=120,
        what="every order answered",
    )
    final = [client.get_order(body["orderId"]) for body in bodies]
    assigned = {o["driverId"] for o in final if o["status"] == "assigned_driver"}
    assert len(assigned) == drivers_n
    busy = {d for d in drivers if client.get_driver(d)["status"] == "busy"}
    assert busy == assigned  # every claimed driver's order heard of its driver
    assert "stopped after finishing the work in hand" in workers[0].log.read_text()
    decided = [d["orderId"] for d in _decisions([w.log for w in workers])]
    assert sorted(decided) == sorted(b["orderId"] for b in bodies)  # offsets were committed


def test_after_a_postgres_restart_no_order_is_lost_or_duplicated(
    kafka: Broker, deployment: Deployment, make_client: MakeClient, tmp_path: Path
) -> None:
    port = free_port()
    server = start_postgres("127.0.0.1", port, "postgres", tmp_path / "pg")
    database_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    deployment.env["DATABASE_URL"] = database_url
    try:
        orders = deployment.start("order-service")
        assignment = deployment.start("assignment-service")
        client = make_client(orders.url, assignment.url)
        rng = random.Random(3)
        for d in range(40):
            client.register_driver(f"pg-driver-{d:02d}", *CENTER)
        bodies = [order_near(f"pg-{i:02d}", CENTER, rng) for i in range(40)]
        assert _place_all(orders.url, bodies[:20]) == [201] * 20

        stop_postgres(server)
        during = httpx.post(orders.url + "/orders", json=bodies[20], timeout=30)
        assert during.status_code == 503, during.text
        assert "database" in during.json()["detail"].lower()
        server = start_postgres("127.0.0.1", port, "postgres", tmp_path / "pg")

        for body in bodies[20:]:  # what a client does with a 503: try again
            wait_until(
                lambda body=body: (
                    httpx.post(orders.url + "/orders", json=body).status_code in (201, 409)
                ),
                timeout_s=60,
                what=f"{body['orderId']} accepted",
            )
        wait_until(
            lambda: client.order_stats()["byStatus"] == {"assigned_driver": 40},
            timeout_s=90,
            what="all 40 orders assigned, none twice",
        )
        drivers = {client.get_order(body["orderId"])["driverId"] for body in bodies}
        assert len(drivers) == 40
    finally:
        deployment.stop_all()
        stop_postgres(server)
