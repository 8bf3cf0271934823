"""HTTP routes of the Order Service."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from psycopg import OperationalError as DatabaseError
from psycopg_pool import PoolTimeout
from pydantic import AwareDatetime, BaseModel

from swifteats.adapters.postgres.orders import (
    DuplicateOrderError,
    OrderNotFoundError,
    OrderStore,
)
from swifteats.adapters.postgres.pool import Row
from swifteats.domain.clock import Clock
from swifteats.domain.events import format_instant
from swifteats.domain.orders import InvalidTransitionError, OrderStatus
from swifteats.domain.payment import PaymentProvider
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
)
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

_TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"description": "the customer placed too many orders lately (see Retry-After)"}
}


class OrderRuntime(Observable, Protocol):
    """What the routes need of the running service."""

    store: OrderStore
    payments: PaymentProvider
    clock: Clock
    """The order's business time (simulated in a replay)."""
    wall: Clock
    """The wall clock, for pipeline timestamps, latency metrics and rate limits."""
    order_limiter: RateLimiter | None
    """Orders per customer; None: unlimited."""

    def order_placed(self) -> None:
        """Tell the relay a new outbox row is waiting."""
        ...

    def delivered(self, order: Row) -> None:
        """Free the order's driver at the customer's door."""
        ...

    def set_clock(self, instant: datetime) -> bool:
        """Move a simulated clock; False when the service runs on the wall clock."""
        ...


class ClockIn(BaseModel):
    """The instant a simulated clock moves to."""

    now: AwareDatetime


def order_json(row: Row) -> dict[str, Any]:
    """An order as the API shows it."""
    return {
        "orderId": row["id"],
        "customerId": row["customer_id"],
        "restaurantId": row["restaurant_id"],
        "status": row["status"],
        "driverId": row["driver_id"],
        "eta": row["eta_minutes"],
        "attempts": row["attempts"],
        "lastError": row["last_error"],
        "totalAmount": float(row["total_amount"]),
        "preparationTime": row["preparation_time"],
        "items": row["items"],
        "restaurantLocation": {
            "latitude": row["restaurant_latitude"],
            "longitude": row["restaurant_longitude"],
        },
        "customerLocation": {
            "latitude": row["customer_latitude"],
            "longitude": row["customer_longitude"],
        },
        "timestamps": {
            name: format_instant(row[column]) if row.get(column) else None
            for name, column in _TIMESTAMPS.items()
        },
    }


def build_api(runtime: OrderRuntime, security: HttpSecurity) -> FastAPI:
    """The FastAPI application of the Order Service."""
    app = security.app("swifteats Order Service")
    api = security.router(tags=["orders"])

    @app.exception_handler(DatabaseError)
    @app.exception_handler(PoolTimeout)
    def database_unavailable(_: Request, error: Exception) -> JSONResponse:
        # The client sends the same order again; 409 then says it was stored after all.
        log.warning("database unavailable: %r", error)
        return JSONResponse(
            {"detail": "database unavailable; send the order again (409: it was stored)"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @api.post("/orders", status_code=201, responses=_TOO_MANY)
    def create_order(body: OrderIn) -> Response:
        started = runtime.wall()
        _within_rate_limit(runtime, body.customer_id)
        order = body.to_new_order()
        payment = runtime.payments.charge(
            order_id=order.order_id, customer_id=order.customer_id, amount=order.total_amount
        )
        if not payment.approved:
            runtime.metrics.count("payments_declined")
            raise HTTPException(402, payment.reason)
        try:
            runtime.store.place(order, now=runtime.clock(), accepted_at=started)
        except DuplicateOrderError:
            raise HTTPException(409, f"order {order.order_id!r} exists already") from None
        runtime.order_placed()
        runtime.metrics.count("orders_placed")
        runtime.metrics.observe("http_accept", (runtime.wall() - started).total_seconds())
        return JSONResponse(order_json(runtime.store.get(order.order_id)), status_code=201)

    @api.put("/clock")
    def set_clock(body: ClockIn) -> dict[str, str]:
        if not runtime.set_clock(body.now):
            raise HTTPException(404, "this service runs on the wall clock")
        return {"now": format_instant(runtime.clock())}

    @api.get("/orders/{order_id}")
    def get_order(order_id: StorableId) -> dict[str, Any]:
        return order_json(_existing(runtime.store, order_id))

    @api.post("/orders/{order_id}/picked-up")
    def picked_up(order_id: StorableId) -> dict[str, Any]:
        return order_json(_advance(runtime, order_id, OrderStatus.PICKED_UP))

    @api.post("/orders/{order_id}/delivered")
    def delivered(order_id: StorableId) -> dict[str, Any]:
        row = _advance(runtime, order_id, OrderStatus.DELIVERED)
        runtime.delivered(row)
        return order_json(row)

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


def _existing(store: OrderStore, order_id: str) -> Row:
    try:
        return store.get(order_id)
    except OrderNotFoundError:
        raise HTTPException(404, f"order {order_id!r} does not exist") from None


def _advance(runtime: OrderRuntime, order_id: str, target: OrderStatus) -> Row:
    try:
        return runtime.store.advance(order_id, target, now=runtime.clock())
    except OrderNotFoundError:
        raise HTTPException(404, f"order {order_id!r} does not exist") from None
    except InvalidTransitionError as error:
        raise HTTPException(409, str(error)) from None
