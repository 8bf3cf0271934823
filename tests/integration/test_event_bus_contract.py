"""One EventBus contract, run over the in-process bus and Kafka (a private Tansu broker).

A reader sees what the bus published once ``flush`` returned: each message with its
topic, key and headers, those of one key in publish order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from swifteats.adapters.kafka.bus import KafkaEventBus
from swifteats.adapters.kafka.clients import make_producer
from swifteats.adapters.memory_bus import Delivery, InProcessBus
from swifteats.domain.bus import EventBus, Outgoing
from swifteats.settings import Settings
from tests.integration.helpers import read_records

TOPIC = "contract.events"

Read = Callable[[str, int], list[Delivery]]


@dataclass
class BusUnderTest:
    bus: EventBus
    read: Read
    """The first ``count`` messages of a topic, as a consumer receives them."""


def _delivery(record: Any) -> Delivery:
    return Delivery(record.topic, record.key, record.value, list(record.headers))


@pytest.fixture
def bus(request: pytest.FixtureRequest) -> Iterator[BusUnderTest]:
    if request.param == "inprocess":
        in_process = InProcessBus()
        received: list[Delivery] = []
        in_process.subscribe(r"contract\..*", received.append)
        yield BusUnderTest(
            in_process, lambda topic, count: [d for d in received if d.topic == topic][:count]
        )
        return
    host = request.getfixturevalue("kafka").host
    kafka = KafkaEventBus(lambda: make_producer(Settings(kafka_host=host)))
    yield BusUnderTest(
        kafka,
        lambda topic, count: [_delivery(r) for r in read_records(host, topic, count=count)],
    )
    kafka.close()


@pytest.mark.parametrize(
    "bus", ["inprocess", pytest.param("kafka", marks=pytest.mark.kafka)], indirect=True
)
class TestEventBusContract:
    def test_published_messages_arrive_with_key_and_headers_in_order(
        self, bus: BusUnderTest
    ) -> None:
        sent = [
            Outgoing(TOPIC, "o-1", {"n": 1}, {"swifteats-request-id": "r-1"}),
            Outgoing(TOPIC, "o-1", {"n": 2}),
            Outgoing(TOPIC, "o-1", {"n": 3, "text": "é"}, {"a": "1", "b": "2"}),
        ]
        for message in sent:
            bus.bus.publish(message)
        bus.bus.flush()

        received = bus.read(TOPIC, len(sent))

        assert received == [Delivery.of(message) for message in sent]
        assert received[0].headers == [("swifteats-request-id", b"r-1")]
        assert received[2].value == b'{"n": 3, "text": "\\u00e9"}'

    def test_flush_with_nothing_published_returns(self, bus: BusUnderTest) -> None:
        bus.bus.flush()
        bus.bus.publish(Outgoing(TOPIC, "k", {}))
        bus.bus.flush()
        bus.bus.flush()
        assert [d.key for d in bus.read(TOPIC, 1)] == [b"k"]
