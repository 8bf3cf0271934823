"""One windowed decision as the Assignment Service takes it: held orders and Redis's drivers
in; routes that start, with one ETA per order, and queued routes that changed out
(``swifteats.domain.window_step``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from swifteats.domain.dispatch_board import PolicyError
from swifteats.domain.drivers import (
    DriverPlan,
    DriverRecord,
    DriverStatus,
    QueuedRoute,
    RouteEnd,
)
from swifteats.domain.policies.base import Assignment, DriverView, OpenOrder
from swifteats.domain.policies.registry import build_policy
from swifteats.domain.window_step import RoutePlan, WindowDecision, decide_window
from tests.policies.helpers import CONTEXT, at, order

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
BUNDLING = build_policy("bundling", CONTEXT)


def driver(
    driver_id: str,
    where: float,
    status: DriverStatus = DriverStatus.AVAILABLE,
    shift_end: float | None = None,
) -> DriverRecord:
    ends = None if shift_end is None else EPOCH + timedelta(minutes=shift_end)
    return DriverRecord(driver_id, at(where), status, shift_ends_at=ends)


def test_a_bundle_becomes_one_route_with_each_orders_minutes_to_its_door() -> None:
    orders = [
        order("far-door", customer=20.0, ready=12.0),
        order("near-door", customer=10.0, ready=10.0),
    ]
    decision = decide_window(
        BUNDLING, CONTEXT, orders, [driver("d", -5.0)], {}, now=0.0, epoch=EPOCH
    )
    # 5 min to the restaurant, pickup when the later food is ready (12) plus half the
    # 4-minute service, 10 min to the near door; 4 min there, 10 more to the far door,
    # 4 min there: free at minute 42 at the far door.
    end = RouteEnd(EPOCH + timedelta(minutes=42), at(20.0))
    assert decision == WindowDecision(
        [RoutePlan("d", (("near-door", 24), ("far-door", 38)), end)], {}
    )


def test_a_busy_driver_about_to_be_free_nearby_gets_the_route_queued() -> None:
    busy = driver("b", 5.0, DriverStatus.BUSY)
    ends = DriverPlan(RouteEnd(EPOCH + timedelta(minutes=3), at(1.0)), None)
    drivers = [busy, driver("far", 30.0)]

    decision = decide_window(
        BUNDLING, CONTEXT, [order("o")], drivers, {"b": ends}, now=0.0, epoch=EPOCH
    )

    # Free at minute 3 one minute from the restaurant; pickup at 10 (ready) + 2, ten
    # minutes to the door: there 19 minutes after the start, free 4 minutes later.
    queued = QueuedRoute((("o", 19),), 23.0, at(10.0))
    assert decision == WindowDecision([], {"b": queued})

    again = DriverPlan(ends.end, queued)
    assert decide_window(
        BUNDLING, CONTEXT, [order("o")], drivers, {"b": again}, now=1.0, epoch=EPOCH
    ) == WindowDecision([], {})  # unchanged: nothing to write back


def test_a_queued_route_given_up_is_written_back_as_none() -> None:
    queued = QueuedRoute((("o", 19),), 23.0, at(10.0))
    far_end = DriverPlan(RouteEnd(EPOCH + timedelta(minutes=9), at(8.0)), queued)
    drivers = [driver("b", 5.0, DriverStatus.BUSY), driver("near", 0.5)]

    decision = decide_window(
        BUNDLING, CONTEXT, [order("o")], drivers, {"b": far_end}, now=9.0, epoch=EPOCH
    )

    assert [p.driver_id for p in decision.started] == ["near"]
    assert decision.queued == {"b": None}


def test_busy_drivers_with_no_known_end_and_drivers_off_shift_are_not_shown() -> None:
    shown: list[Sequence[DriverView]] = []

    class Recording:
        name, window_minutes, holds_orders = "recording", 1.0, True

        def decide(
            self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
        ) -> list[Assignment]:
            shown.append(drivers)
            return []

    drivers = [
        driver("free", 1.0),
        driver("busy", 0.0, DriverStatus.BUSY),
        driver("offline", 0.0, DriverStatus.OFFLINE),
        driver("gone", 0.0, shift_end=40.0),
    ]
    decided = decide_window(Recording(), CONTEXT, [order("o")], drivers, {}, now=50.0, epoch=EPOCH)
    assert decided == WindowDecision()
    (views,) = shown
    assert [(v.driver_id, v.idle, v.free_at <= 50.0) for v in views] == [("free", True, True)]


def test_an_assignment_that_cannot_be_carried_out_raises_instead_of_dropping_orders() -> None:
    class Wrong:
        name, window_minutes, holds_orders = "wrong", 1.0, True

        def decide(
            self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
        ) -> list[Assignment]:
            return [Assignment("nobody", ("o",))]

    with pytest.raises(PolicyError, match="nobody is not on shift"):
        decide_window(Wrong(), CONTEXT, [order("o")], [driver("d", 0.0)], {}, now=0.0, epoch=EPOCH)
