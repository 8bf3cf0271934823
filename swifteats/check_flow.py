"""The design's "testing the communication": drivers, one order, its assignment through Kafka."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from swifteats.client import SwiftEatsClient

RESTAURANT = (40.7128, -74.0060)
"""The design's example restaurant (geo key ``4_-7``)."""
CUSTOMER = (40.7589, -73.9851)
DRIVER_OFFSETS = ((0.004, 0.003), (0.012, -0.010), (-0.020, 0.015))


@dataclass(frozen=True, slots=True)
class FlowResult:
    """The assigned order and how long placing → ``assigned_driver`` took."""

    order: dict[str, Any]
    drivers: list[str]
    placed_to_assigned_ms: float


def sample_order(customer_id: str = "customer_check_flow") -> dict[str, Any]:
    """The design's example order body."""
    return {
        "customerId": customer_id,
        "restaurantId": "restaurant_check_flow",
        "restaurantLocation": {"latitude": RESTAURANT[0], "longitude": RESTAURANT[1]},
        "customerLocation": {"latitude": CUSTOMER[0], "longitude": CUSTOMER[1]},
        "items": [
            {"name": "Margherita pizza", "quantity": 2, "unitPrice": 12.99},
            {"name": "Lemonade", "quantity": 3, "unitPrice": 2.99},
        ],
        "totalAmount": 34.95,
        "preparationTime": 15,
        "specialInstructions": "Please deliver to front door",
    }


def run_check_flow(client: SwiftEatsClient, *, timeout_s: float = 30.0) -> FlowResult:
    """Register drivers near the restaurant, place an order, wait for its driver, deliver it."""
    run = uuid.uuid4().hex[:6]
    drivers = [f"driver_{run}_{i}" for i in range(1, len(DRIVER_OFFSETS) + 1)]
    for driver_id, (dlat, dlon) in zip(drivers, DRIVER_OFFSETS, strict=True):
        client.register_driver(driver_id, RESTAURANT[0] + dlat, RESTAURANT[1] + dlon)
    started = time.perf_counter()
    placed = client.place_order(sample_order())
    order = client.wait_for_order(
        placed["orderId"], {"assigned_driver", "assignment_failed"}, timeout_s=timeout_s
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    if order["status"] == "assigned_driver":
        client.deliver(order["orderId"])
    for driver_id in drivers:
        client.set_driver_status(driver_id, "offline")
    return FlowResult(order, drivers, elapsed_ms)
