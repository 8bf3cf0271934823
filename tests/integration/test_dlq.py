"""The dead-letter queue on a real broker: bad messages on every consumed topic land
there with the reason and the original bytes while the consumers keep serving, a
record whose handling keeps raising is dead-lettered after a few tries, and
``swifteats dlq list|show|reprocess`` works against the topic."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer
from typer.testing import CliRunner

from swifteats.adapters.kafka.bus import KafkaEventBus
from swifteats.adapters.kafka.clients import make_consumer, make_producer
from swifteats.adapters.kafka.consumer_loop import ConsumerLoop
from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.check_flow import RESTAURANT, sample_order
from swifteats.client import SwiftEatsClient
from swifteats.dlq import DeadLetter, read_dead_letters
from swifteats.dlq.cli import dlq_app
from swifteats.dlq.queue import REPROCESSED_FROM_HEADER, read_whole_topic
from swifteats.domain.assignment import Assigner
from swifteats.domain.clock import system_clock
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.scoring import ScoringWeights
from swifteats.domain.topics import DLQ_TOPIC, RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.handler import RequestHandler
from swifteats.services.outgoing import OVERSIZE_KEPT_BYTES
from swifteats.settings import Settings
from tests.integration.helpers import Broker, Deployment, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

REQUESTS = "driver_assignment.requests.4_-7"
LIMIT = Settings().kafka_max_message_bytes
OVERSIZED = b'{"orderId": "' + b"x" * LIMIT + b'"}'


def _produce(host: str, topic: str, key: str, values: list[bytes]) -> None:
    """Send ``values`` in order with one key (so to one partition), larger ones included."""
    producer = KafkaProducer(bootstrap_servers=host, max_request_size=4 * LIMIT)
    try:
        for value in values:
            producer.send(topic, key=key.encode(), value=value).get(timeout=30)
    finally:
        producer.close()


def _dead_letters(host: str, count: int) -> list[DeadLetter]:
    """The DLQ's dead letters once there are ``count`` of them."""
    found: list[DeadLetter] = []

    def enough() -> bool:
        found[:] = read_dead_letters(Settings(kafka_host=host), timeout_s=10)
        return len(found) >= count

    wait_until(enough, timeout_s=60, what=f"{count} dead letters on {DLQ_TOPIC}")
    return found


def _by_original(letters: list[DeadLetter]) -> dict[bytes, DeadLetter]:
    """Dead letters by original bytes; a truncated one by its full original's size."""
    return {
        (b"%d bytes" % letter.envelope["originalSize"])
        if letter.truncated and letter.envelope
        else letter.original or b"": letter
        for letter in letters
    }


def _assert_oversized(letter: DeadLetter) -> None:
    assert f"{len(OVERSIZED)} bytes" in letter.reason
    assert letter.original == OVERSIZED[:OVERSIZE_KEPT_BYTES]
    assert letter.refusal() is not None  # a stump is never sent back


def test_bad_requests_are_dead_lettered_and_the_assignment_service_keeps_going(
    client: SwiftEatsClient, kafka: Broker
) -> None:
    bad = [
        b"\xff{not json",
        json.dumps({"orderId": 42, "restaurantLatitude": 40.7}).encode(),
        json.dumps({"restaurantLatitude": 40.7128, "restaurantLongitude": -74.006}).encode(),
        json.dumps({"orderId": "o\u0000", "restaurantLatitude": 40.7}).encode(),
        OVERSIZED,
    ]
    _produce(kafka.host, REQUESTS, "bad", bad)

    letters = _by_original(_dead_letters(kafka.host, len(bad)))

    for raw in bad[:-1]:
        letter = letters[raw]
        assert letter.source_topic == REQUESTS
        assert letter.reason
        assert letter.refusal() is None
    assert "not valid JSON" in letters[bad[0]].reason or "UTF-8" in letters[bad[0]].reason
    assert "orderId" in letters[bad[1]].reason
    _assert_oversized(letters[b"%d bytes" % len(OVERSIZED)])
    client.register_driver("d-after-requests", RESTAURANT[0], RESTAURANT[1])
    placed = client.place_order(sample_order())
    assert client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=30)
    assert client.assignment_stats()["deadLettered"] == len(bad)


def test_bad_responses_are_dead_lettered_and_the_order_service_keeps_going(
    client: SwiftEatsClient, kafka: Broker
) -> None:
    assigned = {
        "orderId": "o-after",
        "driverId": "d-x",
        "eta": 5,
        "assignedAt": "2024-01-15T10:30:05.000Z",
        "status": "assigned",
    }
    bad = [
        b"\x00\x01 not json",
        json.dumps({**assigned, "eta": "soon"}).encode(),
        json.dumps({k: v for k, v in assigned.items() if k != "driverId"}).encode(),
        # Before the fix this one made PostgreSQL refuse the query on every read: the
        # partition's consumer was stuck on it for good.
        json.dumps({**assigned, "orderId": "o-after\u0000"}).encode(),
        OVERSIZED,
    ]
    # The same key as the good order's answer: its partition must not be blocked.
    _produce(kafka.host, RESPONSES_TOPIC, "o-after", bad)

    letters = _by_original(_dead_letters(kafka.host, len(bad)))

    for raw in bad[:-1]:
        assert letters[raw].source_topic == RESPONSES_TOPIC
        assert letters[raw].reason
    assert "eta" in letters[bad[1]].reason
    assert "driverId" in letters[bad[2]].reason
    assert "orderId" in letters[bad[3]].reason
    _assert_oversized(letters[b"%d bytes" % len(OVERSIZED)])
    client.register_driver("d-after-responses", RESTAURANT[0], RESTAURANT[1])
    body = sample_order() | {"orderId": "o-after"}
    client.place_order(body)
    order = client.wait_for_order("o-after", {"assigned_driver"}, timeout_s=30)
    assert order["driverId"] == "d-after-responses"


class _Poisoned:
    """A handler that cannot digest ``poison`` and publishes an answer for anything else."""

    def __init__(self, publisher: KafkaEventBus, handler: RequestHandler) -> None:
        self.publisher = publisher
        self.handler = handler
        self.handled: list[bytes] = []

    def handle(self, record: Any) -> None:
        if record.value == b"poison":
            raise RuntimeError("cannot digest")
        self.handled.append(record.value)

    def dead_letter(self, record: Any, reason: str) -> None:
        rejected = self.handler.reject(
            record.value, source_topic=record.topic, key=record.key.decode(), reason=reason
        )
        self.publisher.publish(rejected)


@pytest.fixture
def poisoned_loop(kafka: Broker) -> Iterator[_Poisoned]:
    """A consumer loop on ``poison.requests`` whose handler raises on ``poison``."""
    settings = Settings(kafka_host=kafka.host)
    metrics = ServiceMetrics("poison")
    assigner = Assigner(InMemoryDriverIndex(), ScoringWeights(), ConstantSpeedEta(), system_clock)
    handler = RequestHandler.deciding(assigner, clock=system_clock, metrics=metrics, slow_ms=1000)
    publisher = KafkaEventBus(lambda: make_producer(settings))
    poisoned = _Poisoned(publisher, handler)
    stop = threading.Event()
    loop = ConsumerLoop(
        "poison-consumer",
        lambda: make_consumer(settings, group_id="poison", topics=("poison.requests",)),
        poisoned.handle,
        after_batch=publisher.flush,
        stop=stop,
        dead_letter=poisoned.dead_letter,
        max_attempts=3,
    )
    loop.start()
    yield poisoned
    stop.set()
    loop.join(timeout=15)
    publisher.close()


def test_a_record_whose_handling_keeps_raising_is_dead_lettered_after_three_tries(
    kafka: Broker, poisoned_loop: _Poisoned
) -> None:
    _produce(kafka.host, "poison.requests", "k", [b"poison", b"after"])

    (letter,) = _dead_letters(kafka.host, 1)

    assert letter.reason == "handling failed 3 times: RuntimeError: cannot digest"
    assert letter.original == b"poison"
    assert letter.source_topic == "poison.requests"
    wait_until(lambda: b"after" in poisoned_loop.handled, timeout_s=30, what="the next record")


def _cli(kafka: Broker, tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        dlq_app,
        list(args),
        env={"KAFKA_HOST": kafka.host, "SWIFTEATS_STATE_DIR": str(tmp_path / "cli-state")},
    )
    return result.exit_code, result.output


def test_dlq_list_show_and_reprocess_through_the_cli(
    kafka: Broker, deployment: Deployment, tmp_path: Path
) -> None:
    orders = deployment.start("order-service")  # nobody answers its requests
    answer = {
        "orderId": "o-early",
        "driverId": "d-from-the-dlq",
        "eta": 12,
        "assignedAt": "2024-01-15T10:30:05.000Z",
        "status": "assigned",
    }
    raw = json.dumps(answer).encode()
    _produce(kafka.host, RESPONSES_TOPIC, "o-early", [raw])  # before its order exists
    (letter,) = _dead_letters(kafka.host, 1)
    assert letter.reason == "unknown order"

    code, listed = _cli(kafka, tmp_path, "list")
    assert code == 0
    assert letter.id in listed
    assert "unknown order" in listed
    assert "new" in listed
    code, shown = _cli(kafka, tmp_path, "show", letter.id)
    assert code == 0
    assert '"reason": "unknown order"' in shown
    assert f"original ({len(raw)} bytes, JSON)" in shown
    assert '"driverId": "d-from-the-dlq"' in shown

    placed = httpx.post(orders.url + "/orders", json=sample_order() | {"orderId": "o-early"})
    assert placed.status_code == 201
    code, out = _cli(kafka, tmp_path, "reprocess", letter.id)
    assert code == 0, out
    assert f"{letter.id}: sent to {RESPONSES_TOPIC}" in out

    def assigned() -> bool:
        order = httpx.get(orders.url + "/orders/o-early").json()
        return bool(order["driverId"] == "d-from-the-dlq")

    wait_until(assigned, timeout_s=30, what="the reprocessed answer applied")
    (copy,) = [
        r
        for r in read_whole_topic(Settings(kafka_host=kafka.host), RESPONSES_TOPIC, timeout_s=10)
        if dict(r.headers).get(REPROCESSED_FROM_HEADER)
    ]
    assert copy.value == raw
    assert copy.key == b"o-early"
    assert dict(copy.headers)[REPROCESSED_FROM_HEADER] == f"{DLQ_TOPIC}/{letter.id}".encode()

    code, out = _cli(kafka, tmp_path, "reprocess", letter.id)
    assert code == 1
    assert "reprocessed already" in out
    code, out = _cli(kafka, tmp_path, "reprocess", "--all")
    assert code == 0
    assert f"{letter.id}: skipped, reprocessed already" in out
    code, out = _cli(kafka, tmp_path, "reprocess", letter.id, "--force")
    assert code == 0
    code, out = _cli(kafka, tmp_path, "list", "--json")
    (summary,) = json.loads(out)
    assert summary["status"] == "reprocessed×2"
    assert [r["topic"] for r in summary["reprocessed"]] == [RESPONSES_TOPIC] * 2
    code, out = _cli(kafka, tmp_path, "show", "9:999")
    assert code == 1
    assert "no dead letter" in out
