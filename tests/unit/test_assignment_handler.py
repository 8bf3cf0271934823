"""The Driver Assignment Service's handler: request bytes in, one response or dead letter out."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.domain.assignment import Assigner
from swifteats.domain.bus import Outgoing
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.events import parse_instant
from swifteats.domain.geo import Point, haversine_km
from swifteats.domain.scoring import ScoringWeights
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.handler import RequestHandler

NOW = datetime(2024, 1, 15, 10, 30, 5, tzinfo=UTC)
RESTAURANT = Point(40.7128, -74.0060)
CUSTOMER = Point(40.7589, -73.9851)
SOURCE = "driver_assignment.requests.4_-7"
EVENT_ID = "5f0c7d1e-0000-4000-8000-000000000001"
KM_PER_DEGREE_LAT = haversine_km(Point(0, 0), Point(1, 0))


def north(km: float) -> Point:
    return Point(RESTAURANT.latitude + km / KM_PER_DEGREE_LAT, RESTAURANT.longitude)


def fixed_clock() -> datetime:
    return NOW


def request(**changes: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "eventId": EVENT_ID,
        "eventType": "AssignmentRequested",
        "occurredAt": "2024-01-15T10:30:00.000Z",
        "orderId": "order_123",
        "geoKey": "4_-7",
        "restaurantLatitude": RESTAURANT.latitude,
        "restaurantLongitude": RESTAURANT.longitude,
        "customerLatitude": CUSTOMER.latitude,
        "customerLongitude": CUSTOMER.longitude,
        "preparationTime": 15,
        "radius": 5,
        "items": [{"name": "Pad Thai", "quantity": 1, "unitPrice": 34.97}],
        "totalAmount": 34.97,
        "specialInstructions": "Please deliver to front door",
    }
    message.update(changes)
    return message


def encode(message: object) -> bytes:
    return json.dumps(message).encode()


class Harness:
    """A handler over an in-memory index, a fixed clock and fresh metrics."""

    def __init__(self, drivers: Any = None) -> None:
        self.index = InMemoryDriverIndex()
        self.metrics = ServiceMetrics("assignment-test")
        assigner = Assigner(
            drivers if drivers is not None else self.index,
            ScoringWeights(),
            ConstantSpeedEta(),
            fixed_clock,
        )
        self.handler = RequestHandler.deciding(
            assigner, clock=fixed_clock, metrics=self.metrics, slow_ms=200.0
        )

    def handle(self, raw: bytes | None, key: str | None = "order_123") -> Outgoing:
        return self.handler.handle(raw, source_topic=SOURCE, key=key)


@pytest.fixture
def harness() -> Harness:
    return Harness()


def test_a_valid_request_assigns_the_nearest_suitable_driver(harness: Harness) -> None:
    harness.index.register("busy_closest", north(0.1), DriverStatus.BUSY)
    harness.index.register("offline_close", north(0.2), DriverStatus.OFFLINE)
    harness.index.register("near", north(0.8), DriverStatus.AVAILABLE)
    harness.index.register("far", north(3.5), DriverStatus.AVAILABLE)
    harness.index.register("out_of_area", north(9.0), DriverStatus.AVAILABLE)

    read_from = datetime.now(UTC)
    out = harness.handle(encode(request()))

    assert out.topic == "driver_assignment.responses"
    assert out.key == "order_123"
    # 0.8 km: 5 min to the restaurant; restaurant -> customer about 5.3 km: 11 min.
    assert out.payload == {
        "orderId": "order_123",
        "driverId": "near",
        "eta": 16,
        "assignedAt": "2024-01-15T10:30:05.000Z",
        "status": "assigned",
    }
    assert out.headers["swifteats-request-id"] == EVENT_ID
    # the pipeline's stamps are wall-clock instants; the body's assignedAt is the service's
    stamps = [parse_instant(out.headers[f"swifteats-{s}-at"]) for s in ("consumed", "decided")]
    assert read_from - timedelta(milliseconds=1) <= stamps[0] <= stamps[1]
    assert json.loads(out.value()) == out.payload
    near = harness.index.get("near")
    assert near is not None
    assert near.status is DriverStatus.BUSY
    assert near.order_id == "order_123"
    counts = harness.metrics.counts()
    assert counts["requests"] == 1
    assert counts["assigned"] == 1
    assert set(harness.metrics.latency_ms()) >= {"search", "scoring", "claim", "total"}


@pytest.mark.parametrize(
    "raw", [b"\xff\xfe not json", b"{orderId: order_123}", b"", b'{"orderId": "o"'], ids=repr
)
def test_undecodable_bytes_go_to_the_dlq_verbatim(harness: Harness, raw: bytes) -> None:
    out = harness.handle(raw, key="k1")
    assert out.topic == "driver_assignment.dlq"
    assert out.key == "k1"
    assert out.payload["reason"]
    assert out.payload["sourceTopic"] == SOURCE
    assert out.payload["failedAt"] == "2024-01-15T10:30:05.000Z"
    assert base64.b64decode(out.payload["originalBase64"]) == raw
    assert out.payload["original"] is None
    assert harness.metrics.counts()["dead_letters"] == 1


def test_a_record_without_value_goes_to_the_dlq(harness: Harness) -> None:
    out = harness.handle(None, key=None)
    assert out.topic == "driver_assignment.dlq"
    assert out.key == ""
    assert "no value" in out.payload["reason"]
    assert out.payload["originalBase64"] == ""


@pytest.mark.parametrize(
    "message",
    [{k: v for k, v in request().items() if k != "orderId"}, request(orderId=""), [1, 2], "x"],
    ids=["no orderId", "empty orderId", "array", "string"],
)
def test_json_without_an_order_id_goes_to_the_dlq(harness: Harness, message: object) -> None:
    raw = encode(message)
    out = harness.handle(raw)
    assert out.topic == "driver_assignment.dlq"
    assert out.payload["original"] == message
    assert base64.b64decode(out.payload["originalBase64"]) == raw
    assert out.payload["reason"]


@pytest.mark.parametrize(
    "changes",
    [{"restaurantLatitude": 91}, {"customerLongitude": "x"}, {"restaurantLongitude": None}],
    ids=repr,
)
def test_invalid_coordinates_get_a_failed_response(
    harness: Harness, changes: dict[str, Any]
) -> None:
    harness.index.register("near", north(0.5), DriverStatus.AVAILABLE)
    out = harness.handle(encode(request(**changes)))
    assert out.topic == "driver_assignment.responses"
    assert out.key == "order_123"
    assert out.payload == {
        "orderId": "order_123",
        "error": "Invalid coordinates",
        "failedAt": "2024-01-15T10:30:05.000Z",
        "status": "failed",
    }
    assert harness.index.count_available() == 1
    assert harness.metrics.counts()["failed:Invalid coordinates"] == 1


SYDNEY = Point(-33.8688, 151.2093)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        # The probe's request: any radius reached a driver on another continent.
        (
            {
                "restaurantLatitude": SYDNEY.latitude,
                "restaurantLongitude": SYDNEY.longitude,
                "radius": 1e9,
            },
            "Invalid field: radius must be at most 100",
        ),
        ({"customerLatitude": 85.06}, "Invalid coordinates"),
    ],
    ids=["radius", "customer latitude"],
)
def test_a_request_beyond_the_order_apis_limits_claims_nobody(
    harness: Harness, changes: dict[str, Any], error: str
) -> None:
    harness.index.register("near", north(0.5), DriverStatus.AVAILABLE)
    out = harness.handle(encode(request(**changes)))
    assert (out.payload["status"], out.payload["error"]) == ("failed", error)
    assert harness.index.count_available() == 1


def test_a_customer_no_driver_reaches_within_a_week_claims_nobody(harness: Harness) -> None:
    # 30 km/h: New York to Sydney is some 32,000 minutes, more than an answer may carry.
    harness.index.register("near", north(0.5), DriverStatus.AVAILABLE)
    out = harness.handle(
        encode(request(customerLatitude=SYDNEY.latitude, customerLongitude=SYDNEY.longitude))
    )
    assert out.payload["status"] == "failed"
    assert out.payload["error"] == "No driver can reach the customer within 10080 minutes"
    assert harness.index.count_available() == 1


def test_no_drivers_in_the_area(harness: Harness) -> None:
    harness.index.register("far_away", north(30.0), DriverStatus.AVAILABLE)
    out = harness.handle(encode(request()))
    assert out.topic == "driver_assignment.responses"
    assert out.payload["status"] == "failed"
    assert out.payload["error"] == "No available drivers in area"
    assert list(out.payload) == ["orderId", "error", "failedAt", "status"]
    assert out.headers["swifteats-request-id"] == EVENT_ID
    assert harness.index.count_available() == 1


def test_only_busy_drivers_nearby(harness: Harness) -> None:
    harness.index.register("busy", north(0.5), DriverStatus.BUSY)
    harness.index.register("offline", north(1.0), DriverStatus.OFFLINE)
    harness.index.register("free_but_far", north(30.0), DriverStatus.AVAILABLE)
    out = harness.handle(encode(request()))
    assert out.payload["status"] == "failed"
    assert out.payload["error"] == "All drivers busy"
    assert harness.metrics.counts()["failed:All drivers busy"] == 1


def test_the_same_request_twice_keeps_one_driver(harness: Harness) -> None:
    for i, km in enumerate((0.5, 1.0, 2.0)):
        harness.index.register(f"d{i}", north(km), DriverStatus.AVAILABLE)
    raw = encode(request())
    first = harness.handle(raw)
    second = harness.handle(raw)
    assert first.payload["status"] == second.payload["status"] == "assigned"
    assert first.payload["driverId"] == second.payload["driverId"] == "d0"
    assert first.payload["eta"] == second.payload["eta"]
    assert harness.index.count_available() == 2


class BrokenIndex(InMemoryDriverIndex):
    """An index whose store has gone away."""

    def search(self, center: Point, radius_km: float) -> list[Any]:
        raise ConnectionError("driver store unreachable")


def test_an_index_failure_becomes_an_internal_error_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = Harness(drivers=BrokenIndex())
    out = harness.handle(encode(request()))
    assert out.topic == "driver_assignment.responses"
    assert out.key == "order_123"
    assert out.payload["status"] == "failed"
    assert out.payload["error"] == "Internal error"
    assert out.headers["swifteats-request-id"] == EVENT_ID
    assert harness.metrics.counts()["failed:Internal error"] == 1
    assert any("order_123" in record.getMessage() for record in caplog.records)


# Messages that once made handle() raise, so the consumer re-read its batch forever.
POISON = {
    "huge integer latitude": encode(request()).replace(
        b'"restaurantLatitude": 40.7128', b'"restaurantLatitude": 1' + b"0" * 400
    ),
    "deeply nested JSON": b"[" * 100_000 + b"]" * 100_000,
    "occurredAt at the calendar's edge": encode(request(occurredAt="0001-01-01T00:00:00+01:00")),
}


def test_a_huge_integer_coordinate_gets_a_failed_response(harness: Harness) -> None:
    out = harness.handle(POISON["huge integer latitude"])
    assert out.topic == "driver_assignment.responses"
    assert out.payload["error"] == "Invalid coordinates"


def test_deeply_nested_json_goes_to_the_dlq(harness: Harness) -> None:
    raw = POISON["deeply nested JSON"]
    out = harness.handle(raw)
    assert out.topic == "driver_assignment.dlq"
    assert out.payload["original"] is None
    assert base64.b64decode(out.payload["originalBase64"]) == raw


def test_an_instant_beyond_the_calendar_gets_a_failed_response(harness: Harness) -> None:
    out = harness.handle(POISON["occurredAt at the calendar's edge"])
    assert out.topic == "driver_assignment.responses"
    assert out.payload["status"] == "failed"
    assert "occurredAt" in out.payload["error"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
request_like = st.fixed_dictionaries(
    {}, optional={key: json_values | st.just(value) for key, value in request().items()}
)


@given(st.binary(max_size=64) | request_like.map(encode) | json_values.map(encode))
def test_any_input_gives_one_response_or_dead_letter(raw: bytes) -> None:
    harness = Harness()
    harness.index.register("d", north(0.5), DriverStatus.AVAILABLE)
    out = harness.handle(raw)
    if out.topic == "driver_assignment.dlq":
        assert base64.b64decode(out.payload["originalBase64"]) == raw
    else:
        assert out.topic == "driver_assignment.responses"
        assert out.payload["status"] in {"assigned", "failed"}
        assert out.key == out.payload["orderId"]
    json.loads(out.value())
