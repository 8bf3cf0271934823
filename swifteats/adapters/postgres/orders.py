"""Orders in PostgreSQL: each change and the outbox rows it emits in one transaction."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import Connection

from swifteats.adapters.postgres.pool import Pool, Row, connection
from swifteats.domain.events import OrderItem
from swifteats.domain.geo import Point
from swifteats.domain.order_rules import Enqueued, OrderChange
from swifteats.domain.order_store import Change, DuplicateOrderError, OrderNotFoundError
from swifteats.domain.orders import NewOrder, OrderRecord, OrderStatus


class PostgresOrderStore:
    """:class:`~swifteats.domain.order_store.OrderStore` on tables ``orders`` and ``outbox``.

    A change locks the order's row (``SELECT … FOR UPDATE``) while its rule runs.
    """

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._batch = threading.local()
        """``conn``: the connection of the calling thread's open :meth:`batch`, if any."""

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for the calls this thread makes in the block, committed at its
        end (rows they change stay locked until then); within an open batch, nothing."""
        if getattr(self._batch, "conn", None) is not None:
            yield
            return
        with connection(self._pool, transaction=True) as conn:
            self._batch.conn = conn
            try:
                yield
            finally:
                self._batch.conn = None

    @contextmanager
    def _connection(self, *, transaction: bool = True) -> Iterator[Connection[Row]]:
        """The open batch's connection, or one of the pool's (in a transaction if asked)."""
        batch: Connection[Row] | None = getattr(self._batch, "conn", None)
        if batch is not None:
            yield batch
            return
        with connection(self._pool, transaction=transaction) as conn:
            yield conn

    def add(self, change: OrderChange) -> None:
        """Insert the order and its outbox rows in one transaction (an existing id is
        refused without failing it: a batch goes on)."""
        with self._connection() as conn:
            if conn.execute(_INSERT_ORDER, _insert_params(change.order)).rowcount == 0:
                raise DuplicateOrderError(change.order.order_id)
            enqueue(conn, change.messages)

    def get(self, order_id: str) -> OrderRecord:
        """The order with the due time of its next unsent request."""
        with self._connection(transaction=False) as conn:
            row = conn.execute(_SELECT_WITH_NEXT_ATTEMPT, (order_id,)).fetchone()
        if row is None:
            raise OrderNotFoundError(order_id)
        return record_of(row)

    def get_many(self, order_ids: Sequence[str]) -> list[OrderRecord]:
        """The orders known among these (one query), in the order named."""
        with self._connection(transaction=False) as conn:
            rows = conn.execute(_SELECT_MANY, (list(order_ids),)).fetchall()
        found = {row["id"]: record_of(row) for row in rows}
        return [found[i] for i in order_ids if i in found]

    def change(self, order_id: str, rule: Callable[[OrderRecord], Change]) -> Change:
        """Lock the row, run ``rule``, write its order and messages, commit."""
        with self._connection() as conn:
            found = conn.execute(_SELECT_FOR_UPDATE, (order_id,)).fetchone()
            if found is None:
                raise OrderNotFoundError(order_id)
            result = rule(record_of(found))
            if result.written:
                conn.execute(_UPDATE_ORDER, _update_params(result.order))
            enqueue(conn, result.messages)
        return result

    def change_many(
        self, changes: Sequence[tuple[str, Callable[[OrderRecord], Change]]]
    ) -> list[Change | None]:
        """Lock every row (one SELECT, in id order), run the rules in turn, write the
        orders and messages (one batch each), commit once."""
        ids = sorted({order_id for order_id, _ in changes})
        with self._connection() as conn:
            rows = conn.execute(_SELECT_MANY_FOR_UPDATE, (ids,)).fetchall()
            current = {row["id"]: record_of(row) for row in rows}
            written: dict[str, OrderRecord] = {}
            results: list[Change | None] = []
            for order_id, rule in changes:
                order = current.get(order_id)
                if order is None:
                    results.append(None)
                    continue
                result = rule(order)
                if result.written:
                    current[order_id] = written[order_id] = result.order
                results.append(result)
            if written:
                with conn.cursor() as cursor:
                    cursor.executemany(_UPDATE_ORDER, [_update_params(o) for o in written.values()])
            enqueue(conn, tuple(m for r in results if r is not None for m in r.messages))
        return results

    def enqueue(self, message: Enqueued) -> None:
        """Insert one outbox row."""
        with self._connection() as conn:
            enqueue(conn, (message,))


def enqueue(conn: Connection[Row], messages: tuple[Enqueued, ...]) -> None:
    """Insert outbox rows (one batch); ``order_id`` is the message key (an order's id, or
    a dead letter's key)."""
    if not messages:
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO outbox (topic, message_key, payload, headers, order_id, created_at,"
            " available_at) VALUES (%s, %s, %s, %s, %s, now(), %s)",
            [
                (
                    e.message.topic,
                    e.message.key,
                    json.dumps(e.message.payload),
                    json.dumps(e.message.headers),
                    e.message.key,
                    e.due,
                )
                for e in messages
            ],
        )


def record_of(row: Row) -> OrderRecord:
    """An ``orders`` row (with ``next_attempt_at`` if selected) as an order record."""
    order = NewOrder(
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
    stage = {column: row[column] for column in _STAGE_COLUMNS}
    return OrderRecord(
        order=order,
        status=OrderStatus(row["status"]),
        current_request_id=row["current_request_id"],
        attempts=row["attempts"],
        driver_id=row["driver_id"],
        eta_minutes=row["eta_minutes"],
        last_error=row["last_error"],
        next_attempt_at=row.get("next_attempt_at"),
        **stage,
    )


_STAGE_COLUMNS = (
    "created_at",
    "updated_at",
    "accepted_at",
    "request_published_at",
    "request_consumed_at",
    "decided_at",
    "response_consumed_at",
    "picked_up_at",
    "delivered_at",
    "failed_at",
)
"""Columns named as the fields of :class:`OrderRecord`."""

_CHANGED_BY_RULES = (
    "status",
    "driver_id",
    "eta_minutes",
    "attempts",
    "current_request_id",
    "last_error",
    "updated_at",
    "request_consumed_at",
    "decided_at",
    "response_consumed_at",
    "picked_up_at",
    "delivered_at",
    "failed_at",
)
"""What the order rules may change; the rest (``request_published_at`` is the outbox's)
is written once, when the order is placed."""

# Assembled from the constant column names above; values travel as parameters.
_UPDATE_ORDER = (
    "UPDATE orders SET "  # noqa: S608
    + ", ".join(f"{column} = %({column})s" for column in _CHANGED_BY_RULES)
    + " WHERE id = %(id)s"
)


def _update_params(record: OrderRecord) -> dict[str, Any]:
    params = {column: getattr(record, column) for column in _CHANGED_BY_RULES}
    return {**params, "status": record.status.value, "id": record.order_id}


def _insert_params(record: OrderRecord) -> dict[str, Any]:
    order = record.order
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
        "status": record.status.value,
        "request_id": record.current_request_id,
        "now": record.created_at,
        "accepted": record.accepted_at,
    }


_SELECT_WITH_NEXT_ATTEMPT = """
SELECT o.*, (SELECT min(available_at) FROM outbox
             WHERE outbox.order_id = o.id AND sent_at IS NULL
               AND topic LIKE 'driver_assignment.requests.%%') AS next_attempt_at
FROM orders o WHERE o.id = %s
"""

_SELECT_FOR_UPDATE = _SELECT_WITH_NEXT_ATTEMPT + " FOR UPDATE OF o"

_SELECT_MANY = _SELECT_WITH_NEXT_ATTEMPT.replace("WHERE o.id = %s", "WHERE o.id = ANY(%s)")

_SELECT_MANY_FOR_UPDATE = _SELECT_MANY + " ORDER BY o.id FOR UPDATE OF o"

_INSERT_ORDER = """
INSERT INTO orders (id, customer_id, restaurant_id, restaurant_latitude, restaurant_longitude,
    customer_latitude, customer_longitude, items, total_amount, preparation_time,
    special_instructions, radius_km, status, current_request_id, created_at, updated_at,
    accepted_at)
VALUES (%(id)s, %(customer_id)s, %(restaurant_id)s, %(rlat)s, %(rlon)s, %(clat)s, %(clon)s,
    %(items)s, %(total)s, %(prep)s, %(notes)s, %(radius)s, %(status)s, %(request_id)s,
    %(now)s, %(now)s, %(accepted)s)
ON CONFLICT (id) DO NOTHING
"""
