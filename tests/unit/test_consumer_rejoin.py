"""The consumer loop rejoins when a subscribed topic never reaches this member, ever more
patiently, and gives a member that owns nothing (still joining) a minute."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from kafka import TopicPartition

from swifteats.adapters.kafka import consumer_loop
from swifteats.adapters.kafka.consumer_loop import ConsumerLoop


@dataclass
class StubConsumer:
    """Just the two questions the watchdog asks of a consumer."""

    topics: set[str]
    owned: set[TopicPartition] = field(default_factory=set)

    def subscription(self) -> set[str]:
        return self.topics

    def assignment(self) -> set[TopicPartition]:
        return self.owned


def _loop() -> ConsumerLoop:
    return ConsumerLoop(
        "test", lambda: None, lambda r: None, after_batch=lambda: None, stop=threading.Event()
    )


def test_a_topic_left_unassigned_triggers_rejoins_ever_further_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(consumer_loop.time, "monotonic", lambda: now[0])
    loop = _loop()
    consumer = StubConsumer({"a", "b"}, {TopicPartition("a", 0)})

    loop._watch_assignment(consumer)
    now[0] += 5
    loop._watch_assignment(consumer)  # not yet
    now[0] += 6
    with pytest.raises(consumer_loop._StuckWithoutPartitionsError, match="b"):
        loop._watch_assignment(consumer)
    now[0] += 1
    loop._watch_assignment(consumer)  # the reopened consumer still lacks "b"
    now[0] += 15
    loop._watch_assignment(consumer)  # the next rejoin waits 20 s, not 10
    now[0] += 6
    with pytest.raises(consumer_loop._StuckWithoutPartitionsError, match="b"):
        loop._watch_assignment(consumer)


def test_owned_topics_never_trigger_a_rejoin(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(consumer_loop.time, "monotonic", lambda: now[0])
    loop = _loop()
    consumer = StubConsumer({"a"}, {TopicPartition("a", 0)})
    for _ in range(10):
        now[0] += 30
        loop._watch_assignment(consumer)


def test_several_unowned_topics_share_one_patience(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(consumer_loop.time, "monotonic", lambda: now[0])
    loop = _loop()
    consumer = StubConsumer({"a", "b", "c", "d"}, {TopicPartition("a", 0)})
    rejoins = []
    for _ in range(100):  # 100 s
        now[0] += 1
        try:
            loop._watch_assignment(consumer)
        except consumer_loop._StuckWithoutPartitionsError as stuck:
            rejoins.append((now[0], str(stuck)))
    assert rejoins == [(12.0, "b, c, d"), (34.0, "b, c, d"), (76.0, "b, c, d")]  # 10, 20, 40 s


def test_a_member_that_owns_nothing_is_reopened_only_after_a_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(consumer_loop.time, "monotonic", lambda: now[0])
    loop = _loop()
    joining = StubConsumer({"a", "b"})
    loop._watch_assignment(joining)
    now[0] += 59
    loop._watch_assignment(joining)
    now[0] += 2
    with pytest.raises(consumer_loop._StuckWithoutPartitionsError, match="a, b"):
        loop._watch_assignment(joining)
