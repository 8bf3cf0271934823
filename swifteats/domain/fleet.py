"""The fleet model: how long a driver takes from assignment to a free driver at the door.

Times are minutes on the replay's clock. The convention is the MDRP evaluator's:
pickup = max(ready, arrival at the restaurant + half the pickup service), departure
= pickup + the other half; drop-off = arrival at the customer + half the drop-off
service, and the driver is free after the other half.
"""

from __future__ import annotations

from dataclasses import dataclass

from swifteats.domain.eta import EtaModel
from swifteats.domain.geo import Point


@dataclass(frozen=True, slots=True)
class ServiceTimes:
    """Minutes spent at the restaurant and at the customer's door."""

    pickup_minutes: float = 4.0
    dropoff_minutes: float = 4.0


@dataclass(frozen=True, slots=True)
class Trip:
    """One driver's timeline for one order, from assignment to free again."""

    driver_id: str
    order_id: str
    origin: Point
    assigned_at: float
    arrive_restaurant: float
    pickup: float
    depart_restaurant: float
    arrive_customer: float
    dropoff: float
    free_at: float


def plan_trip(
    *,
    driver_id: str,
    order_id: str,
    now: float,
    driver_at: Point,
    restaurant: Point,
    customer: Point,
    ready_at: float,
    eta: EtaModel,
    service: ServiceTimes,
) -> Trip:
    """The trip of a driver at ``driver_at`` given an order at ``now``."""
    half_pickup, half_dropoff = service.pickup_minutes / 2, service.dropoff_minutes / 2
    arrive_restaurant = now + eta.travel_minutes(driver_at, restaurant)
    pickup = max(ready_at, arrive_restaurant + half_pickup)
    depart = pickup + half_pickup
    arrive_customer = depart + eta.travel_minutes(restaurant, customer)
    dropoff = arrive_customer + half_dropoff
    return Trip(
        driver_id,
        order_id,
        driver_at,
        now,
        arrive_restaurant,
        pickup,
        depart,
        arrive_customer,
        dropoff,
        dropoff + half_dropoff,
    )
