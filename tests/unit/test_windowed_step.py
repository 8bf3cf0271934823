"""The Assignment Service's windowed step: requests held, answered once a window ends.

The step runs over the in-memory driver index (the Redis one keeps the same contract,
``test_driver_index_contract``) and a clock the test moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.domain.clock import ManualClock
from swifteats.domain.drivers import DriverStatus, RouteEnd
from swifteats.domain.events import AssignmentRequested
from swifteats.domain.geo import Point
from swifteats.domain.policies.base import Assignment, DriverView, OpenOrder
from swifteats.domain.policies.registry import build_policy
from swifteats.domain.topics import REQUEST_ID_HEADER, RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.decisions import Arrival
from swifteats.services.assignment.windowed import WindowedStep
from tests.policies.helpers import CONTEXT, at

START = datetime(2026, 1, 1, 12, tzinfo=UTC)


def request(order_id: str, customer: float, *, event_id: str | None = None) -> AssignmentRequested:
    return AssignmentRequested(
        event_id=event_id or f"event-{order_id}",
        occurred_at=START,
        order_id=order_id,
        restaurant=at(0.0),
        customer=at(customer),
        preparation_time=10.0,
        radius_km=5.0,
        items=(),
        total_amount=0.0,
        special_instructions="",
    )


def arrival(held: AssignmentRequested, at: datetime) -> Arrival:
    """``held`` as read at ``at`` (business and wall time alike)."""
    return Arrival(held, at, at, held.occurred_at)


def setup(policy: str = "bundling") -> tuple[WindowedStep, InMemoryDriverIndex, ManualClock]:
    clock = ManualClock(START)
    drivers = InMemoryDriverIndex()
    step = WindowedStep(
        build_policy(policy, CONTEXT, window_minutes=0.5),
        CONTEXT,
        drivers,
        clock=clock,
        metrics=ServiceMetrics("driver-assignment"),
        max_hold_s=120,
    )
    return step, drivers, clock


def later(clock: ManualClock, seconds: float) -> None:
    clock.advance_to(clock() + timedelta(seconds=seconds))


def test_held_requests_are_answered_when_the_window_ends_one_response_per_order() -> None:
    step, drivers, clock = setup()
    drivers.register("d", at(-3.0), DriverStatus.AVAILABLE)
    step.hold(arrival(request("near", 8.0), START))
    step.hold(arrival(request("far", 12.0), START))
    assert not step.due()

    later(clock, 30)
    assert step.due()
    answers = step.step()

    assert [(a.topic, a.key, a.payload["driverId"]) for a in answers] == [
        (RESPONSES_TOPIC, "near", "d"),
        (RESPONSES_TOPIC, "far", "d"),
    ]
    assert [a.headers[REQUEST_ID_HEADER] for a in answers] == ["event-near", "event-far"]
    near, far = (a.payload["eta"] for a in answers)
    assert 0 < near < far
    assert step.held == 0
    assert not step.due()
    record = drivers.get("d")
    assert record is not None
    assert (record.status, record.order_id) == (DriverStatus.BUSY, "far")


def test_a_batch_gives_each_order_its_own_driver() -> None:
    step, drivers, clock = setup("batch-matching")
    for driver_id, where in (("d1", -2.0), ("d2", 2.0)):
        drivers.register(driver_id, at(where), DriverStatus.AVAILABLE)
    step.hold(arrival(request("a", 8.0), START))
    step.hold(arrival(request("b", -8.0), START))
    later(clock, 30)
    chosen = {a.key: a.payload["driverId"] for a in step.step()}
    assert sorted(chosen) == ["a", "b"]
    assert sorted(chosen.values()) == ["d1", "d2"]


def test_a_route_whose_driver_was_taken_meanwhile_stays_held_for_the_next_window() -> None:
    step, drivers, clock = setup()
    drivers.register("d", at(-3.0), DriverStatus.AVAILABLE)
    step.hold(arrival(request("o", 8.0), START))
    later(clock, 30)
    drivers.claim("elsewhere", [("d", 5)])  # another process of the group was quicker

    assert step.step() == []
    assert step.held == 1

    drivers.register("d2", at(-1.0), DriverStatus.AVAILABLE)
    later(clock, 30)
    (answer,) = step.step()
    assert step.queued == ()
    assert (answer.key, answer.payload["driverId"]) == ("o", "d2")


def test_a_request_nobody_takes_fails_after_the_hold_and_a_resend_keeps_its_first_instant() -> None:
    step, drivers, clock = setup()
    step.hold(arrival(request("o", 8.0), START))
    later(clock, 90)
    assert step.step() == []
    step.hold(arrival(request("o", 8.0, event_id="event-o"), clock()))  # the Order Service re-sends
    later(clock, 30)

    (answer,) = step.step()

    assert answer.payload["status"] == "failed"
    assert answer.payload["error"] == "No available drivers in area"
    assert answer.headers[REQUEST_ID_HEADER] == "event-o"
    assert step.held == 0


def test_a_request_sent_again_after_its_answer_gets_the_driver_it_holds() -> None:
    step, drivers, clock = setup()
    drivers.register("d", at(-3.0), DriverStatus.AVAILABLE)
    step.hold(arrival(request("o", 8.0), START))
    later(clock, 30)
    (first,) = step.step()
    drivers.register("d2", Point(0.0, 0.0), DriverStatus.AVAILABLE)

    step.hold(
        arrival(request("o", 8.0), clock())
    )  # the answer was lost; the Order Service re-sends
    later(clock, 30)
    (again,) = step.step()

    assert again.payload == {**first.payload, "assignedAt": again.payload["assignedAt"]}


def test_a_route_queued_on_a_busy_driver_starts_at_its_drop_off_and_is_answered_then() -> None:
    step, drivers, clock = setup()
    drivers.register("b", at(-1.0), DriverStatus.AVAILABLE)
    drivers.register("far", at(30.0), DriverStatus.AVAILABLE)
    end = RouteEnd(START + timedelta(minutes=3), at(1.0))
    assert drivers.claim_route("b", [("earlier", 2)], end)
    step.hold(arrival(request("o", 10.0), START))
    later(clock, 30)

    assert step.step() == []  # queued on b, free in 3 minutes next door: better than far
    assert step.queued == ("b",)  # a replay reads b's route at b's next drop-off
    plan = drivers.plans(["b"])["b"]
    assert plan.queued is not None
    assert plan.queued.order_ids == ("o",)
    later(clock, 150)
    assert step.step() == []  # held past max_hold_s, but on a queued route: not failed

    assert drivers.release("b", "earlier", at(1.0), clock())
    later(clock, 30)
    (answer,) = step.step()

    assert (answer.key, answer.payload["driverId"], answer.payload["status"]) == (
        "o",
        "b",
        "assigned",
    )
    assert answer.payload["eta"] == plan.queued.etas[0][1]
    assert step.held == 0


def test_windows_stay_on_their_grid_when_a_decision_comes_late() -> None:
    step, _, clock = setup()  # a window of 30 s
    later(clock, 100)
    assert step.due()
    step.step()
    later(clock, 19)
    assert not step.due()  # the next window ends at 120 s, not 130 s
    later(clock, 1)
    assert step.due()


class TakesAnything:
    """A policy that gives every open order to the first driver shown, however far."""

    name = "takes-anything"
    window_minutes = 0.5
    holds_orders = True

    def decide(
        self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
    ) -> list[Assignment]:
        return [Assignment(drivers[0].driver_id, (o.order_id,)) for o in orders[:1] if drivers]


def test_a_route_with_an_eta_no_answer_may_carry_is_not_claimed() -> None:
    clock = ManualClock(START)
    drivers = InMemoryDriverIndex()
    step = WindowedStep(
        TakesAnything(),
        CONTEXT,
        drivers,
        clock=clock,
        metrics=ServiceMetrics("driver-assignment"),
        max_hold_s=120,
    )
    drivers.register("d", at(-3.0), DriverStatus.AVAILABLE)
    step.hold(arrival(request("a-week-away", 10_100.0), START))
    later(clock, 30)
    assert step.step() == []
    assert step.held == 1
    assert drivers.count_available() == 1


class _SeesDrivers:
    """A windowed policy that assigns nothing and keeps the drivers it was shown."""

    name = "sees-drivers"
    window_minutes = 0.5
    holds_orders = True

    def __init__(self) -> None:
        self.shown: list[list[str]] = []

    def decide(
        self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
    ) -> list[Assignment]:
        self.shown.append([d.driver_id for d in drivers])
        return []


def test_the_policy_sees_the_same_drivers_in_the_same_order_however_the_requests_arrived() -> None:
    """A live service reads its geo topics in no fixed order; its decisions must not
    depend on it (the replay's live and in-process runs are identical by construction)."""
    west = replace(request("west", 8.0), restaurant=at(-0.03))
    east = replace(request("east", 8.0), restaurant=at(0.03))
    shown = []
    for arrived in ((west, east), (east, west)):
        policy = _SeesDrivers()
        clock = ManualClock(START)
        drivers = InMemoryDriverIndex()
        for driver_id, where in (("d1", -0.04), ("d2", 0.0), ("d3", 0.04)):
            drivers.register(driver_id, at(where), DriverStatus.AVAILABLE)
        metrics = ServiceMetrics("driver-assignment")
        step = WindowedStep(policy, CONTEXT, drivers, clock=clock, metrics=metrics, max_hold_s=120)
        for held in arrived:
            step.hold(arrival(held, START))
        later(clock, 30)
        step.step()
        shown += policy.shown
    assert shown == [["d1", "d2", "d3"]] * 2
