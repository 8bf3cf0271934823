"""Windowed policies in the live services: requests held by the Driver Assignment Service,
decided together every window, each order answered with the design's response."""

from __future__ import annotations

import json

import pytest

from swifteats.check_flow import CUSTOMER, RESTAURANT, sample_order
from swifteats.client import SwiftEatsClient
from swifteats.domain.topics import RESPONSES_TOPIC
from tests.design import FAILURE_KEYS, SUCCESS_KEYS
from tests.integration.conftest import MakeClient
from tests.integration.helpers import Broker, Deployment, read_topic, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]


def started(deployment: Deployment, make_client: MakeClient, **policy: str) -> SwiftEatsClient:
    orders = deployment.start("order-service")
    assignment = deployment.start("assignment-service", **policy)
    return make_client(orders.url, assignment.url)


def order_to(customer_km_north: float) -> dict[str, object]:
    body = sample_order()
    body["customerLocation"] = {
        "latitude": CUSTOMER[0] + customer_km_north / 111.0,
        "longitude": CUSTOMER[1],
    }
    return body


def test_bundling_sends_one_driver_for_two_orders_and_only_the_last_drop_off_frees_it(
    kafka: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    client = started(
        deployment, make_client, SWIFTEATS_POLICY="bundling", SWIFTEATS_POLICY_WINDOW_S="0.5"
    )
    first = client.place_order(order_to(0.0))["orderId"]
    second = client.place_order(order_to(0.5))["orderId"]
    wait_until(
        lambda: client.assignment_stats()["heldRequests"] == 2,
        timeout_s=30,
        what="both requests held by the windowed step",
    )
    client.register_driver("d-bundle", RESTAURANT[0] + 0.002, RESTAURANT[1])

    assigned = [
        client.wait_for_order(order_id, {"assigned_driver"}, timeout_s=30)
        for order_id in (first, second)
    ]

    assert {o["driverId"] for o in assigned} == {"d-bundle"}
    by_eta = sorted(assigned, key=lambda o: o["eta"])
    assert by_eta[0]["eta"] < by_eta[1]["eta"]  # one drop-off after the other
    responses = [json.loads(r) for r in read_topic(kafka.host, RESPONSES_TOPIC, count=2)]
    assert [list(r) for r in responses] == [SUCCESS_KEYS, SUCCESS_KEYS]
    assert {r["orderId"] for r in responses} == {first, second}
    assert client.assignment_stats()["heldRequests"] == 0

    client.deliver(by_eta[0]["orderId"])
    assert client.get_driver("d-bundle")["status"] == "busy"
    client.deliver(by_eta[1]["orderId"])
    assert client.get_driver("d-bundle")["status"] == "available"


def test_a_held_request_nobody_takes_fails_through_the_order_services_retries(
    kafka: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    client = started(
        deployment,
        make_client,
        SWIFTEATS_POLICY="batch-matching",
        SWIFTEATS_POLICY_WINDOW_S="0.2",
        SWIFTEATS_WINDOW_MAX_HOLD_S="0.5",
    )
    order_id = client.place_order(sample_order())["orderId"]

    failed = client.wait_for_order(order_id, {"assignment_failed"}, timeout_s=60)

    assert failed["attempts"] == 3
    responses = [json.loads(r) for r in read_topic(kafka.host, RESPONSES_TOPIC, count=3)]
    assert [list(r) for r in responses] == [FAILURE_KEYS] * 3
    assert {r["error"] for r in responses} == {"No available drivers in area"}
