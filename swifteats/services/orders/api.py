"""HTTP routes of the Order Service."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from swifteats.domain.clock import Clock
from swifteats.domain.drivers import RouteStops
from swifteats.domain.events import format_instant
from swifteats.domain.order_store import (
    DuplicateOrderError,
    OrderNotFoundError,
    StoreUnavailableError,
)
from swifteats.domain.orders import InvalidTransitionError, OrderRecord
from swifteats.domain.ratelimit import (
    RateLimiter,
    RateLimiterUnavailableError,
    retry_after_seconds,
)
from swifteats.services.http import (
    HttpSecurity,
    Observable,
    StorableId,
    observability_routes,
    routes_json,
)
from swifteats.services.orders.admission import Admission, ShedOrders
from swifteats.services.orders.clock_events import (
    MAX_CLOCK_EVENTS,
    ClockEvent,
    apply_events,
    lookup_routes,
)
from swifteats.services.orders.core import ClockReport, OrderCore, PaymentDeclinedError
from swifteats.services.orders.models import ClockOut, OrderOut, refusals
from swifteats.services.orders.schemas import OrderIn

log = logging.getLogger("swifteats.orders")

_TIMESTAMPS = {
    "placedAt": "created_at",
    "acceptedAt": "accepted_at",
    "requestPublishedAt": "request_published_at",
    "requestConsumedAt": "request_consumed_at",
    "decidedAt": "decided_at",
    "responseConsumedAt": "response_consumed_at",
    "pickedUpAt": "picked_up_at",
    "deliveredAt": "delivered_at",
    "failedAt": "failed_at",
    "updatedAt": "updated_at",
    "nextAttemptAt": "next_attempt_at",
}

_MOVES = refusals(404, 409, 503)
"""A move along the order's lifecycle: unknown order, forbidden move, database down."""

CLOCK_WAIT_S = 30.0
"""How long ``PUT /clock`` waits for ``afterResponses`` before answering 504."""


class OrderRuntime(Observable, Protocol):
    """What the routes need of the running service."""

    core: OrderCore
    wall: Clock
    """The wall clock, for latency metrics and rate limits."""
    order_limiter: RateLimiter | None
    """Orders per customer; None: unlimited."""

    @property
    def admission(self) -> Admission | None:
        """Sheds new orders while the pipeline is behind; None: every order is let in."""
        ...


class ClockIn(BaseModel):
    """The instant a simulated clock moves to, once enough answers were handled."""

    now: AwareDatetime
    after_responses: int = Field(0, ge=0, alias="afterResponses")
    """Wait until the service has handled this many response records in total."""
    events: list[ClockEvent] = Field(default_factory=list, max_length=MAX_CLOCK_EVENTS)
    """What happened until ``now``, each applied at its instant (``clock_events``)."""
    routes_of: list[StorableId] = Field(
        default_factory=list, alias="routesOf", max_length=MAX_CLOCK_EVENTS
    )
    """Drivers whose routes to report once the events are applied (a drop-off may have
    started a driver's queued route)."""
    routes_of_assigned: bool = Field(False, alias="routesOfAssigned")
    """Also report the routes of the drivers of the answers this call reports applied as
    assigned (a windowed policy's routes, read once the answers are in)."""


def order_json(order: OrderRecord) -> dict[str, Any]:
    """An order as the API shows it."""
    placed = order.order
    return {
        "orderId": placed.order_id,
        "customerId": placed.customer_id,
        "restaurantId": placed.restaurant_id,
        "status": order.status.value,
        "driverId": order.driver_id,
        "eta": order.eta_minutes,
        "attempts": order.attempts,
        "lastError": order.last_error,
        "totalAmount": placed.total_amount,
        "preparationTime": placed.preparation_time,
        "items": [item.to_wire() for item in placed.items],
        "restaurantLocation": {
            "latitude": placed.restaurant.latitude,
            "longitude": placed.restaurant.longitude,
        },
        "customerLocation": {
            "latitude": placed.customer.latitude,
            "longitude": placed.customer.longitude,
        },
        "timestamps": {
            name: _instant(getattr(order, field)) for name, field in _TIMESTAMPS.items()
        },
    }


def clock_json(
    report: ClockReport,
    events: list[dict[str, Any]],
    routes: dict[str, RouteStops],
) -> dict[str, Any]:
    """The answer of ``PUT /clock``; ``events``: the status of each event it carried;
    ``routes``: those of the drivers it named."""
    return {
        "events": events,
        "routes": routes_json(routes),
        "now": format_instant(report.now),
        "requestsPublished": report.requests_published,
        "nextDueAt": _instant(report.next_due_at),
        "applied": [
            {
                "orderId": answer.order_id,
                "outcome": answer.outcome,
                "driverId": answer.driver_id,
                "eta": answer.eta,
                "error": answer.error,
                "attempt": answer.attempt,
            }
            for answer in report.applied
        ],
    }


def build_api(runtime: OrderRuntime, security: HttpSecurity) -> FastAPI:
    """The FastAPI application of the Order Service."""
    app = security.app("swifteats Order Service")
    api = security.router(tags=["orders"])
    core = runtime.core

    @app.exception_handler(StoreUnavailableError)
    def store_unavailable(_: Request, error: Exception) -> JSONResponse:
        # The client sends the same order again; 409 then says it was stored after all.
        log.warning("database unavailable: %s", error)
        return JSONResponse(
            {"detail": "database unavailable; send the order again (409: it was stored)"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    if runtime.admission is not None:
        app.add_middleware(ShedOrders, admission=runtime.admission)

    @api.post(
        "/orders",
        status_code=201,
        response_model=OrderOut,
        responses=refusals(402, 409, 413, 429, 503),
    )
    def create_order(body: OrderIn) -> Response:  # the body is order_json, unchecked: fast
        started = runtime.wall()
        _within_rate_limit(runtime, body.customer_id)
        new = body.to_new_order()
        try:
            order = core.place(new, accepted_at=started)
        except PaymentDeclinedError as declined:
            raise HTTPException(402, str(declined)) from None
        except DuplicateOrderError:
            raise HTTPException(409, f"order {new.order_id!r} exists already") from None
        if runtime.admission is not None:
            runtime.admission.accepted()
        runtime.metrics.observe("http_accept", (runtime.wall() - started).total_seconds())
        return JSONResponse(order_json(order), status_code=201)

    @api.put("/clock", response_model=ClockOut, responses=refusals(404))
    def set_clock(body: ClockIn) -> dict[str, Any]:
        if not core.simulated:
            raise HTTPException(404, "this service runs on the wall clock")
        if not core.wait_for_responses(body.after_responses, timeout_s=CLOCK_WAIT_S):
            raise HTTPException(
                504,
                f"{core.responses_handled} responses handled, {body.after_responses} awaited",
            )
        results = []
        if body.events:
            results = apply_events(core, body.events, body.now)
        report = core.advance_clock(body.now)
        drivers = list(body.routes_of)
        if body.routes_of_assigned:
            drivers += [
                a.driver_id for a in report.applied if a.outcome == "assigned" and a.driver_id
            ]
        return clock_json(report, results, core.driver_routes(list(dict.fromkeys(drivers))))

    @api.get("/orders/{order_id}", response_model=OrderOut, responses=refusals(404, 503))
    def get_order(order_id: StorableId) -> dict[str, Any]:
        return order_json(_found(core.get, order_id))

    @api.post("/orders/{order_id}/picked-up", response_model=OrderOut, responses=_MOVES)
    def picked_up(order_id: StorableId) -> dict[str, Any]:
        return order_json(_found(core.picked_up, order_id))

    @api.post("/orders/{order_id}/delivered", response_model=OrderOut, responses=_MOVES)
    def delivered(order_id: StorableId) -> dict[str, Any]:
        return order_json(_found(core.delivered, order_id))

    app.include_router(lookup_routes(core, security, order_json))
    app.include_router(api)
    app.include_router(observability_routes("order-service", runtime, security))
    return app


def _within_rate_limit(runtime: OrderRuntime, customer_id: str) -> None:
    """Take one of the customer's tokens, or refuse with 429 and Retry-After.

    A limiter that cannot answer lets the order in (an outage of Redis must not stop
    orders); the metric ``rate_limit_unavailable`` counts those.
    """
    if runtime.order_limiter is None:
        return
    try:
        taken = runtime.order_limiter.take(f"orders:{customer_id}", now=runtime.wall())
    except RateLimiterUnavailableError as error:
        runtime.metrics.count("rate_limit_unavailable")
        log.warning("rate limiter unavailable, order let in: %s", error)
        return
    if not taken.allowed:
        runtime.metrics.count("orders_rate_limited")
        wait = retry_after_seconds(taken)
        raise HTTPException(
            429,
            f"customer {customer_id!r} placed too many orders lately; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def _found(action: Callable[[str], OrderRecord], order_id: str) -> OrderRecord:
    """``action(order_id)``: 404 for an unknown order, 409 for a move the lifecycle forbids."""
    try:
        return action(order_id)
    except OrderNotFoundError:
        raise HTTPException(404, f"order {order_id!r} does not exist") from None
    except InvalidTransitionError as error:
        raise HTTPException(409, str(error)) from None


def _instant(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment else None
