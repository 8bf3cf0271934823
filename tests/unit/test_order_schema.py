"""Validation of the ``POST /orders`` body."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from swifteats.domain.events import OrderItem
from swifteats.domain.geo import Point
from swifteats.services.orders.schemas import OrderIn


def body(**changes: Any) -> dict[str, Any]:
    valid: dict[str, Any] = {
        "customerId": "cust_1",
        "restaurantId": "rest_1",
        "restaurantLocation": {"latitude": 40.7128, "longitude": -74.0060},
        "customerLocation": {"latitude": 40.7589, "longitude": -73.9851},
        "items": [
            {"name": "Pad Thai", "quantity": 2, "unitPrice": 12.99},
            {"name": "Spring rolls", "quantity": 1, "unitPrice": 8.99},
        ],
        "totalAmount": 34.97,
        "preparationTime": 15,
        "specialInstructions": "Please deliver to front door",
    }
    valid.update(copy.deepcopy(changes))
    return valid


def error_locs(raw: dict[str, Any]) -> list[tuple[int | str, ...]]:
    with pytest.raises(ValidationError) as caught:
        OrderIn.model_validate(raw)
    return [tuple(error["loc"]) for error in caught.value.errors()]


def test_a_valid_body_passes_and_maps_to_a_new_order() -> None:
    order = OrderIn.model_validate(body()).to_new_order()
    assert order.customer_id == "cust_1"
    assert order.restaurant_id == "rest_1"
    assert order.restaurant == Point(40.7128, -74.0060)
    assert order.customer == Point(40.7589, -73.9851)
    assert order.items == (OrderItem("Pad Thai", 2, 12.99), OrderItem("Spring rolls", 1, 8.99))
    assert order.total_amount == 34.97
    assert order.preparation_time == 15
    assert order.special_instructions == "Please deliver to front door"


def test_radius_defaults_to_5_km_and_can_be_given() -> None:
    assert OrderIn.model_validate(body()).to_new_order().radius_km == 5.0
    assert OrderIn.model_validate(body(radius=2.5)).to_new_order().radius_km == 2.5


def test_special_instructions_are_optional() -> None:
    raw = body()
    del raw["specialInstructions"]
    assert OrderIn.model_validate(raw).to_new_order().special_instructions == ""


def test_zero_latitude_and_longitude_are_valid() -> None:
    raw = body(
        restaurantLocation={"latitude": 0, "longitude": 0},
        customerLocation={"latitude": 0.0, "longitude": 0.0},
    )
    order = OrderIn.model_validate(raw).to_new_order()
    assert order.restaurant == Point(0.0, 0.0)
    assert order.customer == Point(0.0, 0.0)


def test_an_id_is_generated_when_none_is_given() -> None:
    first = OrderIn.model_validate(body()).to_new_order().order_id
    second = OrderIn.model_validate(body()).to_new_order().order_id
    assert first
    assert second
    assert first != second


def test_a_given_order_id_is_kept() -> None:
    assert OrderIn.model_validate(body(orderId="order_123")).to_new_order().order_id == "order_123"


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"items": []}, ("items",)),
        ({"items": [{"name": "x", "quantity": 1, "unitPrice": -1}]}, ("items", 0, "unitPrice")),
        ({"items": [{"name": "x", "quantity": 0, "unitPrice": 1}]}, ("items", 0, "quantity")),
        ({"items": [{"name": "", "quantity": 1, "unitPrice": 1}]}, ("items", 0, "name")),
        (
            {"restaurantLocation": {"latitude": 91, "longitude": 0}},
            ("restaurantLocation", "latitude"),
        ),
        (
            {"customerLocation": {"latitude": 0, "longitude": -180.5}},
            ("customerLocation", "longitude"),
        ),
        ({"preparationTime": -1}, ("preparationTime",)),
        ({"totalAmount": -5}, ("totalAmount",)),
        ({"radius": 0}, ("radius",)),
        ({"customerId": ""}, ("customerId",)),
        ({"coupon": "FREE"}, ("coupon",)),
        (
            {"restaurantLocation": {"latitude": 1, "longitude": 2, "altitude": 3}},
            ("restaurantLocation", "altitude"),
        ),
    ],
    ids=repr,
)
def test_invalid_fields_are_pointed_at(changes: dict[str, Any], loc: tuple[int | str, ...]) -> None:
    assert loc in error_locs(body(**changes))


@pytest.mark.parametrize(
    "missing", ["customerId", "restaurantId", "restaurantLocation", "items", "totalAmount"]
)
def test_missing_required_fields_are_pointed_at(missing: str) -> None:
    raw = body()
    del raw[missing]
    assert (missing,) in error_locs(raw)


def test_total_not_matching_items_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        OrderIn.model_validate(body(totalAmount=40.00))
    (error,) = caught.value.errors()
    # A whole-model rule: pydantic reports it at the body's root, naming the field in words.
    assert error["loc"] == ()
    assert "totalAmount" in error["msg"]
    assert "34.97" in error["msg"]


def test_total_is_rounded_to_cents() -> None:
    raw = body(items=[{"name": "x", "quantity": 3, "unitPrice": 0.1}], totalAmount=0.304)
    assert OrderIn.model_validate(raw).to_new_order().total_amount == 0.3


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        (
            {"items": [{"name": "x", "quantity": True, "unitPrice": 34.97}]},
            ("items", 0, "quantity"),
        ),
        ({"items": [{"name": "x", "quantity": "1", "unitPrice": 34.97}]}, ("items", 0, "quantity")),
        (
            {"items": [{"name": "x", "quantity": 1, "unitPrice": True}]},
            ("items", 0, "unitPrice"),
        ),
        (
            {"restaurantLocation": {"latitude": True, "longitude": 0}},
            ("restaurantLocation", "latitude"),
        ),
        (
            {"customerLocation": {"latitude": 40.7, "longitude": "-73.9"}},
            ("customerLocation", "longitude"),
        ),
        ({"totalAmount": True}, ("totalAmount",)),
        ({"preparationTime": True}, ("preparationTime",)),
        ({"radius": "5"}, ("radius",)),
    ],
    ids=repr,
)
def test_booleans_and_numbers_in_strings_are_not_coerced_but_money(
    changes: dict[str, Any], loc: tuple[int | str, ...]
) -> None:
    assert loc in error_locs(body(**changes))


@pytest.mark.parametrize(
    "written", [34.97, "34.97", " 34.97 ", "34.970", 34.965, "34.9650000001", 34.97000000000001]
)
def test_money_is_a_decimal_number_or_string_rounded_to_the_cent(written: Any) -> None:
    order = OrderIn.model_validate(body(totalAmount=written))
    assert order.total_amount == Decimal("34.97")
    assert order.to_new_order().total_amount == 34.97


@pytest.mark.parametrize("written", ["34,97", "", "0x22", "NaN", "Infinity", "-0.01", [34.97]])
def test_money_that_is_no_decimal_or_negative_is_refused(written: Any) -> None:
    assert ("totalAmount",) in error_locs(body(totalAmount=written))


def test_integers_are_numbers_where_a_float_is_expected() -> None:
    raw = body(
        items=[{"name": "x", "quantity": 2, "unitPrice": 5}],
        totalAmount=10,
        preparationTime=15,
        radius=3,
        restaurantLocation={"latitude": 40, "longitude": -74},
    )
    order = OrderIn.model_validate(raw).to_new_order()
    assert (order.total_amount, order.radius_km, order.restaurant) == (10.0, 3.0, Point(40, -74))


BAD_IDS = ["a/b", "a b", "a?b", "a#b", "a%2F", ".", "..", ".a", "é", "a\n", "a" * 129, ""]
GOOD_IDS = [
    "order_123",
    "a",
    "A.b:c-d_e",
    "-3_15",
    "_a.",
    "5f0c7d1e-0000-4000-8000-000000000001",
    "a" * 128,
]


@pytest.mark.parametrize("field", ["orderId", "customerId", "restaurantId"])
@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_ids_outside_the_safe_alphabet_are_refused(field: str, bad: str) -> None:
    assert (field,) in error_locs(body(**{field: bad}))


@pytest.mark.parametrize("good", GOOD_IDS)
def test_ids_of_the_safe_alphabet_are_kept(good: str) -> None:
    raw = body(orderId=good, customerId=good, restaurantId=good)
    order = OrderIn.model_validate(raw).to_new_order()
    assert (order.order_id, order.customer_id, order.restaurant_id) == (good, good, good)


@pytest.mark.parametrize("place", ["restaurantLocation", "customerLocation"])
@pytest.mark.parametrize("latitude", [85.06, -89.0, 90])
def test_latitudes_redis_cannot_index_are_refused_saying_why(place: str, latitude: float) -> None:
    with pytest.raises(ValidationError) as caught:
        OrderIn.model_validate(body(**{place: {"latitude": latitude, "longitude": 0}}))
    (error,) = caught.value.errors()
    assert error["loc"] == (place, "latitude")
    assert "85.05112878" in error["msg"]
    assert "Redis" in error["msg"]


def test_the_last_searchable_latitude_is_accepted() -> None:
    raw = body(restaurantLocation={"latitude": -85.05112878, "longitude": 0})
    assert OrderIn.model_validate(raw).to_new_order().restaurant.latitude == -85.05112878
