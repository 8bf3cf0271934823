"""The transactional outbox: rows due for Kafka, handed to a sender, marked sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from psycopg import Connection
from psycopg_pool import ConnectionPool

from swifteats.adapters.postgres.pool import Row
from swifteats.domain.topics import REQUEST_TOPIC_PREFIX


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One event waiting to be published."""

    topic: str
    key: str
    payload: bytes
    headers: dict[str, str]


def publish_due(
    pool: ConnectionPool[Connection[Row]],
    send_all: Callable[[list[OutboxMessage]], None],
    *,
    now: datetime,
    limit: int = 500,
) -> int:
    """Hand the due rows to ``send_all`` and mark them sent once it returns.

    Rows stay locked (``SKIP LOCKED``) while being sent, so several relays never
    publish one row twice; if ``send_all`` raises, nothing is marked and the rows
    are due again.
    """
    with pool.connection() as conn, conn.transaction():
        rows = conn.execute(
            "SELECT id, topic, message_key, payload, headers, order_id FROM outbox"
            " WHERE sent_at IS NULL AND available_at <= %s ORDER BY id LIMIT %s"
            " FOR UPDATE SKIP LOCKED",
            (now, limit),
        ).fetchall()
        if not rows:
            return 0
        send_all([_message(row) for row in rows])
        ids = [row["id"] for row in rows]
        conn.execute("UPDATE outbox SET sent_at = %s WHERE id = ANY(%s)", (now, ids))
        requested = [
            row["order_id"] for row in rows if row["topic"].startswith(REQUEST_TOPIC_PREFIX)
        ]
        conn.execute(
            "UPDATE orders SET request_published_at = %s WHERE id = ANY(%s)", (now, requested)
        )
    return len(rows)


def seconds_until_due(pool: ConnectionPool[Connection[Row]], *, now: datetime) -> float | None:
    """Seconds until the next unsent row is due (0 if one is due now), None when empty."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT min(available_at) AS due FROM outbox WHERE sent_at IS NULL"
        ).fetchone()
    if row is None or row["due"] is None:
        return None
    return max(0.0, float((row["due"] - now).total_seconds()))


def _message(row: Row) -> OutboxMessage:
    headers = row["headers"] if isinstance(row["headers"], dict) else json.loads(row["headers"])
    return OutboxMessage(row["topic"], row["message_key"], row["payload"].encode(), headers)
