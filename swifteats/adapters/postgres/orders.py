"""Orders in PostgreSQL: placing an order with its outbox event, applying answers, lifecycle."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import Connection, errors
from psycopg_pool import ConnectionPool

from swifteats.adapters.postgres.pool import Row
from swifteats.domain.events import (
    AssignmentFailed,
    AssignmentRequested,
    AssignmentResponse,
    DriverAssigned,
    OrderItem,
)
from swifteats.domain.geo import Point
from swifteats.domain.orders import NewOrder, OrderStatus, require_transition
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.topics import DLQ_TOPIC, dead_letter, request_topic


class OrderNotFoundError(LookupError):
    """No order has this id."""


class DuplicateOrderError(ValueError):
    """An order with this id exists already."""


@dataclass(frozen=True, slots=True)
class ResponseContext:
    """What the consumer knows of a response besides its body."""

    request_id: str | None
    request_consumed_at: datetime | None
    consumed_at: datetime
    """The service's clock: business time (simulated in a replay)."""
    received_at: datetime | None = None
    """The wall clock, for the pipeline's stage timestamps (default: ``consumed_at``)."""

    @property
    def wall(self) -> datetime:
        """When the response was consumed, on the wall clock."""
        return self.received_at or self.consumed_at


def new_event_id() -> str:
    """A fresh event id (UUID4)."""
    return str(uuid.uuid4())


class OrderStore:
    """Reads and writes orders; every write that emits an event writes the outbox row too."""

    def __init__(self, pool: ConnectionPool[Connection[Row]], retry: RetryPolicy) -> None:
        self._pool = pool
        self._retry = retry

    def place(
        self, order: NewOrder, *, now: datetime, accepted_at: datetime | None = None
    ) -> AssignmentRequested:
        """Store the order as ``new_order`` and its AssignmentRequested in one transaction.

        ``now`` is the order's time; ``accepted_at`` the wall clock's (default ``now``).
        """
        request = _request_for(order, event_id=new_event_id(), occurred_at=now)
        params = {**_order_params(order, request, now), "accepted": accepted_at or now}
        with self._pool.connection() as conn, conn.transaction():
            try:
                conn.execute(_INSERT_ORDER, params)
            except errors.UniqueViolation:
                raise DuplicateOrderError(order.order_id) from None
            _enqueue(
                conn,
                request_topic(request.geo_key),
                order.order_id,
                request.to_wire(),
                headers={},
                available_at=now,
                now=now,
            )
        return request

    def get(self, order_id: str) -> Row:
        """The order row; raise :class:`OrderNotFoundError`."""
        with self._pool.connection() as conn:
            row = conn.execute(_SELECT_WITH_NEXT_ATTEMPT, (order_id,)).fetchone()
        if row is None:
            raise OrderNotFoundError(order_id)
        return row

    def apply_response(self, response: AssignmentResponse, context: ResponseContext) -> str:
        """Apply an answer once: ``assigned``, ``retry``, ``failed`` or ``stale`` (ignored)."""
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT * FROM orders WHERE id = %s FOR UPDATE", (response.order_id,)
            ).fetchone()
            if row is None:
                raise OrderNotFoundError(response.order_id)
            if row["status"] != OrderStatus.NEW_ORDER or not _answers_current(row, context):
                return "stale"
            if isinstance(response, DriverAssigned):
                _assign(conn, row, response, context)
                return "assigned"
            return self._fail_attempt(conn, row, response, context)

    def dead_letter(self, envelope: dict[str, Any], *, key: str, now: datetime) -> None:
        """Queue a message for the dead-letter topic."""
        with self._pool.connection() as conn, conn.transaction():
            _enqueue(conn, DLQ_TOPIC, key, envelope, headers={}, available_at=now, now=now)

    def advance(self, order_id: str, target: OrderStatus, *, now: datetime) -> Row:
        """Move an order to ``picked_up`` or ``delivered``; raise on a disallowed move."""
        column = {OrderStatus.PICKED_UP: "picked_up_at", OrderStatus.DELIVERED: "delivered_at"}
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT * FROM orders WHERE id = %s FOR UPDATE", (order_id,)
            ).fetchone()
            if row is None:
                raise OrderNotFoundError(order_id)
            if row["status"] == target:
                return row
            require_transition(OrderStatus(row["status"]), target)
            updated = conn.execute(
                f"UPDATE orders SET status = %s, {column[target]} = %s, updated_at = %s"  # noqa: S608
                " WHERE id = %s RETURNING *",
                (target.value, now, now, order_id),
            ).fetchone()
        assert updated is not None  # noqa: S101 - the row is locked above
        return updated

    def _fail_attempt(
        self, conn: Connection[Row], row: Row, response: AssignmentFailed, context: ResponseContext
    ) -> str:
        delay = self._retry.delay_after(row["attempts"])
        now = context.consumed_at
        if delay is None:
            _give_up(conn, row, response, context)
            return "failed"
        # The retry happens when it falls due: its time and the food's remaining
        # preparation are those of that moment, not of this failure.
        due = now + timedelta(seconds=delay)
        request = _request_for(
            _order_of(row),
            event_id=new_event_id(),
            occurred_at=due,
            elapsed=due - row["created_at"],
        )
        conn.execute(
            "UPDATE orders SET attempts = attempts + 1, current_request_id = %s, last_error = %s,"
            " request_consumed_at = %s, decided_at = %s, response_consumed_at = %s,"
            " updated_at = %s WHERE id = %s",
            (
                request.event_id,
                response.error,
                context.request_consumed_at,
                response.failed_at,
                context.wall,
                now,
                row["id"],
            ),
        )
        _enqueue(
            conn,
            request_topic(request.geo_key),
            row["id"],
            request.to_wire(),
            headers={},
            available_at=due,
            now=now,
        )
        return "retry"


def _answers_current(row: Row, context: ResponseContext) -> bool:
    """A response tagged with an older request's id is stale; untagged ones are taken."""
    return context.request_id is None or context.request_id == row["current_request_id"]


def _assign(
    conn: Connection[Row], row: Row, response: DriverAssigned, ctx: ResponseContext
) -> None:
    conn.execute(
        "UPDATE orders SET status = %s, driver_id = %s, eta_minutes = %s, decided_at = %s,"
        " request_consumed_at = %s, response_consumed_at = %s, updated_at = %s, last_error = NULL"
        " WHERE id = %s",
        (
            OrderStatus.ASSIGNED_DRIVER.value,
            response.driver_id,
            response.eta,
            response.assigned_at,
            ctx.request_consumed_at,
            ctx.wall,
            ctx.consumed_at,
            row["id"],
        ),
    )


def _give_up(
    conn: Connection[Row], row: Row, response: AssignmentFailed, ctx: ResponseContext
) -> None:
    now = ctx.consumed_at
    conn.execute(
        "UPDATE orders SET status = %s, last_error = %s, failed_at = %s, decided_at = %s,"
        " request_consumed_at = %s, response_consumed_at = %s, updated_at = %s WHERE id = %s",
        (
            OrderStatus.ASSIGNMENT_FAILED.value,
            response.error,
            now,
            response.failed_at,
            ctx.request_consumed_at,
            ctx.wall,
            now,
            row["id"],
        ),
    )
    request = _request_for(
        _order_of(row),
        event_id=row["current_request_id"],
        occurred_at=now,
        elapsed=now - row["created_at"],
    )
    reason = f"{response.error} after {row['attempts']} attempts"
    envelope = dead_letter(
        reason=reason,
        source_topic=request_topic(request.geo_key),
        raw=json.dumps(request.to_wire()).encode(),
        failed_at=now,
        order_id=row["id"],
    )
    _enqueue(conn, DLQ_TOPIC, row["id"], envelope, headers={}, available_at=now, now=now)


def _enqueue(
    conn: Connection[Row],
    topic: str,
    key: str,
    payload: dict[str, Any],
    *,
    headers: dict[str, str],
    available_at: datetime,
    now: datetime,
) -> None:
    conn.execute(
        "INSERT INTO outbox (topic, message_key, payload, headers, order_id, created_at,"
        " available_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (topic, key, json.dumps(payload), json.dumps(headers), key, now, available_at),
    )


def _request_for(
    order: NewOrder,
    *,
    event_id: str,
    occurred_at: datetime,
    elapsed: timedelta = timedelta(0),
) -> AssignmentRequested:
    """The request for ``order``; preparation time is what remains after ``elapsed``."""
    remaining = max(0.0, order.preparation_time - elapsed.total_seconds() / 60.0)
    preparation = remaining if elapsed else order.preparation_time
    return AssignmentRequested(
        event_id=event_id,
        occurred_at=occurred_at,
        order_id=order.order_id,
        restaurant=order.restaurant,
        customer=order.customer,
        preparation_time=round(preparation, 6),
        radius_km=order.radius_km,
        items=tuple(item.to_wire() for item in order.items),
        total_amount=order.total_amount,
        special_instructions=order.special_instructions,
    )


def _order_of(row: Row) -> NewOrder:
    return NewOrder(
        order_id=row["id"],
        customer_id=row["customer_id"],
        restaurant_id=row["restaurant_id"],
        restaurant=Point(row["restaurant_latitude"], row["restaurant_longitude"]),
        customer=Point(row["customer_latitude"], row["customer_longitude"]),
        items=tuple(OrderItem(i["name"], i["quantity"], i["unitPrice"]) for i in row["items"]),
        total_amount=float(row["total_amount"]),
        preparation_time=row["preparation_time"],
        special_instructions=row["special_instructions"],
        radius_km=row["radius_km"],
    )


def _order_params(order: NewOrder, request: AssignmentRequested, now: datetime) -> dict[str, Any]:
    return {
        "id": order.order_id,
        "customer_id": order.customer_id,
        "restaurant_id": order.restaurant_id,
        "rlat": order.restaurant.latitude,
        "rlon": order.restaurant.longitude,
        "clat": order.customer.latitude,
        "clon": order.customer.longitude,
        "items": json.dumps([item.to_wire() for item in order.items]),
        "total": order.total_amount,
        "prep": order.preparation_time,
        "notes": order.special_instructions,
        "radius": order.radius_km,
        "status": OrderStatus.NEW_ORDER.value,
        "request_id": request.event_id,
        "now": now,
    }


_SELECT_WITH_NEXT_ATTEMPT = """
SELECT o.*, (SELECT min(available_at) FROM outbox
             WHERE outbox.order_id = o.id AND sent_at IS NULL
               AND topic LIKE 'driver_assignment.requests.%%') AS next_attempt_at
FROM orders o WHERE o.id = %s
"""

_INSERT_ORDER = """
INSERT INTO orders (id, customer_id, restaurant_id, restaurant_latitude, restaurant_longitude,
    customer_latitude, customer_longitude, items, total_amount, preparation_time,
    special_instructions, radius_km, status, current_request_id, created_at, updated_at,
    accepted_at)
VALUES (%(id)s, %(customer_id)s, %(restaurant_id)s, %(rlat)s, %(rlon)s, %(clat)s, %(clon)s,
    %(items)s, %(total)s, %(prep)s, %(notes)s, %(radius)s, %(status)s, %(request_id)s,
    %(now)s, %(now)s, %(accepted)s)
"""
