"""An order placed over HTTP becomes assigned_driver through Kafka, Redis and PostgreSQL."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from swifteats.adapters.kafka.topics import create_topics
from swifteats.check_flow import RESTAURANT, run_check_flow, sample_order
from swifteats.client import SwiftEatsClient
from swifteats.domain.geo import Point, haversine_km
from swifteats.domain.topics import RESPONSES_TOPIC
from swifteats.settings import Settings
from tests.design import REQUEST_KEYS, SUCCESS_KEYS
from tests.integration.helpers import Broker, Deployment, read_topic, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_check_flow_assigns_the_nearest_driver_and_delivery_frees_it(
    client: SwiftEatsClient,
) -> None:
    result = run_check_flow(client)

    order = result.order
    assert order["status"] == "assigned_driver"
    assert order["driverId"] == result.drivers[0]  # the one 0.5 km away
    assert order["eta"] >= 10  # at least 5 min to the restaurant plus 5 to the customer
    stamps = order["timestamps"]
    for stage in (
        "placedAt",
        "requestPublishedAt",
        "requestConsumedAt",
        "decidedAt",
        "responseConsumedAt",
    ):
        assert INSTANT.match(stamps[stage]), stage
    driver = client.get_driver(result.drivers[0])
    assert driver["status"] == "offline"  # check-flow signs its drivers off at the end
    delivered = client.get_order(order["orderId"])
    assert delivered["status"] == "delivered"


def test_messages_on_the_topics_match_the_design_field_for_field(
    client: SwiftEatsClient, kafka: Broker
) -> None:
    client.register_driver("d-json", RESTAURANT[0] + 0.001, RESTAURANT[1])
    placed = client.place_order(sample_order())
    client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=30)

    (raw_request,) = read_topic(kafka.host, "driver_assignment.requests.4_-7", count=1)
    request = json.loads(raw_request)
    assert list(request) == REQUEST_KEYS
    assert request["eventType"] == "AssignmentRequested"
    assert request["geoKey"] == "4_-7"
    assert request["orderId"] == placed["orderId"]
    assert INSTANT.match(request["occurredAt"])
    assert (request["restaurantLatitude"], request["restaurantLongitude"]) == RESTAURANT
    assert request["radius"] == 5
    assert request["totalAmount"] == 34.95
    assert request["items"][0] == {"name": "Margherita pizza", "quantity": 2, "unitPrice": 12.99}

    (raw_response,) = read_topic(kafka.host, RESPONSES_TOPIC, count=1)
    response = json.loads(raw_response)
    assert list(response) == SUCCESS_KEYS
    assert response["status"] == "assigned"
    assert response["driverId"] == "d-json"
    assert isinstance(response["eta"], int)
    assert INSTANT.match(response["assignedAt"])


def test_bad_orders_get_field_level_422_and_nothing_is_stored(client: SwiftEatsClient) -> None:
    body = sample_order()
    body["restaurantLocation"] = {"latitude": 95.0, "longitude": 0.0}
    body["items"] = []
    response = httpx.post(client_url(client) + "/orders", json=body)
    assert response.status_code == 422
    fields = {tuple(error["loc"][1:]) for error in response.json()["detail"]}
    assert ("restaurantLocation", "latitude") in fields
    assert ("items",) in fields

    wrong_total = sample_order()
    wrong_total["totalAmount"] = 10.0
    response = httpx.post(client_url(client) + "/orders", json=wrong_total)
    assert response.status_code == 422
    assert "does not equal the items' sum" in response.text
    assert client.order_stats()["orders"] == 0


def test_zero_coordinates_are_valid(client: SwiftEatsClient) -> None:
    body = sample_order()
    body["restaurantLocation"] = {"latitude": 0.0, "longitude": 0.0}
    body["customerLocation"] = {"latitude": 0.01, "longitude": 0.0}
    client.register_driver("d-null-island", 0.001, 0.001)
    placed = client.place_order(body)
    order = client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=30)
    assert order["driverId"] == "d-null-island"


def test_delivery_makes_the_driver_available_at_the_customer(client: SwiftEatsClient) -> None:
    client.register_driver("d-deliver", RESTAURANT[0] + 0.002, RESTAURANT[1])
    placed = client.place_order(sample_order())
    order = client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=30)
    assert client.get_driver("d-deliver")["status"] == "busy"

    client.pick_up(order["orderId"])
    client.deliver(order["orderId"])

    driver = client.get_driver("d-deliver")
    assert driver["status"] == "available"
    door = Point(40.7589, -73.9851)
    assert haversine_km(Point(driver["latitude"], driver["longitude"]), door) < 0.01
    assert client.get_order(order["orderId"])["status"] == "delivered"


def client_url(client: SwiftEatsClient) -> str:
    """The Order Service base URL of a client."""
    return client.orders_url


def test_stats_and_metrics_report_every_stage(client: SwiftEatsClient) -> None:
    client.register_driver("d-stats", RESTAURANT[0], RESTAURANT[1])
    placed = client.place_order(sample_order())
    client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=30)

    orders = client.order_stats()
    assert orders["byStatus"] == {"assigned_driver": 1}
    assert orders["successRate"] == 1.0
    for stage in (
        "accepted_to_published",
        "published_to_consumed",
        "consumed_to_decided",
        "decided_to_response_consumed",
        "placed_to_assigned",
    ):
        assert orders["latencyMs"][stage]["count"] == 1, stage
        assert orders["latencyMs"][stage]["p99"] >= 0
    assignment = client.assignment_stats()
    assert (assignment["requests"], assignment["assigned"]) == (1, 1)
    assert set(assignment["latencyMs"]) == {"search", "scoring", "claim", "total"}
    assert assignment["availableDrivers"] == 0
    metrics = httpx.get(client.assignment_url + "/metrics").text
    assert 'swifteats_stage_seconds_count{service="driver-assignment",stage="claim"} 1.0' in metrics
    health = httpx.get(client.orders_url + "/health").json()
    assert health["checks"] == {"postgres": "ok", "redis": "ok", "kafka": "ok"}


def test_a_simulated_clock_publishes_on_put_clock_and_reports_the_answers(
    kafka: Broker, deployment: Deployment
) -> None:
    orders = deployment.start("order-service", SWIFTEATS_SIMULATED_CLOCK="true")
    assignment = deployment.start("assignment-service")
    with SwiftEatsClient(orders.url, assignment.url, timeout_s=45) as client:
        _subscribed_ahead(client, kafka, "driver_assignment.requests.4_-7")
        client.register_driver("d-clock", RESTAURANT[0], RESTAURANT[1])
        start = client.set_clock("2026-01-15T12:00:00Z")
        placed = client.place_order(sample_order() | {"orderId": "o-clock"})
        published = client.set_clock("2026-01-15T12:00:00Z")
        answered = client.set_clock("2026-01-15T12:00:01Z", after_responses=1)
        order = client.get_order("o-clock")

    assert (start["requestsPublished"], start["nextDueAt"], start["applied"]) == (0, None, [])
    assert published["requestsPublished"] == 1
    (applied,) = answered["applied"]
    assert applied["orderId"] == placed["orderId"]
    assert (applied["outcome"], applied["driverId"], applied["attempt"]) == (
        "assigned",
        "d-clock",
        1,
    )
    assert answered["now"] == "2026-01-15T12:00:01.000Z"
    assert order["timestamps"]["placedAt"] == "2026-01-15T12:00:00.000Z"


def _subscribed_ahead(client: SwiftEatsClient, kafka: Broker, topic: str) -> None:
    """Create ``topic`` and wait until the assignment service reads it (a new topic can
    take a consumer-group rebalance to be picked up)."""
    create_topics(Settings(kafka_host=kafka.host), (topic,))
    wait_until(
        lambda: topic in client.assignment_stats()["assignedTopics"],
        timeout_s=120,
        what=f"the assignment service reads {topic}",
    )
