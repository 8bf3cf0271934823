"""The consumer loop survives whatever its consumer raises, and says why it is not consuming."""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.structs import ConsumerGroupMetadata, MemberState

from swifteats.adapters.kafka import consumer_loop
from swifteats.adapters.kafka.consumer_loop import ConsumerLoop
from swifteats.domain.retry import RetryPolicy

TP = TopicPartition("driver_assignment.requests.3_-11", 2)
FAST = RetryPolicy(base_s=0.01, factor=2.0, cap_s=0.04, max_attempts=32)


@dataclass(frozen=True)
class FakeRecord:
    topic: str
    partition: int
    offset: int


@dataclass
class Log:
    """One partition's records and its committed offset: what the broker keeps."""

    size: int = 0
    committed: int = 0
    faults: defaultdict[str, list[BaseException]] = field(default_factory=lambda: defaultdict(list))
    """Exceptions each consumer method raises, one per call, before doing its work."""

    def append(self, n: int) -> None:
        self.size += n


class FakeConsumer:
    """A kafka-python consumer of one partition of ``log``, raising the log's faults."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.position_ = log.committed
        self.closed = False

    def _fault(self, method: str) -> None:
        if self.log.faults[method]:
            raise self.log.faults[method].pop(0)

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[FakeRecord]]:
        self._fault("poll")
        end = min(self.log.size, self.position_ + max_records)
        records = [FakeRecord(TP.topic, TP.partition, o) for o in range(self.position_, end)]
        self.position_ = end
        return {TP: records} if records else {}

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def subscription(self) -> set[str]:
        return {TP.topic}

    def group_metadata(self) -> ConsumerGroupMetadata:
        return ConsumerGroupMetadata(state=MemberState.STABLE)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.position_ = offset

    def commit(self) -> None:
        self._fault("commit")
        self.log.committed = self.position_

    def end_offsets(
        self, partitions: list[TopicPartition], timeout_ms: int | None = None
    ) -> dict[Any, int]:
        self._fault("end_offsets")
        return {TP: self.log.size}

    def position(self, partition: TopicPartition, timeout_ms: int | None = None) -> int:
        return self.position_

    def close(self, autocommit: bool) -> None:
        self.closed = True


class PauseLog(threading.Event):
    """A stop event that records every pause the loop takes and does not wait."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(timeout)
        return self.is_set()


@dataclass
class Harness:
    log: Log
    stop: PauseLog
    handled: list[int]
    consumers: list[FakeConsumer]
    connect_faults: list[BaseException]

    def start(self, **options: Any) -> ConsumerLoop:
        loop = ConsumerLoop(
            "test-consumer",
            self._connect,
            lambda record: self.handled.append(record.offset),
            after_batch=lambda: None,
            stop=self.stop,
            backoff=FAST,
            **options,
        )
        loop.start()
        return loop

    def _connect(self) -> Any:
        if self.connect_faults:
            raise self.connect_faults.pop(0)
        self.consumers.append(FakeConsumer(self.log))
        return self.consumers[-1]


@pytest.fixture
def harness() -> Iterator[Harness]:
    made = Harness(Log(), PauseLog(), [], [], [])
    yield made
    made.stop.set()


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(0.005)


def test_a_key_error_from_end_offsets_neither_ends_nor_stalls_the_loop(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer_loop, "_LAG_EVERY_S", 0.0)
    harness.log.append(5)
    harness.log.faults["end_offsets"] = [KeyError(TP)] * 3
    loop = harness.start()

    _wait(lambda: len(harness.handled) == 5, "the first records handled")
    _wait(lambda: not harness.log.faults["end_offsets"], "every lag query failed once")
    harness.log.append(5)  # the probe's orders that waited 4 minutes
    _wait(lambda: len(harness.handled) == 10, "records after the failures handled")

    assert loop.is_alive()
    assert loop.failures == 3
    assert loop.last_failure is not None and loop.last_failure.startswith("KeyError")
    _wait(lambda: loop.lag == 0, "the lag known again")
    assert loop.problem() is None


@pytest.mark.parametrize(
    "faults",
    [
        [RuntimeError("boom"), KeyError("gone"), AssertionError()],
        [ValueError("bad"), TypeError("worse"), ZeroDivisionError()],
    ],
)
def test_any_exception_from_a_poll_makes_a_new_consumer_after_growing_pauses(
    harness: Harness, faults: list[BaseException]
) -> None:
    harness.log.append(3)
    harness.log.faults["poll"] = list(faults)
    loop = harness.start()

    _wait(lambda: harness.handled == [0, 1, 2], "the records handled")
    assert loop.is_alive()
    assert loop.failures == 3
    assert len(harness.consumers) == 4
    assert all(consumer.closed for consumer in harness.consumers[:3])
    assert harness.stop.pauses[:3] == [0.01, 0.02, 0.04]


def test_a_consumer_that_cannot_be_made_is_tried_again(harness: Harness) -> None:
    harness.log.append(2)
    harness.connect_faults.extend([OSError("no route"), KeyError("metadata")])
    loop = harness.start()

    _wait(lambda: harness.handled == [0, 1], "the records handled")
    assert loop.failures == 2
    assert harness.stop.pauses[:2] == [0.01, 0.02]


def test_a_working_poll_resets_the_backoff(harness: Harness) -> None:
    harness.log.append(1)
    loop = harness.start()
    _wait(lambda: harness.handled == [0], "the first record handled")
    for offset in (1, 2):
        harness.log.faults["poll"].append(RuntimeError("again"))
        harness.log.append(1)
        _wait(lambda offset=offset: harness.handled[-1:] == [offset], f"record {offset}")

    assert loop.failures == 2
    assert [pause for pause in harness.stop.pauses if pause != 0.2] == [0.01, 0.01]


def test_a_failing_commit_reads_the_batch_again_with_a_new_consumer(harness: Harness) -> None:
    harness.log.append(2)
    harness.log.faults["commit"] = [KeyError("coordinator")]
    loop = harness.start()

    _wait(lambda: harness.handled == [0, 1, 0, 1], "the batch handled twice")
    _wait(lambda: harness.log.committed == 2, "the batch committed")
    assert loop.failures == 1


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_exception_that_ends_the_thread_is_logged_and_shown_on_health(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.log.faults["poll"] = [SystemExit(3)]  # threading ends the thread silently
    with caplog.at_level(logging.CRITICAL):
        loop = harness.start()
        loop.join(timeout=10)

    assert not loop.is_alive()
    assert "ended without being stopped" in caplog.text
    assert loop.problem() == "the consumer thread has stopped"


def test_a_batch_is_handled_within_its_budget_and_the_rest_read_next_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(consumer_loop.time, "monotonic", lambda: now[0])
    log = Log(size=10)
    consumer = FakeConsumer(log)
    handled: list[int] = []

    def slow(record: FakeRecord) -> None:
        handled.append(record.offset)
        now[0] += 0.4

    loop = ConsumerLoop(
        "test", lambda: None, slow, after_batch=lambda: None, stop=threading.Event()
    )
    loop._poll_once(consumer)
    assert handled == [0, 1, 2]  # 1.2 s > the 1 s budget after the third
    assert log.committed == 3

    loop._poll_once(consumer)
    assert handled == [0, 1, 2, 3, 4, 5]
    assert log.committed == 6


class JoiningConsumer(FakeConsumer):
    """Subscribed to a topic that exists, owning none of its partitions: still joining."""

    def assignment(self) -> set[TopicPartition]:
        return set()

    def group_metadata(self) -> ConsumerGroupMetadata:
        return ConsumerGroupMetadata(state=MemberState.REBALANCING)


def test_problem_names_a_stale_poll_and_an_idle_member(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(consumer_loop.time, "monotonic", lambda: now[0])
    loop = ConsumerLoop(
        "test", lambda: None, lambda r: None, after_batch=lambda: None, stop=threading.Event()
    )
    monkeypatch.setattr(loop, "is_alive", lambda: True)
    assert loop.problem() == "no successful poll yet"

    loop._poll_once(FakeConsumer(Log()))
    assert loop.problem() is None
    now[0] += 16
    loop.last_failure = "KafkaConnectionError: refused"
    assert (
        loop.problem() == "no successful poll for 16 s; last failure: KafkaConnectionError: refused"
    )

    idle = JoiningConsumer(Log())
    loop._poll_once(idle)
    now[0] += 20
    loop._poll_once(idle)
    assert loop.problem() is None  # joining a group may take a while
    now[0] += 11
    loop._poll_once(idle)
    assert loop.problem() == "no partition of the 1 subscribed topic(s) assigned for 31 s"

    loop._poll_once(FakeConsumer(Log()))
    assert loop.problem() is None


def test_a_poll_is_handled_as_one_batch_and_one_by_one_when_the_batch_fails(
    harness: Harness,
) -> None:
    batches: list[list[int]] = []

    def together(records: list[Any]) -> None:
        offsets = [record.offset for record in records]
        batches.append(offsets)
        if 3 in offsets:
            raise RuntimeError("a poison record among them")

    harness.log.append(3)
    harness.start(handle_batch=together)
    _wait(lambda: batches == [[0, 1, 2]], "the first poll handled together")
    harness.log.append(2)
    _wait(lambda: harness.handled == [3, 4], "the failed batch handled one by one")

    assert batches == [[0, 1, 2], [3, 4]]
    _wait(lambda: harness.log.committed == 5, "everything committed")
