"""What the services refuse up front, and what one bad driver record may not break, against
the real services (PostgreSQL, Redis, a private broker)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis

from swifteats.check_flow import RESTAURANT, sample_order
from swifteats.client import SwiftEatsClient
from tests.integration.helpers import Deployment

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

NEAR = (RESTAURANT[0] + 0.002, RESTAURANT[1])


def post_driver(client: SwiftEatsClient, **changes: Any) -> httpx.Response:
    body = {"driverId": "d-x", "latitude": 48.8566, "longitude": 2.3522} | changes
    return httpx.post(client.assignment_url + "/drivers", json=body)


def post_order(client: SwiftEatsClient, **changes: Any) -> httpx.Response:
    return httpx.post(client.orders_url + "/orders", json=sample_order() | changes)


@pytest.mark.parametrize("ends", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"])
def test_a_shift_end_out_of_range_is_refused_and_nothing_is_stored(
    client: SwiftEatsClient, ends: str
) -> None:
    response = post_driver(client, shiftEndsAt=ends)

    assert response.status_code == 422, response.text  # was a 500, the driver stored anyway
    assert "shiftEndsAt" in response.text
    assert httpx.get(client.assignment_url + "/drivers/d-x").status_code == 404
    assert client.nearby_drivers(48.8566, 2.3522, 5) == []


def test_an_unreadable_driver_record_leaves_the_area_working(
    client: SwiftEatsClient, deployment: Deployment
) -> None:
    prefix = deployment.env["SWIFTEATS_REDIS_PREFIX"]
    client.register_driver("d-good", *NEAR)
    with redis.Redis(
        host=deployment.env["REDIS_HOST"], port=int(deployment.env["REDIS_PORT"])
    ) as db:
        db.geoadd(f"{prefix}:drivers:geo", (RESTAURANT[1], RESTAURANT[0], "d-bad"))
        db.hset(f"{prefix}:drivers:status", "d-bad", "available")
        db.hset(f"{prefix}:drivers:shift_end", "d-bad", "-62135600400")  # year 0

    nearby = client.nearby_drivers(*RESTAURANT, 5)
    bad = httpx.get(client.assignment_url + "/drivers/d-bad")
    placed = client.place_order(sample_order())
    order = client.wait_for_order(
        placed["orderId"], {"assigned_driver", "assignment_failed"}, timeout_s=60
    )

    assert [d["driverId"] for d in nearby] == ["d-good"]
    assert bad.status_code == 409
    assert "d-bad" in bad.json()["detail"] and "cannot be read" in bad.json()["detail"]
    assert (order["status"], order["driverId"], order["attempts"]) == (
        "assigned_driver",
        "d-good",
        1,
    )


def test_coerced_values_slashed_ids_and_unsearchable_latitudes_get_422(
    client: SwiftEatsClient,
) -> None:
    item = {"name": "Margherita pizza", "quantity": True, "unitPrice": 34.95}
    orders = {
        "boolean quantity": post_order(client, items=[item]),
        "number in a string": post_order(client, preparationTime="15"),
        "slashed order id": post_order(client, orderId="o/1"),
        "slashed customer id": post_order(client, customerId="c/1"),
        "restaurant at 89°": post_order(
            client, restaurantLocation={"latitude": 89.0, "longitude": 0.0}
        ),
        "customer at -86°": post_order(
            client, customerLocation={"latitude": -86.0, "longitude": 0.0}
        ),
    }
    drivers = {
        "boolean latitude": post_driver(client, latitude=True),
        "longitude in a string": post_driver(client, longitude="2.3522"),
        "slashed driver id": post_driver(client, driverId="d/1"),
        "driver at 89°": post_driver(client, latitude=89.0),
    }

    statuses = {name: r.status_code for name, r in (orders | drivers).items()}
    assert statuses == dict.fromkeys(statuses, 422)
    assert "Redis" in orders["restaurant at 89°"].text
    assert client.order_stats()["orders"] == 0
    assert client.nearby_drivers(48.8566, 2.3522, 5) == []


def test_ids_of_the_whole_alphabet_go_through_every_endpoint(client: SwiftEatsClient) -> None:
    driver_id, order_id = "D:1.a-b_c", "O:1.a-b_c"
    client.register_driver(driver_id, *NEAR)
    client.place_order(sample_order() | {"orderId": order_id})
    order = client.wait_for_order(order_id, {"assigned_driver"}, timeout_s=60)
    assert order["driverId"] == driver_id

    client.pick_up(order_id)
    client.deliver(order_id)

    assert client.get_order(order_id)["status"] == "delivered"
    assert client.get_driver(driver_id)["status"] == "available"
