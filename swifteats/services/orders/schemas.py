"""The body of ``POST /orders``, validated field by field.

Money is a decimal, as in the database (``numeric(12,2)``): a JSON number, as the
design's messages carry it, or a decimal string (``"34.97"``); never a boolean. The total
is rounded to the cent, half up, as PostgreSQL rounds it.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from swifteats.domain.events import DEFAULT_RADIUS_KM, MAX_RADIUS_KM, OrderItem
from swifteats.domain.geo import Point
from swifteats.domain.orders import NewOrder, items_total, total_matches
from swifteats.services.http import Latitude, Longitude, NewId, Storable

CENT = Decimal("0.01")


def _to_the_cent(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


Money = Annotated[Decimal, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
"""An amount as a JSON number or a decimal string."""
Total = Annotated[Money, AfterValidator(_to_the_cent)]

EXAMPLE_ORDER: dict[str, Any] = {
    "orderId": "order_123",
    "customerId": "customer_42",
    "restaurantId": "restaurant_7",
    "restaurantLocation": {"latitude": 40.7128, "longitude": -74.0060},
    "customerLocation": {"latitude": 40.7589, "longitude": -73.9851},
    "items": [
        {"name": "Pad Thai", "quantity": 2, "unitPrice": 12.99},
        {"name": "Spring rolls", "quantity": 1, "unitPrice": 8.99},
    ],
    "totalAmount": 34.97,
    "preparationTime": 15,
    "specialInstructions": "Please deliver to front door",
    "radius": 5,
}
"""The design's example order (its Assignment Request Message, as a customer posts it)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LocationIn(_Strict):
    """A position; 0 is a valid latitude or longitude."""

    latitude: Latitude
    longitude: Longitude

    def point(self) -> Point:
        """As a domain point."""
        return Point(self.latitude, self.longitude)


class ItemIn(_Strict):
    """One line of the order."""

    name: Annotated[str, Field(min_length=1, max_length=200), Storable]
    quantity: Annotated[int, Field(strict=True, ge=1, le=1000)]
    unit_price: Money = Field(alias="unitPrice")


class OrderIn(_Strict):
    """A customer's order as posted."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ORDER]})

    order_id: NewId | None = Field(None, alias="orderId")
    customer_id: NewId = Field(alias="customerId")
    restaurant_id: NewId = Field(alias="restaurantId")
    restaurant_location: LocationIn = Field(alias="restaurantLocation")
    customer_location: LocationIn = Field(alias="customerLocation")
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=200)]
    total_amount: Total = Field(alias="totalAmount")
    preparation_time: Annotated[
        float, Field(strict=True, ge=0, le=24 * 60, allow_inf_nan=False)
    ] = Field(alias="preparationTime")
    special_instructions: Annotated[str, Field(max_length=1000), Storable] = Field(
        "", alias="specialInstructions"
    )
    radius: Annotated[float, Field(strict=True, gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)] = (
        DEFAULT_RADIUS_KM
    )

    @model_validator(mode="after")
    def _total_matches_items(self) -> OrderIn:
        items = self.domain_items()
        if not total_matches(items, float(self.total_amount)):
            raise ValueError(
                f"totalAmount {self.total_amount:.2f} does not equal the items' sum "
                f"{items_total(items):.2f}"
            )
        return self

    def domain_items(self) -> tuple[OrderItem, ...]:
        """The items as domain values."""
        return tuple(OrderItem(i.name, i.quantity, float(i.unit_price)) for i in self.items)

    def to_new_order(self) -> NewOrder:
        """The order to store, with a fresh id unless the client gave one."""
        return NewOrder(
            order_id=self.order_id or f"order_{uuid.uuid4().hex[:16]}",
            customer_id=self.customer_id,
            restaurant_id=self.restaurant_id,
            restaurant=self.restaurant_location.point(),
            customer=self.customer_location.point(),
            items=self.domain_items(),
            total_amount=float(self.total_amount),
            preparation_time=self.preparation_time,
            special_instructions=self.special_instructions,
            radius_km=self.radius,
        )
