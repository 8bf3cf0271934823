"""Overload on loopback: a burst far beyond what the pipeline holds is shed at the door
with 503 and Retry-After, and every order let in ends assigned or failed with a reason."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.integration.conftest import MakeClient
from tests.integration.helpers import Broker, Deployment, order_near, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

BURST, DRIVERS, MAX_UNANSWERED = 300, 30, 10
CENTER = (40.7128, -74.0060)


def test_a_burst_is_shed_with_retry_after_and_every_accepted_order_ends(
    kafka: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    orders = deployment.start(
        "order-service",
        SWIFTEATS_ADMISSION_MAX_UNANSWERED=str(MAX_UNANSWERED),
        SWIFTEATS_ADMISSION_SAMPLE_S="0.05",
        SWIFTEATS_ORDER_BURST="0",
    )
    assignment = deployment.start("assignment-service")
    client = make_client(orders.url, assignment.url)
    for d in range(DRIVERS):
        client.register_driver(f"d-{d}", CENTER[0] + d * 1e-4, CENTER[1])
    rng = random.Random(13)
    bodies = [order_near(f"burst-{i:03d}", CENTER, rng) for i in range(BURST)]

    with httpx.Client(base_url=orders.url, timeout=30) as http:

        def post(body: dict[str, object]) -> tuple[str, int, str | None]:
            answer = http.post("/orders", json=body)
            return str(body["orderId"]), answer.status_code, answer.headers.get("Retry-After")

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(post, bodies))
        metrics = http.get("/metrics").text

    accepted = [order_id for order_id, status, _ in answers if status == 201]
    shed = [(status, after) for _, status, after in answers if status == 503]
    assert len(accepted) + len(shed) == BURST, {s for _, s, _ in answers}
    assert accepted and shed, "a burst of 300 against a bound of 10 waiting orders is shed"
    assert all(after is not None and int(after) >= 1 for _, after in shed)
    assert 'kind="orders_shed"' in metrics

    def ended() -> bool:
        return all(
            client.get_order(order_id)["status"] in ("assigned_driver", "assignment_failed")
            for order_id in accepted
        )

    wait_until(ended, timeout_s=120, what="every accepted order assigned or failed")
    for order_id in accepted:
        order = client.get_order(order_id)
        assert order["status"] == "assigned_driver" or order["lastError"], order
