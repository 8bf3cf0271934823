"""The orders a load step posts: restaurants spread over the fleet's square, customers
0.5–6 km away, each order its own id and customer (no per-customer limit is hit)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from swifteats.bench.fleet import Area, near


@dataclass(slots=True)
class OrderMaker:
    """Makes request bodies for ``POST /orders`` in ``area``."""

    area: Area
    rng: random.Random
    radius_km: float

    def bodies(self, prefix: str, count: int) -> list[bytes]:
        """``count`` bodies with ids ``{prefix}0`` … ``{prefix}{count-1}``."""
        return [self.body(f"{prefix}{i}") for i in range(count)]

    def body(self, order_id: str) -> bytes:
        """One order's JSON body."""
        restaurant = self.area.point(self.rng, margin_km=self.radius_km)
        customer = near(restaurant, self.rng, low_km=0.5, high_km=6.0)
        price = round(self.rng.uniform(5.0, 40.0), 2)
        return json.dumps(
            {
                "orderId": order_id,
                "customerId": f"customer-{order_id}",
                "restaurantId": f"restaurant-{self.rng.randrange(500)}",
                "restaurantLocation": {
                    "latitude": restaurant.latitude,
                    "longitude": restaurant.longitude,
                },
                "customerLocation": {
                    "latitude": customer.latitude,
                    "longitude": customer.longitude,
                },
                "items": [{"name": "Meal", "quantity": 1, "unitPrice": price}],
                "totalAmount": price,
                "preparationTime": self.rng.choice((10, 15, 20, 25)),
                "radius": self.radius_km,
            },
            separators=(",", ":"),
        ).encode()
