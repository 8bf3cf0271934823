"""The transactional outbox: rows due for Kafka, handed to a sender, marked sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import Connection
from psycopg_pool import ConnectionPool

from swifteats.adapters.postgres.pool import Row
from swifteats.domain.clock import Clock
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
    wall: Clock | None = None,
    limit: int = 500,
    one_request_at_a_time: bool = False,
) -> int:
    """Hand the due rows to ``send_all`` and mark them sent once it returns.

    Rows stay locked (``SKIP LOCKED``) while being sent, so several relays never
    publish one row twice; if ``send_all`` raises, nothing is marked and the rows
    are due again. ``now`` decides what is due (the service's clock); orders get the
    ``wall`` clock's time when their rows are handed to the sender (default ``now``) as
    their request's publish time.
    With ``one_request_at_a_time``, an assignment request goes out only when no other
    is waiting for its answer, the earliest due first.
    """
    with pool.connection() as conn, conn.transaction():
        rows = [
            row
            for query in _due_queries(one_request_at_a_time)
            for row in conn.execute(query, {"now": now, "limit": limit, **_REQUESTS}).fetchall()
        ]
        if not rows:
            return 0
        handed_over = wall() if wall else now
        send_all([_message(row) for row in rows])
        ids = [row["id"] for row in rows]
        conn.execute("UPDATE outbox SET sent_at = %s WHERE id = ANY(%s)", (now, ids))
        requested = [
            row["order_id"] for row in rows if row["topic"].startswith(REQUEST_TOPIC_PREFIX)
        ]
        conn.execute(
            "UPDATE orders SET request_published_at = %s WHERE id = ANY(%s)",
            (handed_over, requested),
        )
    return len(rows)


def resend_unanswered(
    pool: ConnectionPool[Connection[Row]], *, now: datetime, wall: datetime, timeout_s: float
) -> int:
    """Queue again the requests published ``timeout_s`` (wall) ago and still unanswered.

    A broker that loses its topics (a restart without storage) loses the requests in them;
    so does a consumer that dies between reading and answering when offsets were committed.
    The copy keeps the request's event id, so if the first answer turns up after all, the
    second is stale and ignored. Returns how many were queued.
    """
    with pool.connection() as conn, conn.transaction():
        rows = conn.execute(
            _RESEND_UNANSWERED,
            {"now": now, "published_before": wall - timedelta(seconds=timeout_s), **_REQUESTS},
        ).fetchall()
    return len(rows)


def seconds_until_due(
    pool: ConnectionPool[Connection[Row]], *, now: datetime, one_request_at_a_time: bool = False
) -> float | None:
    """Seconds until the next row that may go out is due (0 if one is due now), None if none."""
    with pool.connection() as conn:
        query = _NEXT_DUE_HOLDING_REQUESTS if one_request_at_a_time else _NEXT_DUE
        row = conn.execute(query, _REQUESTS).fetchone()
    if row is None or row["due"] is None:
        return None
    return max(0.0, float((row["due"] - now).total_seconds()))


_REQUESTS = {"requests": f"{REQUEST_TOPIC_PREFIX}%"}
"""The LIKE pattern of assignment-request topics, as a query parameter."""
_REQUEST_IN_FLIGHT = """EXISTS (
    SELECT 1 FROM orders o WHERE o.status = 'new_order' AND o.request_published_at IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM outbox b WHERE b.order_id = o.id AND b.sent_at IS NULL
                    AND b.topic LIKE %(requests)s))"""
"""Some order's request went out and its answer has not been applied yet."""
_SELECT_DUE = (
    "SELECT id, topic, message_key, payload, headers, order_id FROM outbox"
    " WHERE sent_at IS NULL AND available_at <= %(now)s"
)
# Every query below is assembled from the constants above; values travel as parameters.
_ALL_DUE = f"{_SELECT_DUE} ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED"  # noqa: S608
_DUE_OTHERS = (
    f"{_SELECT_DUE} AND topic NOT LIKE %(requests)s"  # noqa: S608
    " ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED"
)
_NEXT_REQUEST = (
    f"{_SELECT_DUE} AND topic LIKE %(requests)s AND NOT {_REQUEST_IN_FLIGHT}"  # noqa: S608
    " ORDER BY available_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_NEXT_DUE = "SELECT min(available_at) AS due FROM outbox WHERE sent_at IS NULL"
_NEXT_DUE_HOLDING_REQUESTS = (
    f"{_NEXT_DUE} AND NOT (topic LIKE %(requests)s AND {_REQUEST_IN_FLIGHT})"  # noqa: S608
)


_RESEND_UNANSWERED = """
INSERT INTO outbox (topic, message_key, payload, headers, order_id, created_at, available_at)
SELECT last.topic, last.message_key, last.payload, last.headers, last.order_id, %(now)s, %(now)s
FROM orders o
CROSS JOIN LATERAL (
    SELECT * FROM outbox b WHERE b.order_id = o.id AND b.topic LIKE %(requests)s
    ORDER BY b.id DESC LIMIT 1
) AS last
WHERE o.status = 'new_order' AND o.request_published_at < %(published_before)s
  AND last.sent_at IS NOT NULL
RETURNING id
"""
"""Copies of the last request of every order whose answer is overdue (none is unsent)."""


def _due_queries(one_request_at_a_time: bool) -> tuple[str, ...]:
    """All due rows by id; or the due non-requests plus the one request that may go out."""
    return (_DUE_OTHERS, _NEXT_REQUEST) if one_request_at_a_time else (_ALL_DUE,)


def _message(row: Row) -> OutboxMessage:
    headers = row["headers"] if isinstance(row["headers"], dict) else json.loads(row["headers"])
    return OutboxMessage(row["topic"], row["message_key"], row["payload"].encode(), headers)
