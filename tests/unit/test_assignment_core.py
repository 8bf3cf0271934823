"""The Assignment Service's core on an external decision clock (lockstep replays).

Requests are held until ``decide`` names an instant; a one-at-a-time policy then decides
them in (request instant, order id) order whatever order they were read in, and a windowed
policy decides when its window ends.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.topics import RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.core import (
    AnswersNotPublishedError,
    AssignmentCore,
    NotExternalClockError,
)
from swifteats.services.outgoing import Outgoing
from swifteats.settings import Settings
from tests.unit.test_assignment_handler import encode, north, request

START = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
TOPIC = "driver_assignment.requests.4_-7"


class Collected:
    """A bus that keeps what was published and flushed."""

    def __init__(self) -> None:
        self.pending: list[Outgoing] = []
        self.flushed: list[Outgoing] = []

    def publish(self, message: Outgoing) -> None:
        self.pending.append(message)

    def flush(self) -> None:
        self.flushed += self.pending
        self.pending = []


class Flaky(Collected):
    """A bus whose next ``failures`` flushes fail and drop what was queued, as Kafka's does."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    def flush(self) -> None:
        if self.failures:
            self.failures -= 1
            self.pending = []
            raise ConnectionError("broker gone")
        super().flush()


def core(
    policy: str = "greedy-score", clock: str = "external"
) -> tuple[AssignmentCore, InMemoryDriverIndex, Flaky]:
    drivers = InMemoryDriverIndex()
    bus = Flaky()
    settings = Settings(policy=policy, decision_clock=clock, policy_window_s=60)
    made = AssignmentCore(settings, drivers=drivers, bus=bus, metrics=ServiceMetrics("t"))
    return made, drivers, bus


def read(
    made: AssignmentCore,
    order_id: str,
    occurred: datetime,
    position: tuple[int, int] | None = None,
) -> None:
    instant = occurred.isoformat().replace("+00:00", "Z")
    raw = encode(request(orderId=order_id, occurredAt=instant, eventId=f"e-{order_id}"))
    made.on_request(raw, topic=TOPIC, key=order_id, position=position)


def answers(bus: Collected) -> list[dict[str, object]]:
    return [m.payload for m in bus.flushed if m.topic == RESPONSES_TOPIC]


def test_requests_wait_for_the_decision_and_are_decided_earliest_first() -> None:
    made, drivers, bus = core()
    made.decide(START)
    drivers.register("near", north(0.5), DriverStatus.AVAILABLE)
    drivers.register("far", north(2.0), DriverStatus.AVAILABLE)
    read(made, "b-later", START + timedelta(seconds=2))
    read(made, "z-first", START)
    read(made, "a-first", START)

    assert answers(bus) == [] and made.held == 3 and made.requests_seen == 3
    report = made.decide(START + timedelta(seconds=2))

    decided = [(a["orderId"], a.get("driverId")) for a in answers(bus)]
    assert decided == [("a-first", "near"), ("z-first", "far"), ("b-later", None)]
    assert report.answers_published == 3 and report.held == 0
    assert report.next_decision_at is None


def test_a_windowed_policy_decides_when_its_window_ends_and_says_when_that_is() -> None:
    made, drivers, bus = core("batch-matching")
    made.decide(START)
    drivers.register("d", north(0.5), DriverStatus.AVAILABLE)
    read(made, "o1", START)

    early = made.decide(START + timedelta(seconds=30))
    assert answers(bus) == [] and early.next_decision_at == START + timedelta(seconds=60)
    made.decide(START + timedelta(seconds=60))
    assert [(a["orderId"], a["driverId"]) for a in answers(bus)] == [("o1", "d")]


def test_a_service_on_its_own_clock_decides_as_it_reads_and_refuses_decide() -> None:
    made, drivers, bus = core(clock="wall")
    drivers.register("d", north(0.5), DriverStatus.AVAILABLE)
    read(made, "o1", START)
    made.flush()
    assert json.loads(json.dumps(answers(bus)))[0]["driverId"] == "d"
    with pytest.raises(NotExternalClockError):
        made.decide(START)


def test_held_requests_keep_their_offsets_uncommitted_until_answered() -> None:
    made, drivers, _ = core("batch-matching")
    made.decide(START)
    read(made, "o1", START, position=(0, 5))
    read(made, "o2", START, position=(0, 7))
    read(made, "o3", START, position=(1, 3))
    read(made, "o1", START, position=(0, 9))  # sent again: the earliest record still counts

    assert made.uncommitted() == {(TOPIC, 0): 5, (TOPIC, 1): 3}
    made.decide(START + timedelta(seconds=60))  # nobody to send: all still held
    assert made.uncommitted() == {(TOPIC, 0): 5, (TOPIC, 1): 3}
    for i in range(3):
        drivers.register(f"d{i}", north(0.5 + i / 10), DriverStatus.AVAILABLE)
    made.decide(START + timedelta(seconds=120))
    assert made.held == 0 and made.uncommitted() == {}


def test_waiting_for_requests_times_out_when_fewer_were_read() -> None:
    made, _, _ = core()
    read(made, "o1", START)
    assert made.wait_for_requests(1, timeout_s=0.0)
    assert not made.wait_for_requests(2, timeout_s=0.01)


def one_held_order(failing_flushes: int) -> tuple[AssignmentCore, Flaky]:
    """A batch-matching core holding order o1 (offset 5) with a driver for it, whose bus
    fails the next ``failing_flushes`` flushes."""
    made, drivers, bus = core("batch-matching")
    made.decide(START)
    drivers.register("d", north(0.5), DriverStatus.AVAILABLE)
    read(made, "o1", START, position=(0, 5))
    bus.failures = failing_flushes
    return made, bus


def test_answers_a_failed_flush_dropped_are_sent_again_by_the_next_try() -> None:
    made, bus = one_held_order(2)

    report = made.decide(START + timedelta(seconds=60))

    assert [(a["orderId"], a["driverId"]) for a in answers(bus)] == [("o1", "d")]
    assert report.answers_published == 1 and made.uncommitted() == {}


def test_a_decision_the_bus_never_acknowledged_keeps_its_offset_and_goes_out_later() -> None:
    made, bus = one_held_order(3)

    with pytest.raises(AnswersNotPublishedError, match="broker gone"):
        made.decide(START + timedelta(seconds=60))
    assert answers(bus) == [] and made.uncommitted() == {(TOPIC, 0): 5}

    made.flush()  # the consumer's next batch
    assert [a["orderId"] for a in answers(bus)] == ["o1"] and made.uncommitted() == {}
