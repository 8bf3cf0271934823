"""Windowed policies in the live services: requests held by the Driver Assignment Service,
decided together every window, each order answered with the design's response."""

from __future__ import annotations

import json

import pytest

from swifteats.adapters.redis_client import connect_redis
from swifteats.adapters.redis_drivers import RedisDriverIndex
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


def test_bundling_queues_an_order_on_a_driver_about_to_be_free_and_starts_it_at_the_door(
    kafka: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    client = started(
        deployment, make_client, SWIFTEATS_POLICY="bundling", SWIFTEATS_POLICY_WINDOW_S="0.5"
    )
    redis_client = connect_redis(deployment.env["REDIS_HOST"], int(deployment.env["REDIS_PORT"]))
    index = RedisDriverIndex(redis_client, deployment.env["SWIFTEATS_REDIS_PREFIX"])
    client.register_driver("near", RESTAURANT[0] + 0.002, RESTAURANT[1])
    door = {"latitude": RESTAURANT[0] + 0.01, "longitude": RESTAURANT[1]}
    first = {**sample_order(), "customerLocation": door, "preparationTime": 1}
    first_id = client.place_order(first)["orderId"]
    client.wait_for_order(first_id, {"assigned_driver"}, timeout_s=30)
    # "near" is free in about 14 minutes at the first door, 1 km from the restaurant;
    # "far" is free now, 4 km away. The food is ready in 45 minutes either way.
    client.register_driver("far", RESTAURANT[0] - 0.036, RESTAURANT[1])
    later_id = client.place_order({**order_to(0.0), "preparationTime": 45})["orderId"]

    def queued_on_near() -> bool:
        plan = index.plans(["near"]).get("near")
        return plan is not None and plan.queued is not None and plan.queued.order_ids == (later_id,)

    wait_until(queued_on_near, timeout_s=30, what="the later order queued on 'near'")
    assert client.get_order(later_id)["status"] == "new_order"  # not answered while queued
    assert client.get_driver("far")["status"] == "available"

    client.deliver(first_id)
    assigned = client.wait_for_order(later_id, {"assigned_driver"}, timeout_s=30)

    assert assigned["driverId"] == "near"
    assert client.get_driver("near")["orderId"] == later_id
    assert client.get_driver("far")["status"] == "available"
    redis_client.close()
