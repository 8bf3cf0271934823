"""What the Order Service answers, as models for its OpenAPI document: an order, the
answer of ``PUT /clock`` and the body of every refusal."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from swifteats.domain.orders import OrderStatus
from swifteats.services.http import RouteStop
from swifteats.services.orders.schemas import EXAMPLE_ORDER

WireMoney = Annotated[Decimal, PlainSerializer(float, return_type=float)]
"""An amount, sent as a JSON number as the design's messages carry it."""


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class Problem(BaseModel):
    """Why a request was refused."""

    detail: Any = Field(description="the reason, in words (422: FastAPI's list of errors)")


class LocationOut(_Out):
    """A position in decimal degrees."""

    latitude: float
    longitude: float


class ItemOut(_Out):
    """One line of the order."""

    name: str
    quantity: int
    unit_price: WireMoney = Field(alias="unitPrice")


class OrderTimestamps(_Out):
    """When the order went through each stage (ISO-8601 UTC; null: not yet)."""

    placed_at: str | None = Field(alias="placedAt")
    accepted_at: str | None = Field(alias="acceptedAt")
    request_published_at: str | None = Field(alias="requestPublishedAt")
    request_consumed_at: str | None = Field(alias="requestConsumedAt")
    decided_at: str | None = Field(alias="decidedAt")
    response_consumed_at: str | None = Field(alias="responseConsumedAt")
    picked_up_at: str | None = Field(alias="pickedUpAt")
    delivered_at: str | None = Field(alias="deliveredAt")
    failed_at: str | None = Field(alias="failedAt")
    updated_at: str | None = Field(alias="updatedAt")
    next_attempt_at: str | None = Field(alias="nextAttemptAt")


_PLACED, _ASSIGNED = "2024-01-15T10:30:00.000Z", "2024-01-15T10:30:05.000Z"
EXAMPLE_ANSWER: dict[str, Any] = {
    **{k: v for k, v in EXAMPLE_ORDER.items() if k not in ("specialInstructions", "radius")},
    "status": "assigned_driver",
    "driverId": "driver_456",
    "eta": 25,
    "attempts": 1,
    "lastError": None,
    "timestamps": {
        "placedAt": _PLACED,
        "acceptedAt": _PLACED,
        "requestPublishedAt": _PLACED,
        "requestConsumedAt": _PLACED,
        "decidedAt": _ASSIGNED,
        "responseConsumedAt": _ASSIGNED,
        "pickedUpAt": None,
        "deliveredAt": None,
        "failedAt": None,
        "updatedAt": _ASSIGNED,
        "nextAttemptAt": None,
    },
}
"""The design's example order once assigned (the OpenAPI document leaves out its nulls)."""


class OrderOut(_Out):
    """An order as the service holds it."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ANSWER]})

    order_id: str = Field(alias="orderId")
    customer_id: str = Field(alias="customerId")
    restaurant_id: str = Field(alias="restaurantId")
    status: OrderStatus
    driver_id: str | None = Field(alias="driverId")
    eta: int | None = Field(description="minutes until delivery, from the assignment")
    attempts: int = Field(description="assignment attempts so far, the first included")
    last_error: str | None = Field(alias="lastError")
    total_amount: WireMoney = Field(alias="totalAmount")
    preparation_time: float = Field(alias="preparationTime")
    items: list[ItemOut]
    restaurant_location: LocationOut = Field(alias="restaurantLocation")
    customer_location: LocationOut = Field(alias="customerLocation")
    timestamps: OrderTimestamps


class AppliedAnswer(_Out):
    """An assignment answer applied while the simulated clock moved."""

    order_id: str = Field(alias="orderId")
    outcome: str
    driver_id: str | None = Field(alias="driverId")
    eta: int | None
    error: str | None
    attempt: int


class EventOutcome(BaseModel):
    """What one event carried by ``PUT /clock`` came to: its own route's status."""

    status: int
    detail: str | None = None


class ClockOut(_Out):
    """Where the simulated clock stands after ``PUT /clock``."""

    events: list[EventOutcome]
    routes: dict[str, list[RouteStop]]
    """The routes of the drivers named in ``routesOf``."""
    now: str
    requests_published: int = Field(alias="requestsPublished")
    next_due_at: str | None = Field(alias="nextDueAt")
    applied: list[AppliedAnswer]


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these refusal codes, each with its meaning."""
    return {code: {"model": Problem, "description": REFUSALS[code]} for code in codes}


REFUSALS: dict[int, str] = {
    402: "the payment was declined",
    404: "no such order",
    409: "the order exists already, or the lifecycle forbids the move",
    413: "the request body is too large",
    429: "the customer placed too many orders lately (see Retry-After)",
    503: (
        "overloaded or the database is unavailable: send again after Retry-After"
        " (a re-send of a stored order answers 409)"
    ),
}
