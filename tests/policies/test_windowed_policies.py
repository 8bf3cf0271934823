"""Each policy on a hand-made situation where it must decide as it is meant to.

Every test builds its policy by name (``build_policy``), so a missing policy fails it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from swifteats.domain.events import AssignmentRequested
from swifteats.domain.policies.base import Assignment, DispatchPolicy, DriverView, OpenOrder
from swifteats.domain.policies.registry import POLICY_NAMES, build_policy, ordering, policy_spec
from tests.policies.helpers import CONTEXT, at, busy, idle, order

WINDOWED = ("batch-matching", "bundling", "rolling-horizon")


def policy(name: str) -> DispatchPolicy:
    return build_policy(name, CONTEXT)


def decided(
    name: str, orders: list[OpenOrder], drivers: list[DriverView], now: float = 0.0
) -> set[Assignment]:
    return set(policy(name).decide(orders, drivers, now))


def test_every_policy_is_known_by_name_and_says_how_it_runs() -> None:
    assert set(POLICY_NAMES) == {"greedy-score", "nearest", *WINDOWED}
    for name in POLICY_NAMES:
        built = policy(name)
        assert built.name == name
        assert (
            (built.window_minutes is not None) == policy_spec(name).windowed == built.holds_orders
        )
    with pytest.raises(ValueError, match="known policies: greedy-score, nearest, batch-matching"):
        policy_spec("cheapest")


@pytest.mark.parametrize("name", WINDOWED)
def test_the_assigner_refuses_a_windowed_policy_with_a_clear_message(name: str) -> None:
    with pytest.raises(ValueError, match=f"policy '{name}' decides on a window"):
        ordering(name)


@pytest.mark.parametrize("name", WINDOWED)
def test_a_windowed_policy_takes_the_window_it_is_given(name: str) -> None:
    own = build_policy(name, CONTEXT).window_minutes
    assert own is not None
    given = build_policy(name, CONTEXT, window_minutes=own / 4)
    assert (given.name, given.window_minutes) == (name, own / 4)


# One at a time, through the same interface.


def test_one_at_a_time_policies_take_orders_in_turn_each_its_best_free_driver() -> None:
    orders = [order("first", ready=30.0), order("second", ready=30.0, restaurant=20.0)]
    drivers = [idle("near-both", 10.0), idle("far", -30.0)]
    expected = {Assignment("near-both", ("first",)), Assignment("far", ("second",))}
    assert decided("greedy-score", orders, drivers) == expected
    assert decided("nearest", orders, drivers) == expected


# batch-matching


def test_batch_matching_finds_the_pairs_one_at_a_time_misses() -> None:
    """``first`` comes first and takes the driver between the two restaurants, leaving
    ``second`` a 23-minute drive; matching both at once costs one more minute for
    ``first`` and saves five for ``second``."""
    orders = [order("first", ready=30.0), order("second", ready=30.0, restaurant=20.0)]
    drivers = [idle("between", 2.0), idle("behind", -3.0)]
    assert decided("greedy-score", orders, drivers) == {
        Assignment("between", ("first",)),
        Assignment("behind", ("second",)),
    }
    assert decided("batch-matching", orders, drivers) == {
        Assignment("behind", ("first",)),
        Assignment("between", ("second",)),
    }


def test_batch_matching_only_uses_free_drivers_and_keeps_their_shifts() -> None:
    orders = [order("o1", ready=20.0)]
    drivers = [busy("on-a-trip", 1.0, 1.0), idle("ends-soon", 5.0, shift_end=10.0)]
    assert decided("batch-matching", orders, drivers) == set()  # the order stays open


def test_batch_matching_serves_the_order_waiting_longest_when_drivers_are_short() -> None:
    orders = [order("fresh", placed=30.0, ready=40.0), order("old", placed=0.0, ready=40.0)]
    assert decided("batch-matching", orders, [idle("d", 1.0, now=30.0)], now=30.0) == {
        Assignment("d", ("old",))
    }


# bundling


def test_bundling_sends_one_driver_for_two_orders_of_a_restaurant_nearest_door_first() -> None:
    orders = [
        order("far-door", customer=20.0, ready=12.0),
        order("near-door", customer=10.0, ready=10.0),
    ]
    assert decided("bundling", orders, [idle("d", -5.0)]) == {
        Assignment("d", ("near-door", "far-door"))
    }


def test_bundling_keeps_orders_apart_with_drivers_to_spare_or_other_restaurants() -> None:
    same = [order("a", customer=10.0), order("b", customer=12.0)]
    assert decided("bundling", same, [idle("d1", -5.0), idle("d2", 5.0)]) == {
        Assignment("d1", ("a",)),
        Assignment("d2", ("b",)),
    }
    apart = [order("a", customer=10.0), order("b", customer=12.0, restaurant=1.0)]
    (only,) = decided("bundling", apart, [idle("d", -5.0)])
    assert len(only.order_ids) == 1


def test_bundling_never_bundles_opposite_doors_or_food_far_apart() -> None:
    opposite = [order("east", customer=30.0), order("west", customer=-30.0)]
    later = [order("now", customer=10.0, ready=10.0), order("later", customer=11.0, ready=60.0)]
    for orders in (opposite, later):
        (only,) = decided("bundling", orders, [idle("d", 5.0)])
        assert len(only.order_ids) == 1


def test_bundling_gives_a_pickup_to_a_driver_about_to_be_free_near_the_restaurant() -> None:
    orders = [order("o1", ready=10.0)]
    drivers = [busy("almost-done", 3.0, 1.0), idle("far-away", -40.0)]
    assert decided("bundling", orders, drivers) == {Assignment("almost-done", ("o1",))}


def test_bundling_revisits_a_queued_route_when_a_better_driver_frees_up() -> None:
    queued = OpenOrder("o1", "r", at(0.0), at(10.0), 0.0, 10.0, queued_with="slow")
    drivers = [busy("slow", 9.0, 8.0, route=("x",)), idle("here", 1.0)]
    assert decided("bundling", [queued], drivers) == {Assignment("here", ("o1",))}


# rolling-horizon


def test_rolling_horizon_waits_while_the_food_is_far_from_ready() -> None:
    orders = [order("o1", ready=30.0)]
    drivers = [idle("d", -5.0)]  # 5 minutes away: must leave by 30 - 2 - 5 = 23
    assert decided("bundling", orders, drivers) == {Assignment("d", ("o1",))}
    assert decided("rolling-horizon", orders, drivers, now=0.0) == set()
    assert decided("rolling-horizon", orders, [idle("d", -5.0, now=22.0)], now=22.0) == set()
    assert decided("rolling-horizon", orders, [idle("d", -5.0, now=23.0)], now=23.0) == {
        Assignment("d", ("o1",))
    }


def test_rolling_horizon_bundles_an_order_that_came_while_it_waited() -> None:
    first = order("first", customer=10.0, placed=0.0, ready=30.0)
    second = order("second", customer=12.0, placed=10.0, ready=31.0)
    drivers = [idle("d", -5.0, now=24.0)]
    assert decided("rolling-horizon", [first], [idle("d", -5.0)], now=0.0) == set()
    assert decided("rolling-horizon", [first, second], drivers, now=24.0) == {
        Assignment("d", ("first", "second"))
    }


def test_a_design_request_becomes_an_open_order_in_minutes_from_an_epoch() -> None:
    """What the Assignment Service's windowed step will hand a policy."""
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    request = AssignmentRequested(
        event_id="e",
        occurred_at=epoch + timedelta(minutes=90),
        order_id="o1",
        restaurant=at(0.0),
        customer=at(10.0),
        preparation_time=12.5,
        radius_km=5.0,
        items=(),
        total_amount=0.0,
        special_instructions="",
    )
    placed = epoch + timedelta(minutes=85)
    opened = OpenOrder.from_request(request, epoch=epoch, placed_at=placed)
    assert (opened.placed_at, opened.ready_at, opened.radius_km) == (85.0, 102.5, 5.0)
    assert opened.restaurant_id == OpenOrder.from_request(request, epoch=epoch).restaurant_id
    assert policy("bundling").decide([opened], [idle("d", -5.0, now=90.0)], 90.0) == [
        Assignment("d", ("o1",))
    ]


def test_rolling_horizon_keeps_a_backlog_off_long_empty_drives() -> None:
    """Both orders' food waits at ten past; ``near`` takes one, and the other waits for
    ``near`` (back within 20 minutes) rather than send ``far`` on a 40-minute empty drive
    while food waits for drivers. Without the backlog's price ``far`` goes too."""
    orders = [order("o1", customer=10.0, ready=0.0), order("o2", restaurant=2.0, ready=0.0)]
    drivers = [idle("near", 1.0, now=10.0), idle("far", 40.0, now=10.0)]
    unpriced = build_policy("rolling-horizon", CONTEXT, params={"backlog_weight": 0.0})
    assert set(unpriced.decide(orders, drivers, 10.0)) == {
        Assignment("near", ("o1",)),
        Assignment("far", ("o2",)),
    }
    (only,) = decided("rolling-horizon", orders, drivers, now=10.0)
    assert only.driver_id == "near"


def test_rolling_horizon_sends_a_far_driver_when_no_nearer_one_exists() -> None:
    """The backlog's price counts minutes beyond the best driver for the orders: the only
    driver, however far, is nobody's second choice."""
    orders = [order("o1", customer=10.0, ready=0.0)]
    assert decided("rolling-horizon", orders, [idle("far", 30.0, now=10.0)], now=10.0) == {
        Assignment("far", ("o1",))
    }
