"""The transactional outbox in PostgreSQL: rows due for the bus, handed to a sender, marked
sent; overdue requests queued again."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from swifteats.adapters.postgres.pool import Pool, Row, connection
from swifteats.domain.admission import PipelineLoad, ResendPolicy
from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.domain.topics import REQUEST_TOPIC_PREFIX


class PostgresOutbox:
    """:class:`~swifteats.domain.order_store.Outbox` on table ``outbox``.

    Rows stay locked (``FOR UPDATE SKIP LOCKED``) while being sent, so several relays
    never publish one row twice.
    """

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    def publish_due(
        self,
        send: Callable[[list[Outgoing]], None],
        *,
        now: datetime,
        wall: Clock,
        limit: int = 500,
    ) -> int:
        """Hand the due rows to ``send`` and mark them sent in the transaction that locked them."""
        with connection(self._pool, transaction=True) as conn:
            rows = conn.execute(_DUE, {"now": now, "limit": limit}).fetchall()
            if not rows:
                return 0
            handed_over = wall()
            send([_message(row) for row in rows])
            ids = [row["id"] for row in rows]
            conn.execute("UPDATE outbox SET sent_at = %s WHERE id = ANY(%s)", (now, ids))
            requested = [
                row["order_id"] for row in rows if row["topic"].startswith(REQUEST_TOPIC_PREFIX)
            ]
            conn.execute(
                "UPDATE orders SET request_published_at = %s WHERE id = ANY(%s)",
                (handed_over, requested),
            )
            if requested:
                conn.execute(
                    "UPDATE outbox_counts SET requests_sent = requests_sent + %s",
                    (len(requested),),
                )
        return len(rows)

    def next_due_at(self) -> datetime | None:
        """When the earliest unsent row is due."""
        with connection(self._pool) as conn:
            row = conn.execute(
                "SELECT min(available_at) AS due FROM outbox WHERE sent_at IS NULL"
            ).fetchone()
        return None if row is None else row["due"]

    def resend_unanswered(
        self, *, now: datetime, wall: datetime, policy: ResendPolicy, limit: int
    ) -> int:
        """Copy the last request of the orders whose answer is overdue (oldest first)."""
        if limit < 1:
            return 0
        params = {
            "now": now,
            "published_before": wall - timedelta(seconds=policy.timeout_s),
            "unproven_before": wall - timedelta(seconds=policy.unproven_after_s),
            "answered_before": wall - timedelta(seconds=policy.timeout_s / 2),
            "limit": limit,
            **_REQUESTS,
        }
        with connection(self._pool, transaction=True) as conn:
            rows = conn.execute(_RESEND_UNANSWERED, params).fetchall()
        return len(rows)

    def pipeline_load(self, *, now: datetime) -> PipelineLoad:
        """Unsent due rows and orders in ``new_order``, in one round trip."""
        with connection(self._pool) as conn:
            row = conn.execute(_LOAD, {"now": now}).fetchone()
        if row is None:
            return PipelineLoad(0, 0)
        return PipelineLoad(int(row["backlog"]), int(row["unanswered"]))

    def requests_published(self) -> int:
        """Rows on request topics marked sent (a count kept as they are marked)."""
        with connection(self._pool) as conn:
            row = conn.execute("SELECT requests_sent AS n FROM outbox_counts").fetchone()
        return 0 if row is None else int(row["n"])


_REQUESTS = {"requests": f"{REQUEST_TOPIC_PREFIX}%"}
"""The LIKE pattern of assignment-request topics, as a query parameter."""

_DUE = """
SELECT id, topic, message_key, payload, headers, order_id FROM outbox
WHERE sent_at IS NULL AND available_at <= %(now)s
ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
"""

_RESEND_UNANSWERED = """
INSERT INTO outbox (topic, message_key, payload, headers, order_id, created_at, available_at)
SELECT due.topic, due.message_key, due.payload, due.headers, due.order_id, now(), %(now)s
FROM (
    SELECT last.*, o.request_published_at AS published
    FROM orders o
    CROSS JOIN LATERAL (
        SELECT * FROM outbox b WHERE b.order_id = o.id AND b.topic LIKE %(requests)s
        ORDER BY b.id DESC LIMIT 1
    ) AS last
    WHERE o.status = 'new_order' AND o.request_published_at < %(published_before)s
      AND last.sent_at IS NOT NULL
      AND (
        o.request_published_at < %(unproven_before)s
        OR EXISTS (
            SELECT 1 FROM outbox later JOIN orders p ON p.id = later.order_id
            WHERE later.id > last.id AND later.topic = last.topic
              AND later.sent_at IS NOT NULL AND p.response_consumed_at > p.request_published_at
              AND p.response_consumed_at < %(answered_before)s
        )
      )
    ORDER BY o.request_published_at LIMIT %(limit)s
) AS due
ORDER BY due.published
RETURNING id
"""
"""Copies of the last request of the orders whose answer is overdue and which their
consumer passed (a later request of the topic answered, half the timeout ago at least, so
answers still on their way in other partitions are not taken for lost), or unproven for
long."""

_LOAD = """
SELECT
    (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND available_at <= %(now)s) AS backlog,
    (SELECT count(*) FROM orders WHERE status = 'new_order') AS unanswered
"""


def _message(row: Row) -> Outgoing:
    headers = row["headers"] if isinstance(row["headers"], dict) else json.loads(row["headers"])
    return Outgoing(row["topic"], row["message_key"], json.loads(row["payload"]), headers)
