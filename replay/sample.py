"""A seeded generator of a realistic small delivery day: ``swifteats generate-sample``.

Restaurants sit in a few neighbourhood clusters around an origin; orders follow a
lunch and a dinner peak; preparation times are right-skewed (median ~14 min);
customers live 0.5–4 km from the restaurant; drivers work lunch, dinner or long shifts
starting near a cluster.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from replay.inputs import DriverShift, LoggedOrder
from swifteats.domain.geo import Point

MENU = (
    ("Margherita pizza", 12.99),
    ("Pad thai", 13.5),
    ("Burrito bowl", 11.25),
    ("Chicken shawarma", 10.75),
    ("Sushi set", 18.0),
    ("Caesar salad", 9.5),
    ("Ramen", 14.25),
    ("Burger", 11.0),
    ("Fries", 3.99),
    ("Lemonade", 2.99),
)
CLUSTERS = ((0.0, 0.0), (0.025, -0.02), (-0.02, 0.018), (0.012, 0.03))
"""Cluster centres as (dlat, dlon) from the origin: about 2–3.5 km apart."""
PEAKS = ((12.5 * 60, 50.0, 0.45), (19.0 * 60, 70.0, 0.55))
"""(centre minute, spread minutes, share of orders) of the lunch and dinner peaks."""
SHIFTS = ((10.5 * 60, 14.5 * 60, 0.4), (16.5 * 60, 21.5 * 60, 0.3), (11 * 60, 21 * 60, 0.3))


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """Size and place of the generated day."""

    orders: int = 500
    drivers: int = 60
    restaurants: int = 40
    origin: Point = Point(40.7128, -74.0060)
    seed: int = 7


def generate_sample(spec: SampleSpec) -> tuple[list[LoggedOrder], list[DriverShift]]:
    """The day's orders (by placement time) and driver shifts, the same for the same spec."""
    rng = random.Random(spec.seed)  # noqa: S311 - a simulation, not cryptography
    restaurants = [
        _near(rng, spec.origin, CLUSTERS[i % len(CLUSTERS)], 0.006) for i in range(spec.restaurants)
    ]
    orders = sorted(
        (_order(rng, i, restaurants) for i in range(spec.orders)), key=lambda o: o.placed_at
    )
    drivers = [_shift(rng, i, spec.origin) for i in range(spec.drivers)]
    return orders, drivers


def _near(rng: random.Random, origin: Point, offset: tuple[float, float], spread: float) -> Point:
    return Point(
        round(origin.latitude + offset[0] + rng.gauss(0, spread), 6),
        round(origin.longitude + offset[1] + rng.gauss(0, spread), 6),
    )


def _order(rng: random.Random, index: int, restaurants: list[Point]) -> LoggedOrder:
    centre, spread, _ = rng.choices(PEAKS, weights=[p[2] for p in PEAKS])[0]
    placed = min(23 * 60.0, max(9 * 60.0, round(rng.gauss(centre, spread), 1)))
    prep = round(min(55.0, max(3.0, rng.lognormvariate(math.log(14), 0.45))), 1)
    rid = rng.randrange(len(restaurants))
    restaurant = restaurants[rid]
    distance_km, bearing = rng.uniform(0.5, 4.0), rng.uniform(0, 2 * math.pi)
    customer = Point(
        round(restaurant.latitude + distance_km * math.cos(bearing) / 111.32, 6),
        round(
            restaurant.longitude
            + distance_km
            * math.sin(bearing)
            / (111.32 * math.cos(math.radians(restaurant.latitude))),
            6,
        ),
    )
    picks = rng.sample(MENU, rng.randint(1, 3))
    items = tuple((name, rng.randint(1, 3), price) for name, price in picks)
    return LoggedOrder(
        order_id=f"s{index + 1:04d}",
        placed_at=placed,
        restaurant_id=f"r{rid + 1:03d}",
        restaurant=restaurant,
        customer=customer,
        ready_at=round(placed + prep, 1),
        customer_id=f"cust{rng.randrange(300):04d}",
        items=items,
        total_amount=round(sum(q * p for _, q, p in items), 2),
    )


def _shift(rng: random.Random, index: int, origin: Point) -> DriverShift:
    start, end, _ = rng.choices(SHIFTS, weights=[s[2] for s in SHIFTS])[0]
    return DriverShift(
        driver_id=f"d{index + 1:03d}",
        start=_near(rng, origin, CLUSTERS[index % len(CLUSTERS)], 0.01),
        shift_start=start + rng.choice((-15.0, 0.0, 15.0)),
        shift_end=end + rng.choice((-15.0, 0.0, 15.0)),
    )
