"""Failures: no drivers, retries, the DLQ, bad messages, declined payments, Kafka down."""

from __future__ import annotations

import json

import httpx
import pytest
from kafka import KafkaProducer

from swifteats.check_flow import RESTAURANT, sample_order
from swifteats.client import SwiftEatsClient
from swifteats.domain.topics import DLQ_TOPIC, RESPONSES_TOPIC
from tests.integration.conftest import MakeClient
from tests.integration.helpers import Broker, Deployment, read_topic, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]


def test_no_drivers_is_retried_with_backoff_then_failed_and_dead_lettered(
    client: SwiftEatsClient, kafka: Broker
) -> None:
    placed = client.place_order(sample_order())

    order = client.wait_for_order(placed["orderId"], {"assignment_failed"}, timeout_s=60)

    assert order["attempts"] == 3  # SWIFTEATS_RETRY_MAX_ATTEMPTS in the test deployment
    assert order["lastError"] == "No available drivers in area"
    (dead,) = [json.loads(v) for v in read_topic(kafka.host, DLQ_TOPIC, count=1)]
    assert dead["orderId"] == placed["orderId"]
    assert dead["reason"] == "No available drivers in area after 3 attempts"
    assert dead["original"]["eventType"] == "AssignmentRequested"
    requests = read_topic(kafka.host, "driver_assignment.requests.4_-7", count=3)
    assert len({json.loads(r)["eventId"] for r in requests}) == 3
    stats = client.order_stats()
    assert stats["retries"] == 2
    assert stats["deadLettered"] == 1


def test_busy_drivers_give_all_drivers_busy(client: SwiftEatsClient) -> None:
    client.register_driver("d-busy", RESTAURANT[0], RESTAURANT[1], status="busy")
    placed = client.place_order(sample_order())
    order = client.wait_for_order(placed["orderId"], {"assignment_failed"}, timeout_s=60)
    assert order["lastError"] == "All drivers busy"


def test_a_driver_freed_during_the_retries_gets_the_order(client: SwiftEatsClient) -> None:
    client.register_driver("d-late", RESTAURANT[0], RESTAURANT[1], status="offline")
    placed = client.place_order(sample_order())
    client.wait_for_order_attempts(placed["orderId"], 2, timeout_s=30)
    client.set_driver_status("d-late", "available")
    order = client.wait_for_order(
        placed["orderId"], {"assigned_driver", "assignment_failed"}, timeout_s=30
    )
    assert order["status"] == "assigned_driver"
    assert order["driverId"] == "d-late"


def test_declined_payment_is_402_and_publishes_nothing(
    kafka: Broker, deployment: Deployment
) -> None:
    orders = deployment.start("order-service", SWIFTEATS_PAYMENT_DECLINE_CUSTOMERS="cust-broke")
    body = sample_order("cust-broke")
    body["orderId"] = "order-declined"

    response = httpx.post(orders.url + "/orders", json=body)

    assert response.status_code == 402
    assert "declined" in response.json()["detail"]
    assert httpx.get(orders.url + "/orders/order-declined").status_code == 404
    stats = httpx.get(orders.url + "/stats").json()
    assert stats["orders"] == 0
    assert stats["outboxBacklog"] == 0
    assert stats["published"] == 0


def test_bad_requests_on_kafka_get_a_reason_or_the_dlq(
    client: SwiftEatsClient, kafka: Broker
) -> None:
    producer = KafkaProducer(bootstrap_servers=kafka.host)
    topic = "driver_assignment.requests.4_-7"
    bad_coordinates = {
        "orderId": "o-bad",
        "restaurantLatitude": 123.0,
        "restaurantLongitude": 0,
        "customerLatitude": 0,
        "customerLongitude": 0,
        "preparationTime": 10,
    }
    producer.send(topic, key=b"o-bad", value=json.dumps(bad_coordinates).encode())
    producer.send(topic, key=b"garbage", value=b"\xff{not json")
    producer.flush()
    producer.close()

    (response,) = [json.loads(v) for v in read_topic(kafka.host, RESPONSES_TOPIC, count=1)]
    assert response["orderId"] == "o-bad"
    assert response["status"] == "failed"
    assert response["error"] == "Invalid coordinates"
    dead = [json.loads(v) for v in read_topic(kafka.host, DLQ_TOPIC, count=2)]
    assert any(d["originalBase64"] == "/3tub3QganNvbg==" for d in dead)
    # The consumers kept going: a good order still goes through.
    client.register_driver("d-after", RESTAURANT[0], RESTAURANT[1])
    placed = client.place_order(sample_order())
    assert client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=30)
    # The answer for an order the Order Service never saw is dead-lettered, not dropped.
    assert client.order_stats()["deadLettered"] >= 1


def test_a_redelivered_request_gets_the_same_driver(client: SwiftEatsClient, kafka: Broker) -> None:
    client.register_driver("d-one", RESTAURANT[0], RESTAURANT[1])
    client.register_driver("d-two", RESTAURANT[0] + 0.01, RESTAURANT[1])
    placed = client.place_order(sample_order())
    client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=30)
    (request,) = read_topic(kafka.host, "driver_assignment.requests.4_-7", count=1)

    producer = KafkaProducer(bootstrap_servers=kafka.host)
    producer.send("driver_assignment.requests.4_-7", key=placed["orderId"].encode(), value=request)
    producer.flush()
    producer.close()

    responses = [json.loads(v) for v in read_topic(kafka.host, RESPONSES_TOPIC, count=2)]
    assert [r["driverId"] for r in responses] == ["d-one", "d-one"]
    assert client.get_driver("d-two")["status"] == "available"
    assert client.get_order(placed["orderId"])["driverId"] == "d-one"


def test_redelivered_and_stale_responses_change_no_order(
    client: SwiftEatsClient, kafka: Broker
) -> None:
    client.register_driver("d-one", RESTAURANT[0], RESTAURANT[1])
    client.register_driver("d-two", RESTAURANT[0] + 0.01, RESTAURANT[1])
    placed = client.place_order(sample_order())
    order_id = placed["orderId"]
    assigned = client.wait_for_order(order_id, {"assigned_driver"}, timeout_s=30)
    (request,) = read_topic(kafka.host, "driver_assignment.requests.4_-7", count=1)
    (response,) = read_topic(kafka.host, RESPONSES_TOPIC, count=1)
    tagged = [("swifteats-request-id", json.loads(request)["eventId"].encode())]
    failed = {
        "orderId": order_id,
        "error": "All drivers busy",
        "status": "failed",
        "failedAt": "2026-01-01T12:00:00.000Z",
    }
    other = {**json.loads(response), "driverId": "d-two"}

    producer = KafkaProducer(bootstrap_servers=kafka.host)
    for value, headers in (
        (response, tagged),  # the same answer again
        (json.dumps(failed).encode(), tagged),  # a late failure of the same attempt
        (json.dumps(other).encode(), []),  # another driver, untagged
    ):
        producer.send(RESPONSES_TOPIC, key=order_id.encode(), value=value, headers=headers)
    producer.flush()
    producer.close()
    wait_until(
        lambda: client.order_stats()["responses"].get("stale", 0) >= 3,
        timeout_s=30,
        what="the three copies consumed",
    )

    after = client.get_order(order_id)
    assert (after["status"], after["driverId"], after["attempts"]) == (
        "assigned_driver",
        "d-one",
        assigned["attempts"],
    )
    assert after["timestamps"] == assigned["timestamps"]
    assert client.get_driver("d-two")["status"] == "available"


def test_order_placed_while_kafka_is_down_is_assigned_when_it_returns(
    broker: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    orders = deployment.start("order-service", wait_healthy=False)
    client = make_client(orders.url, "http://127.0.0.1:9")
    placed = client.place_order(sample_order())
    assert client.get_order(placed["orderId"])["timestamps"]["requestPublishedAt"] is None

    broker.start()
    assignment = deployment.start("assignment-service")
    make_client(orders.url, assignment.url).register_driver(
        "d-outbox", RESTAURANT[0], RESTAURANT[1]
    )

    order = client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=60)
    assert order["driverId"] == "d-outbox"
    assert order["attempts"] == 1
