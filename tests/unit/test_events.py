"""The design's messages on the wire: keys, order, formats and parsing of bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swifteats.domain.events import (
    MAX_RADIUS_KM,
    AssignmentFailed,
    AssignmentRequested,
    DriverAssigned,
    InvalidMessageError,
    format_instant,
    parse_assignment_requested,
    parse_assignment_response,
    parse_instant,
)
from swifteats.domain.geo import SEARCHABLE_LATITUDE, Point
from tests.design import FAILURE_KEYS, REQUEST_KEYS, SUCCESS_KEYS

INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

AT = datetime(2024, 1, 15, 10, 30, 0, tzinfo=UTC)
ITEMS = ({"name": "Pad Thai", "quantity": 2, "unitPrice": 12.99},)


def design_request() -> AssignmentRequested:
    """The design document's example request."""
    return AssignmentRequested(
        event_id="5f0c7d1e-0000-4000-8000-000000000001",
        occurred_at=AT,
        order_id="order_123",
        restaurant=Point(40.7128, -74.0060),
        customer=Point(40.7589, -73.9851),
        preparation_time=15.0,
        radius_km=5.0,
        items=ITEMS,
        total_amount=25.98,
        special_instructions="Please deliver to front door",
    )


def wire(**changes: Any) -> dict[str, Any]:
    """The design request as JSON-decoded wire data, with some fields changed or removed."""
    message = json.loads(json.dumps(design_request().to_wire()))
    for key, value in changes.items():
        if value is _DROP:
            message.pop(key, None)
        else:
            message[key] = value
    return message


_DROP = object()


def test_request_has_exactly_the_design_keys_in_order() -> None:
    assert list(design_request().to_wire()) == REQUEST_KEYS


def test_request_wire_values() -> None:
    message = design_request().to_wire()
    assert message["eventType"] == "AssignmentRequested"
    assert message["occurredAt"] == "2024-01-15T10:30:00.000Z"
    assert INSTANT.match(message["occurredAt"])
    assert message["geoKey"] == "4_-7"
    assert message["orderId"] == "order_123"
    assert (message["restaurantLatitude"], message["restaurantLongitude"]) == (40.7128, -74.0060)
    assert (message["customerLatitude"], message["customerLongitude"]) == (40.7589, -73.9851)
    assert message["preparationTime"] == 15
    assert message["radius"] == 5
    assert message["items"] == list(ITEMS)
    assert message["totalAmount"] == 25.98
    assert message["specialInstructions"] == "Please deliver to front door"
    json.dumps(message)  # serialisable as is


def test_success_response_has_exactly_the_design_keys() -> None:
    message = DriverAssigned("order_123", "driver_456", 25, AT + timedelta(seconds=5)).to_wire()
    assert list(message) == SUCCESS_KEYS
    assert message == {
        "orderId": "order_123",
        "driverId": "driver_456",
        "eta": 25,
        "assignedAt": "2024-01-15T10:30:05.000Z",
        "status": "assigned",
    }


def test_failure_response_has_exactly_the_design_keys() -> None:
    failed = AssignmentFailed(
        "order_123", "No available drivers in area", AT + timedelta(seconds=5)
    )
    message = failed.to_wire()
    assert list(message) == FAILURE_KEYS
    assert message == {
        "orderId": "order_123",
        "error": "No available drivers in area",
        "failedAt": "2024-01-15T10:30:05.000Z",
        "status": "failed",
    }


def test_request_round_trip_through_json() -> None:
    original = design_request()
    assert parse_assignment_requested(json.loads(json.dumps(original.to_wire()))) == original


@pytest.mark.parametrize(
    "changes",
    [
        {"restaurantLatitude": 91},
        {"restaurantLatitude": -90.5},
        {"restaurantLongitude": 180.01},
        {"customerLongitude": -181},
        {"restaurantLatitude": "40.7128"},
        {"customerLatitude": None},
        {"restaurantLatitude": True},
        {"restaurantLongitude": _DROP},
        {"customerLatitude": _DROP},
        {"customerLongitude": float("nan")},
        {"restaurantLatitude": float("inf")},
        {"restaurantLatitude": [40.7]},
    ],
    ids=repr,
)
def test_invalid_coordinates_are_reported_with_the_order_id(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(wire(**changes))
    assert caught.value.reason == "Invalid coordinates"
    assert caught.value.order_id == "order_123"


@pytest.mark.parametrize(
    "changes",
    [
        {"customerLatitude": 85.06},
        {"customerLatitude": -89.0},
        {"restaurantLatitude": -85.0512},
    ],
    ids=repr,
)
def test_a_latitude_redis_cannot_index_is_invalid(changes: dict[str, Any]) -> None:
    # The driver is freed at the customer's door: Redis GEO must be able to hold it.
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(wire(**changes))
    assert (caught.value.reason, caught.value.order_id) == ("Invalid coordinates", "order_123")


@pytest.mark.parametrize("radius", [1e9, MAX_RADIUS_KM + 0.001])
def test_a_radius_beyond_the_order_apis_is_invalid(radius: float) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(wire(radius=radius))
    assert caught.value.reason == f"Invalid field: radius must be at most {MAX_RADIUS_KM:g}"
    assert caught.value.order_id == "order_123"


def test_a_request_at_every_limit_is_read() -> None:
    request = parse_assignment_requested(
        wire(
            radius=MAX_RADIUS_KM,
            restaurantLatitude=SEARCHABLE_LATITUDE,
            restaurantLongitude=180,
            customerLatitude=-SEARCHABLE_LATITUDE,
            customerLongitude=-180,
        )
    )
    assert request.radius_km == MAX_RADIUS_KM
    assert request.customer == Point(-SEARCHABLE_LATITUDE, -180)


@pytest.mark.parametrize("order_id", [_DROP, None, "", 123])
def test_missing_order_id_gives_an_error_without_order_id(order_id: object) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(wire(orderId=order_id))
    assert caught.value.order_id is None
    assert "orderId" in caught.value.reason


@pytest.mark.parametrize("payload", [[], "order_123", 42, None])
def test_non_object_payload_is_rejected(payload: object) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(payload)
    assert caught.value.order_id is None


def test_missing_radius_defaults_to_5_km() -> None:
    assert parse_assignment_requested(wire(radius=_DROP)).radius_km == 5.0


def test_zero_coordinates_are_valid() -> None:
    request = parse_assignment_requested(
        wire(restaurantLatitude=0, restaurantLongitude=0, customerLatitude=0.0)
    )
    assert request.restaurant == Point(0.0, 0.0)
    assert request.customer.latitude == 0.0
    assert request.geo_key == "0_0"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"preparationTime": _DROP}, "preparationTime"),
        ({"preparationTime": -1}, "preparationTime"),
        ({"preparationTime": "15"}, "preparationTime"),
        ({"radius": -2}, "radius"),
        ({"radius": "5"}, "radius"),
        ({"totalAmount": -0.01}, "totalAmount"),
        ({"items": "pizza"}, "items"),
        ({"occurredAt": "yesterday"}, "occurredAt"),
        ({"occurredAt": "2024-01-15T10:30:00"}, "occurredAt"),
    ],
    ids=repr,
)
def test_other_bad_fields_are_named_in_the_reason(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(wire(**changes))
    assert field in caught.value.reason
    assert caught.value.order_id == "order_123"


@pytest.mark.parametrize(
    "response",
    [
        DriverAssigned("order_123", "driver_456", 25, AT),
        AssignmentFailed("order_123", "All drivers busy", AT + timedelta(milliseconds=7)),
    ],
    ids=["assigned", "failed"],
)
def test_response_round_trip(response: DriverAssigned | AssignmentFailed) -> None:
    assert parse_assignment_response(json.loads(json.dumps(response.to_wire()))) == response


def test_response_eta_is_rounded_up_to_whole_minutes() -> None:
    message = DriverAssigned("o", "d", 25, AT).to_wire() | {"eta": 12.2}
    parsed = parse_assignment_response(message)
    assert isinstance(parsed, DriverAssigned)
    assert parsed.eta == 13


@pytest.mark.parametrize("status", ["ok", "ASSIGNED", None, 1])
def test_response_with_a_bad_status_is_rejected(status: object) -> None:
    message = DriverAssigned("order_123", "d", 25, AT).to_wire() | {"status": status}
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_response(message)
    assert caught.value.order_id == "order_123"
    assert "status" in caught.value.reason


@pytest.mark.parametrize(
    "message",
    [
        {"orderId": "o", "status": "assigned", "eta": 5, "assignedAt": "2024-01-15T10:30:05.000Z"},
        {"orderId": "o", "status": "assigned", "driverId": "d", "assignedAt": "not a time"},
        {"orderId": "o", "status": "failed", "failedAt": "2024-01-15T10:30:05.000Z"},
        {"status": "failed", "error": "x", "failedAt": "2024-01-15T10:30:05.000Z"},
        ["not", "an", "object"],
    ],
)
def test_incomplete_responses_are_rejected(message: object) -> None:
    with pytest.raises(InvalidMessageError):
        parse_assignment_response(message)


@pytest.mark.parametrize(
    ("changes", "driver_id"),
    [
        ({"eta": 99_999}, "driver_456"),
        ({"assignedAt": "soon"}, "driver_456"),
        ({"driverId": "d\x00"}, None),
        ({"status": "ASSIGNED"}, None),
        ({"status": "failed"}, None),
    ],
    ids=repr,
)
def test_an_invalid_response_names_the_order_and_the_driver_it_claims(
    changes: dict[str, Any], driver_id: str | None
) -> None:
    message = DriverAssigned("order_123", "driver_456", 25, AT).to_wire() | changes
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_response(message)
    assert (caught.value.order_id, caught.value.driver_id) == ("order_123", driver_id)


def test_format_instant_matches_the_design_format() -> None:
    assert format_instant(datetime(2024, 1, 15, 10, 30, 0, 123456, tzinfo=UTC)) == (
        "2024-01-15T10:30:00.123Z"
    )
    plus_two = timezone(timedelta(hours=2))
    assert format_instant(datetime(2024, 1, 15, 12, 30, tzinfo=plus_two)) == (
        "2024-01-15T10:30:00.000Z"
    )


def test_parse_instant_reads_z_and_offsets_and_refuses_naive() -> None:
    assert parse_instant("2024-01-15T10:30:00.000Z") == AT
    assert parse_instant("2024-01-15T12:30:00+02:00") == AT
    assert parse_instant("2024-01-15T12:30:00+02:00").tzinfo == UTC
    with pytest.raises(ValueError, match="time zone"):
        parse_instant("2024-01-15T10:30:00")


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2),  # noqa: DTZ001 - bounds of an aware strategy
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=offsets,
)


@given(instants)
def test_instants_round_trip_to_the_millisecond(moment: datetime) -> None:
    text = format_instant(moment)
    assert INSTANT.match(text)
    back = parse_instant(text)
    assert back.tzinfo == UTC
    assert timedelta(0) <= moment - back < timedelta(milliseconds=1)
    assert back.microsecond % 1000 == 0


# Arbitrary JSON-like values; JSON integers can be far beyond float range.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**308, max_value=10**400)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["2024-01-15T10:30:00.000Z", "2024-01-15T10:30:00+05:00", "order_1"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
messages = st.dictionaries(st.sampled_from(REQUEST_KEYS), json_values) | st.fixed_dictionaries(
    {},
    optional={
        key: json_values | st.just(value) for key, value in design_request().to_wire().items()
    },
)


@given(messages | json_values)
def test_parsing_anything_raises_only_invalid_message_error(payload: object) -> None:
    try:
        request = parse_assignment_requested(payload)
    except InvalidMessageError as error:
        assert error.reason
        assert error.order_id is None or isinstance(error.order_id, str)
    else:
        assert isinstance(request, AssignmentRequested)
        assert -90 <= request.restaurant.latitude <= 90
        assert -180 <= request.customer.longitude <= 180


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("restaurantLatitude", "Invalid coordinates"),
        ("customerLongitude", "Invalid coordinates"),
        ("preparationTime", "Invalid field: preparationTime must be a number"),
        ("radius", "Invalid field: radius must be a number"),
    ],
)
def test_huge_integers_are_invalid_not_a_crash(field: str, reason: str) -> None:
    huge = json.loads("1" + "0" * 400)  # valid JSON, decoded as a Python int
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(wire(**{field: huge}))
    assert caught.value.reason == reason
    assert caught.value.order_id == "order_123"


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_out_of_range_instant_is_invalid_not_a_crash(instant: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(wire(occurredAt=instant))
    assert "occurredAt" in caught.value.reason
    assert caught.value.order_id == "order_123"


@pytest.mark.parametrize("order_id", ["a/b", "a b", "..", ".a", "é", "a\n", "a" * 129])
def test_an_order_id_outside_the_id_alphabet_is_invalid(order_id: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(wire(orderId=order_id))
    assert caught.value.order_id is None
    assert "orderId" in caught.value.reason
    with pytest.raises(InvalidMessageError, match="orderId"):
        parse_assignment_response(DriverAssigned(order_id, "d1", 5, AT).to_wire())


@pytest.mark.parametrize("driver_id", ["d/1", "d 1", "d\n"])
def test_a_driver_id_outside_the_id_alphabet_is_invalid(driver_id: str) -> None:
    with pytest.raises(InvalidMessageError, match="driverId"):
        parse_assignment_response(DriverAssigned("order_123", driver_id, 5, AT).to_wire())


@pytest.mark.parametrize("latitude", [85.06, -89.0])
def test_a_customer_redis_cannot_index_is_invalid_coordinates(latitude: float) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        parse_assignment_requested(wire(customerLatitude=latitude))
    assert caught.value.reason == "Invalid coordinates"
    assert caught.value.order_id == "order_123"
