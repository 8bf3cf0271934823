"""The consumer loop rejoins when a subscribed topic never reaches this member, ever more
patiently, and gives a join in progress a minute."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from kafka import TopicPartition
from kafka.structs import ConsumerGroupMetadata, MemberState

from swifteats.adapters.kafka import consumer_loop
from swifteats.adapters.kafka.consumer_loop import ConsumerLoop


@dataclass
class StubConsumer:
    """Just the questions the watchdog asks of a consumer."""

    topics: set[str]
    owned: set[TopicPartition] = field(default_factory=set)
    state: str = MemberState.STABLE

    def group_metadata(self) -> ConsumerGroupMetadata:
        return ConsumerGroupMetadata(state=self.state)

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
    with pytest.raises(consumer_loop._StuckError, match="b"):
        loop._watch_assignment(consumer)
    now[0] += 1
    loop._watch_assignment(consumer)  # the reopened consumer still lacks "b"
    now[0] += 15
    loop._watch_assignment(consumer)  # the next rejoin waits 20 s, not 10
    now[0] += 6
    with pytest.raises(consumer_loop._StuckError, match="b"):
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
        except consumer_loop._StuckError as stuck:
            rejoins.append((now[0], str(stuck)))
    assert rejoins == [
        (12.0, "no partition of b, c, d for 11 s"),
        (34.0, "no partition of b, c, d for 21 s"),
        (76.0, "no partition of b, c, d for 41 s"),
    ]


def test_a_joined_member_that_owns_nothing_rejoins_after_ten_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(consumer_loop.time, "monotonic", lambda: now[0])
    loop = _loop()
    left_out = StubConsumer({"a"})  # a topic created while the group was joining
    loop._watch_assignment(left_out)
    now[0] += 11
    with pytest.raises(consumer_loop._StuckError, match="no partition of a for 11 s"):
        loop._watch_assignment(left_out)


def test_a_join_in_progress_is_left_alone_for_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(consumer_loop.time, "monotonic", lambda: now[0])
    loop = _loop()
    joining = StubConsumer({"a", "b"}, state=MemberState.REBALANCING)
    loop._watch_assignment(joining)
    for _ in range(60):
        now[0] += 1
        loop._watch_assignment(joining)
    now[0] += 1
    with pytest.raises(consumer_loop._StuckError, match="still joining the group after 60 s"):
        loop._watch_assignment(joining)
