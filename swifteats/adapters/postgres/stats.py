"""Order statistics for ``GET /stats``: counts, retries, DLQ and latency per stage."""

from __future__ import annotations

from typing import Any

from psycopg import Connection

from swifteats.adapters.postgres.pool import Pool, Row, connection
from swifteats.domain.orders import OrderStatus
from swifteats.domain.topics import DLQ_TOPIC

STAGES: dict[str, tuple[str, str]] = {
    "accepted_to_published": ("accepted_at", "request_published_at"),
    "published_to_consumed": ("request_published_at", "request_consumed_at"),
    "consumed_to_decided": ("request_consumed_at", "decided_at"),
    "decided_to_response_consumed": ("decided_at", "response_consumed_at"),
    "placed_to_assigned": ("accepted_at", "response_consumed_at"),
}
"""Stage name → (start column, end column) of the orders table, all on the wall clock."""

_RECENT = 10_000
"""Latency percentiles are over the most recent orders."""


def order_stats(pool: Pool) -> dict[str, Any]:
    """Counts by status, success rate, retries, DLQ size, backlog and stage latencies.

    Raises :class:`~swifteats.domain.order_store.StoreUnavailableError` when the server
    cannot be reached."""
    with connection(pool) as conn:
        by_status = {
            row["status"]: row["n"]
            for row in conn.execute("SELECT status, count(*) AS n FROM orders GROUP BY status")
        }
        totals = conn.execute(
            "SELECT coalesce(sum(attempts - 1), 0) AS retries,"
            " (SELECT count(*) FROM outbox WHERE topic = %s) AS dlq,"
            " (SELECT count(*) FROM outbox WHERE sent_at IS NULL) AS backlog FROM orders",
            (DLQ_TOPIC,),
        ).fetchone()
        latency = {stage: _percentiles(conn, *columns) for stage, columns in STAGES.items()}
    assert totals is not None  # noqa: S101 - an aggregate always returns a row
    failed = by_status.get(OrderStatus.ASSIGNMENT_FAILED.value, 0)
    assigned = sum(
        by_status.get(s.value, 0)
        for s in (OrderStatus.ASSIGNED_DRIVER, OrderStatus.PICKED_UP, OrderStatus.DELIVERED)
    )
    decided = assigned + failed
    return {
        "orders": sum(by_status.values()),
        "byStatus": by_status,
        "successRate": assigned / decided if decided else None,
        "failureRate": failed / decided if decided else None,
        "retries": int(totals["retries"]),
        "deadLettered": int(totals["dlq"]),
        "outboxBacklog": int(totals["backlog"]),
        "latencyMs": latency,
    }


def _percentiles(conn: Connection[Row], start: str, end: str) -> dict[str, float | int | None]:
    # Column names come from STAGES above, never from input.
    row = conn.execute(
        f"SELECT count(*) AS n, percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP"  # noqa: S608
        f" (ORDER BY extract(epoch FROM {end} - {start}) * 1000) AS p"
        f" FROM (SELECT {start}, {end} FROM orders WHERE {end} IS NOT NULL"
        f" ORDER BY created_at DESC LIMIT %s) recent",
        (_RECENT,),
    ).fetchone()
    assert row is not None  # noqa: S101 - an aggregate always returns a row
    values = row["p"] or [None, None, None]
    rounded = [None if v is None else round(float(v), 3) for v in values]
    return {"p50": rounded[0], "p95": rounded[1], "p99": rounded[2], "count": row["n"]}


_QUEUE_DEPTHS = """
SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL) AS backlog,
       (SELECT count(*) FROM orders o WHERE o.status = 'new_order' AND NOT EXISTS (
            SELECT 1 FROM outbox b WHERE b.order_id = o.id AND b.sent_at IS NULL)) AS in_flight
"""


def queue_depths(pool: Pool, *, timeout_s: float = 2.0) -> dict[str, int]:
    """``backlog``: outbox rows not yet published; ``in_flight``: orders whose assignment
    request was published and is not answered yet (none of their rows waits)."""
    with pool.connection(timeout=timeout_s) as conn:
        row = conn.execute(_QUEUE_DEPTHS).fetchone()
    assert row is not None  # noqa: S101 - scalar subqueries always return a row
    return {"backlog": int(row["backlog"]), "in_flight": int(row["in_flight"])}
