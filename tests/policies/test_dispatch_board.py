"""The dispatch board: routes start or queue, queues change until they start, mistakes raise."""

from __future__ import annotations

import pytest

from swifteats.domain.dispatch_board import DispatchBoard, PolicyError
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.fleet import Delivery, ServiceTimes, plan_route
from swifteats.domain.policies.base import Assignment
from tests.policies.helpers import ETA, SERVICE, at, order


def board_with(*order_ids: str, restaurant: float = 0.0) -> DispatchBoard:
    """Two drivers at the restaurant's doorstep (1 minute away) and the given orders."""
    board = DispatchBoard(ETA, SERVICE)
    board.driver_on("d1", at(restaurant - 1), 100.0)
    board.driver_on("d2", at(restaurant + 1), 100.0)
    for i, order_id in enumerate(order_ids):
        board.add_order(order(order_id, customer=10.0 + 5 * i, ready=10.0))
    return board


def test_a_route_to_a_free_driver_starts_now_with_the_bundle_picked_up_together() -> None:
    board = board_with("o1", "o2")
    (route,) = board.apply([Assignment("d1", ("o1", "o2"))], now=0.0)
    assert route.order_ids == ("o1", "o2")
    assert (route.depart, route.arrive_restaurant, route.pickup) == (0.0, 1.0, 10.0)
    first, second = route.stops
    assert (first.arrive, first.dropoff, first.leave) == (22.0, 24.0, 26.0)
    assert (second.arrive, second.dropoff) == (31.0, 33.0)  # 5 minutes on, s_d/2 there
    assert board.waiting == 0
    view = {d.driver_id: d for d in board.drivers(0.0)}["d1"]
    assert view.status is DriverStatus.BUSY and view.free_at == 35.0 and view.route == ("o1", "o2")


def test_a_busy_driver_gets_a_queued_route_that_starts_when_it_is_free() -> None:
    board = board_with("o1", "o2")
    board.apply([Assignment("d1", ("o1",))], now=0.0)
    assert board.apply([Assignment("d1", ("o2",))], now=1.0) == []
    assert [o.queued_with for o in board.open_orders()] == ["d1"]
    queued = board.route_done("d1", now=26.0)
    assert queued is not None and queued.order_ids == ("o2",)
    assert (queued.assigned_at, queued.depart) == (1.0, 26.0)
    assert queued.origin == at(10.0)  # from the last door
    assert board.waiting == 0


def test_a_queued_route_can_change_hands_until_it_starts() -> None:
    board = board_with("o1", "o2", "o3")
    board.apply([Assignment("d1", ("o1",)), Assignment("d2", ("o2",))], now=0.0)
    board.apply([Assignment("d1", ("o3",))], now=1.0)
    board.apply([Assignment("d2", ("o3",))], now=2.0)  # o3 moves from d1's queue to d2's
    assert {o.order_id: o.queued_with for o in board.open_orders()} == {"o3": "d2"}
    assert board.route_done("d1", now=30.0) is None
    board.apply([Assignment("d2", ())], now=3.0)  # released: open again
    assert {o.order_id: o.queued_with for o in board.open_orders()} == {"o3": None}


@pytest.mark.parametrize(
    ("assignments", "message"),
    [
        ([Assignment("d1", ("o1",)), Assignment("d1", ("o2",))], "two routes"),
        ([Assignment("d1", ("o1",)), Assignment("d2", ("o1",))], "o1 is given twice"),
        ([Assignment("d1", ("o9",))], "not open: o9"),
        ([Assignment("d9", ("o1",))], "d9 is not on shift"),
    ],
)
def test_a_policy_mistake_raises_and_changes_nothing(
    assignments: list[Assignment], message: str
) -> None:
    board = board_with("o1", "o2")
    with pytest.raises(PolicyError, match=message):
        board.apply(assignments, now=0.0)
    assert board.waiting == 2
    assert all(d.status is DriverStatus.AVAILABLE for d in board.drivers(0.0))


def test_a_route_across_restaurants_or_past_the_shift_is_refused() -> None:
    board = board_with("o1")
    board.add_order(order("elsewhere", restaurant=50.0, ready=10.0))
    with pytest.raises(PolicyError, match="spans restaurants"):
        board.apply([Assignment("d1", ("o1", "elsewhere"))], now=0.0)
    board.driver_on("late", at(-90.0), 60.0)
    with pytest.raises(PolicyError, match="after its shift ends at 60.0"):
        board.apply([Assignment("late", ("o1",))], now=0.0)  # 90 minutes away


def test_drivers_off_shift_are_not_shown() -> None:
    board = board_with()
    board.driver_off("d2")
    assert [d.driver_id for d in board.drivers(0.0)] == ["d1"]
    assert board.drivers(101.0) == []


def test_a_one_order_route_keeps_the_trip_timing() -> None:
    route = plan_route(
        driver_id="d",
        deliveries=[Delivery("o", at(10.0), 20.0)],
        restaurant=at(0.0),
        driver_at=at(-5.0),
        depart=3.0,
        eta=ETA,
        service=ServiceTimes(4.0, 4.0),
    )
    (trip,) = route.trips()
    assert (trip.arrive_restaurant, trip.pickup, trip.depart_restaurant) == (8.0, 20.0, 22.0)
    assert (trip.arrive_customer, trip.dropoff, trip.free_at) == (32.0, 34.0, 36.0)
    assert trip.route_orders == ()
