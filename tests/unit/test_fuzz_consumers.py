"""Fuzzing the consumers: whatever arrives on a request topic, the assignment handler
answers or dead-letters it with a reason, never raises, and produces a message Kafka
will take; the consumer loop dead-letters a record whose handling keeps raising."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from kafka import TopicPartition
from kafka.structs import ConsumerGroupMetadata, MemberState

from swifteats.adapters.kafka import consumer_loop
from swifteats.adapters.kafka.consumer_loop import ConsumerLoop
from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.domain.assignment import Assigner
from swifteats.domain.bus import Outgoing
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.geo import Point
from swifteats.domain.scoring import ScoringWeights
from swifteats.domain.topics import DLQ_TOPIC, RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.handler import RequestHandler
from swifteats.services.outgoing import OVERSIZE_KEPT_BYTES

NOW = datetime(2024, 1, 15, 10, 30, 5, tzinfo=UTC)
SOURCE = "driver_assignment.requests.4_-7"
MAX_BYTES = 4 * OVERSIZE_KEPT_BYTES
"""A small message limit, so that oversized messages are cheap to generate."""
VALID = {
    "eventId": "5f0c7d1e-0000-4000-8000-000000000001",
    "eventType": "AssignmentRequested",
    "occurredAt": "2024-01-15T10:30:00.000Z",
    "orderId": "order_123",
    "geoKey": "4_-7",
    "restaurantLatitude": 40.7128,
    "restaurantLongitude": -74.0060,
    "customerLatitude": 40.7589,
    "customerLongitude": -73.9851,
    "preparationTime": 15,
    "radius": 5,
    "items": [{"name": "Pad Thai", "quantity": 1, "unitPrice": 34.97}],
    "totalAmount": 34.97,
    "specialInstructions": "Please deliver to front door",
}

# Strings that have broken stores and encoders: NUL, lone surrogates, very long text.
nasty_text = st.sampled_from(["", "\x00", "a\x00b", "\ud800", "x\udfff", "é" * 200, "x" * 5000])
texts = st.text(max_size=30) | nasty_text
numbers = (
    st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, -1, 90.0001, -180.5, 1e308, 10**400])
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
near_valid = st.builds(
    lambda drop, changes: {k: v for k, v in {**VALID, **changes}.items() if k not in drop},
    st.sets(st.sampled_from(sorted(VALID)), max_size=3),
    st.dictionaries(st.sampled_from(sorted(VALID)), json_values, max_size=3),
)


def _encode(message: object) -> bytes:
    """JSON as a foreign producer might write it: non-finite numbers and all."""
    return json.dumps(message).encode()


messages = (
    st.binary(max_size=200)
    | json_values.map(_encode)
    | near_valid.map(_encode)
    | st.integers(MAX_BYTES + 1, MAX_BYTES + 100).map(lambda n: b'{"orderId": "' + b"x" * n)
)


def _clock() -> datetime:
    return NOW


def _handler() -> RequestHandler:
    index = InMemoryDriverIndex()
    index.register("d-near", Point(40.7138, -74.0060), DriverStatus.AVAILABLE)
    assigner = Assigner(index, ScoringWeights(), ConstantSpeedEta(), _clock)
    return RequestHandler.deciding(
        assigner,
        clock=_clock,
        metrics=ServiceMetrics("fuzz"),
        slow_ms=10_000,
        max_message_bytes=MAX_BYTES,
    )


def _assert_publishable(out: Outgoing) -> None:
    """What the publisher does with the message must work, within the size limit."""
    key = out.key.encode()
    headers = [(name, value.encode()) for name, value in out.headers.items()]
    size = len(key) + len(out.value()) + sum(len(n) + len(v) for n, v in headers)
    assert size <= MAX_BYTES


def _assert_dead_letter(out: Outgoing, raw: bytes, key: str) -> None:
    envelope = out.payload
    assert envelope["reason"]
    assert envelope["sourceTopic"] == SOURCE
    assert out.key == key
    kept = base64.b64decode(envelope["originalBase64"])
    if envelope.get("originalTruncated"):
        assert envelope["originalSize"] == len(raw) > len(kept)
        assert raw.startswith(kept)
    else:
        assert kept == raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=messages, key=st.sampled_from(["order_123", "k\udcff", "x" * 300]))
@example(raw=_encode({**VALID, "orderId": "\ud800"}), key="order_123")  # key would not encode
@example(raw=_encode({**VALID, "eventId": "e\udfff"}), key="order_123")  # header would not
@example(raw=_encode({**VALID, "orderId": "x" * 2000}), key="order_123")  # answer too large
@example(raw=_encode({**VALID, "orderId": "o\x00"}), key="order_123")  # PostgreSQL refuses NUL
@example(raw=b'{"orderId": "' + b"x" * (MAX_BYTES + 10), key="order_123")  # oversized
def test_any_request_is_answered_or_dead_lettered_with_a_reason(raw: bytes, key: str) -> None:
    key = key.encode(errors="replace").decode()  # record keys arrive decoded with "replace"
    out = _handler().handle(raw, source_topic=SOURCE, key=key)

    _assert_publishable(out)
    if out.topic == DLQ_TOPIC:
        _assert_dead_letter(out, raw, key[:256])
        return
    assert out.topic == RESPONSES_TOPIC
    assert out.key == out.payload["orderId"]
    if out.payload["status"] == "failed":
        assert out.payload["error"]
    else:
        assert out.payload["status"] == "assigned"
        assert out.payload["driverId"] == "d-near"


def test_an_oversized_request_keeps_its_start_and_size() -> None:
    raw = _encode({**VALID, "specialInstructions": "x" * MAX_BYTES})
    out = _handler().handle(raw, source_topic=SOURCE, key="order_123")
    assert out.topic == DLQ_TOPIC
    assert f"{len(raw)} bytes" in out.payload["reason"]
    assert out.payload["originalTruncated"] is True
    assert base64.b64decode(out.payload["originalBase64"]) == raw[:OVERSIZE_KEPT_BYTES]


@pytest.mark.parametrize("latitude", [85.06, -89.0, 90.0])
def test_a_restaurant_redis_cannot_search_around_is_invalid(latitude: float) -> None:
    # Redis GEO stops at ±85.05112878: such a request used to fail the search with an
    # exception, answered as "Internal error".
    raw = _encode({**VALID, "restaurantLatitude": latitude})
    out = _handler().handle(raw, source_topic=SOURCE, key="order_123")
    assert out.topic == RESPONSES_TOPIC
    assert out.payload["error"] == "Invalid coordinates"


# The consumer loop, over a stub consumer that replays its batch after a rewind.


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes


@dataclass
class ReplayingConsumer:
    """Serves one partition's records; ``seek`` rewinds, ``commit`` records the position."""

    records: list[Record]
    at: int = 0
    committed: list[int] = field(default_factory=list)

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Record]]:
        batch = self.records[self.at : self.at + max_records]
        self.at += len(batch)
        return {TopicPartition("t", 0): batch} if batch else {}

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.at = offset

    def position(self, partition: TopicPartition, timeout_ms: int | None = None) -> int:
        return self.at

    def commit(self) -> None:
        self.committed.append(self.at)

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("t", 0)}

    def subscription(self) -> set[str]:
        return {"t"}

    def group_metadata(self) -> ConsumerGroupMetadata:
        return ConsumerGroupMetadata(state=MemberState.STABLE)

    def end_offsets(
        self, partitions: list[TopicPartition], timeout_ms: int | None = None
    ) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, len(self.records))


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumer_loop, "_RETRY_PAUSE_S", 0.0)


def _loop(
    handled: list[bytes], dead: list[tuple[int, str]], *, fail_dead_letter: int = 0
) -> ConsumerLoop:
    failures = [fail_dead_letter]

    def handle(record: Any) -> None:
        if record.value == b"poison":
            raise ValueError("cannot digest")
        handled.append(record.value)

    def dead_letter(record: Any, reason: str) -> None:
        if failures[0] > 0:
            failures[0] -= 1
            raise ConnectionError("DLQ unreachable")
        dead.append((record.offset, reason))

    return ConsumerLoop(
        "fuzz",
        lambda: None,
        handle,
        after_batch=lambda: None,
        stop=threading.Event(),
        dead_letter=dead_letter,
        max_attempts=3,
    )


@pytest.mark.usefixtures("no_pause")
def test_a_record_that_keeps_raising_is_dead_lettered_and_the_loop_moves_on() -> None:
    consumer = ReplayingConsumer([Record("t", 0, i, v) for i, v in enumerate([b"a", b"poison"])])
    consumer.records.append(Record("t", 0, 2, b"b"))
    handled: list[bytes] = []
    dead: list[tuple[int, str]] = []
    loop = _loop(handled, dead)

    for _ in range(4):
        loop._poll_once(consumer)

    assert dead == [(1, "handling failed 3 times: ValueError: cannot digest")]
    assert handled == [b"a", b"a", b"a", b"b"]  # the batch was read again twice, then done
    assert consumer.committed == [3]
    assert loop.dead_lettered == 1


@pytest.mark.usefixtures("no_pause")
def test_when_the_dlq_fails_too_the_record_is_tried_again_later() -> None:
    consumer = ReplayingConsumer([Record("t", 0, 0, b"poison"), Record("t", 0, 1, b"ok")])
    handled: list[bytes] = []
    dead: list[tuple[int, str]] = []
    loop = _loop(handled, dead, fail_dead_letter=2)

    for _ in range(6):
        loop._poll_once(consumer)

    assert [offset for offset, _ in dead] == [0]
    assert dead[0][1].startswith("handling failed 5 times")
    assert handled == [b"ok"]
    assert consumer.committed == [2]


def _indigestible(record: Any) -> None:
    raise ValueError("no")


@pytest.mark.usefixtures("no_pause")
def test_without_a_dead_letter_callback_the_batch_is_read_again() -> None:
    consumer = ReplayingConsumer([Record("t", 0, 0, b"poison")])
    loop = ConsumerLoop(
        "fuzz", lambda: None, _indigestible, after_batch=lambda: None, stop=threading.Event()
    )
    for _ in range(5):
        loop._poll_once(consumer)
    assert consumer.committed == []
    assert consumer.at == 0
