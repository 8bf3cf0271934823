"""Fuzzing the Order Service's response handler on a real PostgreSQL and Redis: whatever
arrives on ``driver_assignment.responses``, it is applied or dead-lettered with a reason
and the original bytes, and handling never raises (a raise would re-read it forever)."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from swifteats.adapters.postgres.migrations import migrate
from swifteats.adapters.postgres.orders import OrderStore
from swifteats.adapters.postgres.pool import Pool, open_pool
from swifteats.adapters.redis_drivers import RedisDriverIndex, redis_for
from swifteats.domain.events import OrderItem
from swifteats.domain.geo import Point
from swifteats.domain.orders import NewOrder
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.topics import DLQ_TOPIC, RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.orders.responses import ResponseHandler
from swifteats.services.outgoing import OVERSIZE_KEPT_BYTES
from swifteats.settings import Settings
from swifteats.stack import drop_database, ensure_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
MAX_BYTES = 4 * OVERSIZE_KEPT_BYTES
PLACEHOLDER = "<order>"
"""Replaced in a generated response by the id of an order waiting for its answer."""

nasty_text = st.sampled_from(["", "\x00", "d\x00", "\ud800", "e\udfff", "x" * 2000])
texts = st.text(max_size=20) | nasty_text
numbers = (
    st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, -1, 10_080, 10_081, 2**31, 1e308, 10**400])
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
ASSIGNED = {
    "orderId": PLACEHOLDER,
    "driverId": "driver_456",
    "eta": 25,
    "assignedAt": "2024-01-15T10:30:05.000Z",
    "status": "assigned",
}
FAILED = {
    "orderId": PLACEHOLDER,
    "error": "No available drivers in area",
    "failedAt": "2024-01-15T10:30:05.000Z",
    "status": "failed",
}


def _mutated(valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    keys = sorted(valid)
    return st.builds(
        lambda drop, changes: {k: v for k, v in {**valid, **changes}.items() if k not in drop},
        st.sets(st.sampled_from(keys), max_size=2),
        st.dictionaries(st.sampled_from(keys), json_values, max_size=2),
    )


messages = (
    st.binary(max_size=200)
    | json_values.map(lambda v: json.dumps(v).encode())
    | (_mutated(ASSIGNED) | _mutated(FAILED)).map(lambda v: json.dumps(v).encode())
    | st.integers(MAX_BYTES + 1, MAX_BYTES + 50).map(lambda n: b'{"orderId": "' + b"x" * n)
)
headers = st.none() | st.lists(
    st.tuples(st.sampled_from(["swifteats-request-id", "swifteats-consumed-at", "x"]), st.binary()),
    max_size=2,
)


@pytest.fixture(scope="module")
def pool(servers: Settings) -> Iterator[Pool]:
    """One database for the module: the examples place their own orders."""
    base = servers.database_url.get_secret_value()
    url = base.rsplit("/", 1)[0] + f"/swifteats_fuzz_{uuid.uuid4().hex[:12]}"
    ensure_database(url)
    pool = open_pool(url, max_size=2)
    with pool.connection() as conn:
        migrate(conn)
    yield pool
    pool.close()
    drop_database(url)


@pytest.fixture(scope="module")
def store(pool: Pool) -> OrderStore:
    return OrderStore(pool, RetryPolicy(base_s=1, factor=2, cap_s=30, max_attempts=2))


@pytest.fixture(scope="module")
def drivers(servers: Settings) -> Iterator[RedisDriverIndex]:
    """The drivers an answer may name, under a key prefix of the module's own."""
    client = redis_for(servers)
    prefix = f"test:fuzz:{uuid.uuid4().hex[:12]}"
    yield RedisDriverIndex(client, prefix)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def handler(store: OrderStore, drivers: RedisDriverIndex) -> ResponseHandler:
    return ResponseHandler(
        store,
        drivers=drivers,
        clock=lambda: NOW,
        metrics=ServiceMetrics("fuzz"),
        max_message_bytes=MAX_BYTES,
    )


_ids = itertools.count()


def _waiting_order(store: OrderStore) -> str:
    """A fresh order in ``new_order``, waiting for an answer."""
    order_id = f"o-{next(_ids)}-{uuid.uuid4().hex[:6]}"
    store.place(
        NewOrder(
            order_id=order_id,
            customer_id="c",
            restaurant_id="r",
            restaurant=Point(40.7128, -74.006),
            customer=Point(40.7589, -73.9851),
            items=(OrderItem("pizza", 1, 10.0),),
            total_amount=10.0,
            preparation_time=15,
            special_instructions="",
            radius_km=5,
        ),
        now=NOW,
    )
    return order_id


def _last_dead_letter(pool: Pool) -> tuple[int, dict[str, Any] | None]:
    """The outbox id and envelope of the newest dead letter, ``(0, None)`` if none."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT id, payload FROM outbox WHERE topic = %s ORDER BY id DESC LIMIT 1",
            (DLQ_TOPIC,),
        ).fetchone()
    return (row["id"], json.loads(row["payload"])) if row else (0, None)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=messages, record_headers=headers)
# Each of these made handle() raise (NUL or a lone surrogate in a text column, an ETA
# past PostgreSQL's integer), so the consumer re-read its batch forever.
@example(raw=json.dumps({**ASSIGNED, "driverId": "d\x00"}).encode(), record_headers=None)
@example(raw=json.dumps({**ASSIGNED, "orderId": "o\x00"}).encode(), record_headers=None)
@example(raw=json.dumps({**ASSIGNED, "orderId": "\ud800"}).encode(), record_headers=None)
@example(raw=json.dumps({**ASSIGNED, "eta": 1e12}).encode(), record_headers=None)
@example(raw=json.dumps({**FAILED, "error": "e\x00"}).encode(), record_headers=None)
@example(raw=json.dumps({**FAILED, "error": "x" * 10_000}).encode(), record_headers=None)
def test_any_response_is_applied_or_dead_lettered_with_a_reason(
    pool: Pool,
    store: OrderStore,
    handler: ResponseHandler,
    raw: bytes,
    record_headers: list[tuple[str, bytes]] | None,
) -> None:
    order_id = _waiting_order(store)
    raw = raw.replace(PLACEHOLDER.encode(), order_id.encode())
    before, _ = _last_dead_letter(pool)

    outcome = handler.handle(raw, topic=RESPONSES_TOPIC, headers=record_headers)

    assert outcome in {"assigned", "retry", "failed", "stale", "dead_letter"}
    if outcome != "dead_letter":
        order = store.get(order_id)
        assert order["status"] in {"new_order", "assigned_driver", "assignment_failed"}
        return
    row_id, envelope = _last_dead_letter(pool)
    assert row_id > before
    assert envelope is not None
    assert envelope["reason"]
    assert envelope["sourceTopic"] == RESPONSES_TOPIC
    assert len(json.dumps(envelope)) <= MAX_BYTES
    kept = base64.b64decode(envelope["originalBase64"])
    if envelope.get("originalTruncated"):
        assert raw.startswith(kept)
        assert envelope["originalSize"] == len(raw)
    else:
        assert kept == raw
