"""A Kafka message over SWIFTEATS_KAFKA_MAX_MESSAGE_BYTES is dead-lettered unread, and small."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.domain.assignment import Assigner
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.events import AssignmentResponse
from swifteats.domain.order_rules import Enqueued, Outcome, ResponseContext
from swifteats.domain.scoring import ScoringWeights
from swifteats.domain.topics import DLQ_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.handler import RequestHandler
from swifteats.services.orders.responses import ResponseHandler
from swifteats.services.outgoing import OVERSIZE_KEPT_BYTES

NOW = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
LIMIT = 10_000
HUGE = json.dumps({"orderId": "o1", "padding": "x" * 3 * LIMIT}).encode()


def clock() -> datetime:
    return NOW


class DeadLetters:
    """The outbox the response handler queues dead letters in."""

    def __init__(self) -> None:
        self.envelopes: list[dict[str, Any]] = []

    def enqueue(self, message: Enqueued) -> None:
        self.envelopes.append(message.message.payload)


def never_applied(response: AssignmentResponse, context: ResponseContext) -> Outcome | None:
    raise AssertionError("an oversized response was read")


def assert_small_dead_letter(envelope: dict[str, Any]) -> None:
    assert f"message of {len(HUGE)} bytes exceeds" in envelope["reason"]
    assert base64.b64decode(envelope["originalBase64"]) == HUGE[:OVERSIZE_KEPT_BYTES]
    assert envelope["original"] is None
    assert len(json.dumps(envelope)) < LIMIT


def test_an_oversized_request_goes_to_the_dlq_without_its_body() -> None:
    assigner = Assigner(InMemoryDriverIndex(), ScoringWeights(), ConstantSpeedEta(), clock)
    handler = RequestHandler.deciding(
        assigner, clock=clock, metrics=ServiceMetrics("t"), slow_ms=200, max_message_bytes=LIMIT
    )

    out = handler.handle(HUGE, source_topic="driver_assignment.requests.4_-7", key="o1")

    assert out.topic == DLQ_TOPIC
    assert_small_dead_letter(out.payload)


def test_a_request_at_the_limit_is_read() -> None:
    assigner = Assigner(InMemoryDriverIndex(), ScoringWeights(), ConstantSpeedEta(), clock)
    handler = RequestHandler.deciding(
        assigner, clock=clock, metrics=ServiceMetrics("t"), slow_ms=200, max_message_bytes=LIMIT
    )

    out = handler.handle(b"[" + b" " * (LIMIT - 2) + b"]", source_topic="t", key="o1")

    assert "exceeds" not in out.payload["reason"]  # dead-lettered for its content instead


def test_an_oversized_response_goes_to_the_dlq_without_its_body() -> None:
    store = DeadLetters()
    handler = ResponseHandler(
        never_applied,
        store.enqueue,
        lambda order_id, driver_id: None,
        clock=clock,
        wall=clock,
        metrics=ServiceMetrics("t"),
        max_message_bytes=LIMIT,
    )

    outcome = handler.handle(HUGE, topic="driver_assignment.responses", headers=None)

    assert outcome == "dead_letter"
    (envelope,) = store.envelopes
    assert_small_dead_letter(envelope)
