"""The in-process bus: pattern subscriptions, delivery on flush in publish order, never nested."""

from __future__ import annotations

import re

import pytest

from swifteats.adapters.memory_bus import Delivery, InProcessBus
from swifteats.domain.bus import Outgoing
from swifteats.domain.topics import REQUEST_TOPIC_PATTERN, RESPONSES_TOPIC


def _request(key: str) -> Outgoing:
    return Outgoing("driver_assignment.requests.4_-7", key, {"orderId": key})


def test_subscribers_get_matching_topics_on_flush_in_publish_order() -> None:
    bus = InProcessBus()
    requests: list[Delivery] = []
    everything: list[str] = []
    bus.subscribe(REQUEST_TOPIC_PATTERN, requests.append)
    bus.subscribe(re.compile(r".*"), lambda d: everything.append(d.topic))
    bus.subscribe("driver_assignment", lambda d: pytest.fail("a prefix is not the whole topic"))

    bus.publish(_request("o-1"))
    bus.publish(Outgoing(RESPONSES_TOPIC, "o-1", {"status": "assigned"}, {"h": "v"}))
    bus.publish(_request("o-2"))
    assert requests == []  # not before flush
    bus.flush()

    assert [d.key for d in requests] == [b"o-1", b"o-2"]
    assert requests[0].value == b'{"orderId": "o-1"}'
    assert everything == [requests[0].topic, RESPONSES_TOPIC, requests[1].topic]
    assert [m.headers for m in bus.messages(RESPONSES_TOPIC)] == [{"h": "v"}]


def test_what_a_subscriber_publishes_is_delivered_after_the_queue_not_inside_it() -> None:
    bus = InProcessBus()
    seen: list[str] = []

    def answer(delivery: Delivery) -> None:
        seen.append(f"request {delivery.key!r}")
        bus.publish(Outgoing(RESPONSES_TOPIC, (delivery.key or b"").decode(), {}))
        bus.flush()  # nested: returns, the outer flush delivers

    bus.subscribe(REQUEST_TOPIC_PATTERN, answer)
    bus.subscribe(RESPONSES_TOPIC, lambda d: seen.append(f"response {d.key!r}"))
    bus.publish(_request("o-1"))
    bus.publish(_request("o-2"))
    bus.flush()

    assert seen == [
        "request b'o-1'",
        "request b'o-2'",
        "response b'o-1'",
        "response b'o-2'",
    ]


def test_a_failing_subscriber_leaves_the_later_messages_for_the_next_flush() -> None:
    bus = InProcessBus()
    seen: list[bytes | None] = []

    def fragile(delivery: Delivery) -> None:
        if delivery.key == b"bad":
            raise RuntimeError("cannot digest")
        seen.append(delivery.key)

    bus.subscribe(REQUEST_TOPIC_PATTERN, fragile)
    for key in ("o-1", "bad", "o-2"):
        bus.publish(_request(key))
    with pytest.raises(RuntimeError):
        bus.flush()
    assert seen == [b"o-1"]
    bus.flush()
    assert seen == [b"o-1", b"o-2"]
