"""Writing the MDRP evaluator's solution files and checking them, rule by rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, replace
from pathlib import Path

import pytest

from replay.inputs import LoggedOrder, PlanarEta, ReplayInput
from replay.mdrp.check import check_solution, format_report
from replay.mdrp.export import solution_from_trips, write_solution
from replay.mdrp.instance import MdrpCourier, MdrpInstance, MdrpOrder, load_mdrp_instance, mdrp_root
from replay.mdrp.metrics import CheckReport, Distribution
from replay.mdrp.solution import (
    ASSIGNMENTS,
    COURIERS,
    ORDERS,
    Assignment,
    CourierMove,
    DeliveredOrder,
    Solution,
)
from swifteats.domain.fleet import Trip, plan_trip
from swifteats.domain.geo import Point

SKIP = "MDRP instances not found: set SWIFTEATS_MDRP_DIR or put shared/ beside the repo"

# 100 m a minute: c1 reaches r1 in 3 min, r1 -> o1 is 5, o1 -> o2 is 3; c2 -> r2 is 3,
# r2 -> o3 is 6. Service 4 + 4: pickup and drop-off 2 min after arrival, leave 2 later.
TINY = MdrpInstance(
    name="tiny",
    orders={
        "o1": MdrpOrder(0, 500, 0, "r1", 10),
        "o2": MdrpOrder(0, 800, 2, "r1", 12),
        "o3": MdrpOrder(1000, 600, 5, "r2", 20),
    },
    restaurants={"r1": (0, 0), "r2": (1000, 0)},
    couriers={"c1": MdrpCourier(0, -300, 0, 60), "c2": MdrpCourier(1000, -300, 3, 60)},
    meters_per_minute=100,
    pickup_minutes=4,
    dropoff_minutes=4,
    target_click_to_door=25,
    max_click_to_door=90,
    pay_per_order=10,
    guaranteed_pay_per_hour=15,
)


def feasible() -> Solution:
    """c1 carries the bundle o1, o2 from r1; c2 carries o3 from r2."""
    return Solution(
        assignments=[Assignment(2, 12, "c1", ("o1", "o2")), Assignment(5, 20, "c2", ("o3",))],
        orders=[
            DeliveredOrder("o1", 0, 10, 12, 21, "c1"),
            DeliveredOrder("o2", 2, 12, 12, 28, "c1"),
            DeliveredOrder("o3", 5, 20, 20, 30, "c2"),
        ],
        moves=[
            CourierMove("c1", 2, "0", "r1"),  # arrives 5, picks up 12 (ready), leaves 14
            CourierMove("c1", 14, "r1", "o1"),  # arrives 19, drops 21, leaves 23
            CourierMove("c1", 23, "o1", "o2"),  # arrives 26, drops 28
            CourierMove("c2", 5, "0", "r2"),  # arrives 8, picks up 20 (ready), leaves 22
            CourierMove("c2", 22, "r2", "o3"),  # arrives 28, drops 30
        ],
    )


def checked(folder: Path, solution: Solution, instance: MdrpInstance = TINY) -> CheckReport:
    write_solution(folder, *solution)
    return check_solution(folder, instance)


def rules(report: CheckReport) -> set[str]:
    """The rules named, e.g. ``{"rule 7", "format"}``."""
    return {v.split(":")[0].split(" (")[0] for v in report.violations}


def summary(distribution: Distribution | None) -> tuple[float, ...]:
    """Mean, p10, p50 and p90."""
    assert distribution is not None
    return astuple(distribution)


def test_a_feasible_solution_and_the_evaluator_s_metrics(tmp_path: Path) -> None:
    report = checked(tmp_path, feasible())
    assert report.feasible and report.violations == []
    assert (report.delivered, report.total) == (3, 3)
    assert summary(report.click_to_door) == pytest.approx((24, 21.8, 25, 25.8))
    assert summary(report.ready_to_door) == pytest.approx((37 / 3, 10.2, 11, 15))
    assert summary(report.ready_to_pickup) == pytest.approx((2 / 3, 0, 0, 1.6))
    assert summary(report.click_to_door_overage) == pytest.approx((1 / 3, 0, 0, 0.8))
    assert summary(report.orders_per_hour)[0] == pytest.approx((2 + 60 / 57) / 2)
    # c1: 11 min driving + 2 drop-offs + 1 pickup of 4 min over 60; c2: 9 + 4 + 4 over 57.
    assert summary(report.utilisation)[0] == pytest.approx((23 / 60 + 17 / 57) / 2)
    assert report.total_pay == pytest.approx(20 + 14.25)
    text = format_report(report)
    assert "orders delivered: 3 out of 3" in text
    assert "click-to-door: mean 24.00, p10 21.80, p50 25.00, p90 25.80" in text
    assert text.endswith("\nFEASIBLE")


def test_the_files_are_exactly_the_evaluator_s_format(tmp_path: Path) -> None:
    solution = feasible()
    shuffled = [solution.moves[i] for i in (4, 0, 2, 3, 1)]
    write_solution(tmp_path, solution.assignments, solution.orders, shuffled)
    assert (tmp_path / ASSIGNMENTS).read_text() == (
        "assignment_time pickup_time courier orders\n2 12 c1 o1 o2\n5 20 c2 o3\n"
    )
    assert (tmp_path / ORDERS).read_text().splitlines() == [
        "order placement_time ready_time pickup_time dropoff_time courier",
        "o1 0 10 12 21 c1",
        "o2 2 12 12 28 c1",
        "o3 5 20 20 30 c2",
    ]
    assert (tmp_path / COURIERS).read_text().splitlines() == [
        "courier departure_time origin destination",
        "c2 5 0 r2",
        "c2 22 r2 o3",
        "c1 2 0 r1",
        "c1 14 r1 o1",
        "c1 23 o1 o2",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        Solution([Assignment(2, 12, "c1", ())], [], []),
        Solution([], [DeliveredOrder("o 1", 0, 10, 12, 21, "c1")], []),
        Solution([], [], [CourierMove("", 2, "0", "r1")]),
    ],
)
def test_the_writer_refuses_what_would_break_the_format(tmp_path: Path, bad: Solution) -> None:
    with pytest.raises(ValueError, match="no order|whitespace"):
        write_solution(tmp_path, *bad)


Mutation = Callable[[Solution], None]


def change(kind: str, index: int, **fields: object) -> Mutation:
    """Replace fields of one record of ``kind`` (assignments, orders or moves)."""

    def mutate(solution: Solution) -> None:
        records: list[object] = getattr(solution, kind)
        records[index] = replace(records[index], **fields)  # type: ignore[type-var]

    return mutate


def assign_o3_twice(solution: Solution) -> None:
    solution.assignments.append(solution.assignments[1])


def c2_after_its_off_time(solution: Solution) -> None:
    # Leaves at 60, at r2 at 63, picks up at 65 > off_time 60, at o3 at 73, drops at 75.
    solution.assignments[1] = Assignment(60, 65, "c2", ("o3",))
    solution.orders[2] = DeliveredOrder("o3", 5, 20, 65, 75, "c2")
    solution.moves[3:] = [CourierMove("c2", 60, "0", "r2"), CourierMove("c2", 67, "r2", "o3")]


def c2_before_o3_is_ready(solution: Solution) -> None:
    # At r2 at 8, picks up at 10 < ready 20, leaves at 12, at o3 at 18, drops at 20.
    solution.assignments[1] = Assignment(5, 10, "c2", ("o3",))
    solution.orders[2] = DeliveredOrder("o3", 5, 20, 10, 20, "c2")
    solution.moves[4] = CourierMove("c2", 12, "r2", "o3")


def o3_bundled_with_o1(solution: Solution) -> None:
    # o1 -> o3 is 1005 m: 11 min. o3 is not ready at 12, and r2 is not r1.
    solution.assignments[:] = [Assignment(5, 12, "c1", ("o1", "o3"))]
    solution.orders[:] = [solution.orders[0], DeliveredOrder("o3", 5, 20, 12, 36, "c1")]
    solution.moves[:] = [*solution.moves[:2], CourierMove("c1", 23, "o1", "o3")]


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        pytest.param(assign_o3_twice, {"rule 1"}, id="1-twice"),
        pytest.param(change("assignments", 1, assignment_time=4), {"rule 2"}, id="2-early"),
        pytest.param(c2_after_its_off_time, {"rule 3"}, id="3-off-time"),
        pytest.param(c2_before_o3_is_ready, {"rule 4"}, id="4-not-ready"),
        pytest.param(o3_bundled_with_o1, {"rule 4", "rule 8"}, id="4-8-two-restaurants"),
        pytest.param(change("assignments", 0, order_ids=("o2", "o1")), {"rule 5"}, id="5-order"),
        pytest.param(change("moves", 3, departure_time=2), {"rule 6"}, id="6-before-on"),
        pytest.param(change("moves", 3, origin="r2"), {"rule 6"}, id="6-teleport"),
        pytest.param(change("orders", 2, dropoff_time=28), {"rule 7"}, id="7-at-arrival"),
        pytest.param(change("orders", 0, dropoff_time=20), {"rule 7"}, id="7-service-before"),
        pytest.param(change("orders", 0, dropoff_time=22), {"rule 7"}, id="7-service-after"),
        pytest.param(change("moves", 0, departure_time=10), {"rule 8"}, id="8-not-there"),
        pytest.param(change("moves", 0, departure_time=8), {"rule 8"}, id="8-service-before"),
        pytest.param(change("moves", 1, departure_time=13), {"rule 8"}, id="8-service-after"),
        pytest.param(
            change("orders", 1, courier_id="c2"), {"consistency", "rule 7"}, id="other-courier"
        ),
        pytest.param(change("orders", 1, ready_time=11), {"consistency"}, id="ready-differs"),
        pytest.param(lambda s: s.orders.pop(2), {"consistency"}, id="assigned-not-delivered"),
    ],
)
def test_each_broken_rule_is_named(tmp_path: Path, mutation: Mutation, expected: set[str]) -> None:
    solution = feasible()
    mutation(solution)
    report = checked(tmp_path, solution)
    assert not report.feasible
    assert rules(report) == expected, report.violations
    assert format_report(report).endswith("\nINFEASIBLE")


def test_a_violation_names_file_line_and_ids(tmp_path: Path) -> None:
    solution = feasible()
    change("orders", 2, dropoff_time=28)(solution)
    report = checked(tmp_path, solution)
    assert report.violations == [
        "rule 7 (drop-off at the customer): solution_info_orders.txt line 4: "
        "c2 drops off o3 at 28, but is travelling then"
    ]


def rewrite(folder: Path, name: str, edit: Callable[[list[str]], list[str]]) -> None:
    lines = (folder / name).read_text().splitlines()
    (folder / name).write_text("\n".join(edit(lines)) + "\n")


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        pytest.param(ASSIGNMENTS, lambda ls: ls[1:], {"format"}, id="no-assignments-header"),
        pytest.param(ORDERS, lambda ls: ls[1:], {"format"}, id="no-orders-header"),
        pytest.param(
            ORDERS,
            lambda ls: [*ls[:3], ls[3].replace(" ", "  ", 1)],
            {"format", "consistency"},
            id="double-space",
        ),
        pytest.param(
            ASSIGNMENTS,
            lambda ls: [*ls[:2], ls[2].replace(" ", "\t")],
            {"format", "consistency"},
            id="tab",
        ),
        pytest.param(ASSIGNMENTS, lambda ls: [*ls[:2], "", *ls[2:]], {"format"}, id="blank"),
        pytest.param(ORDERS, lambda ls: [*ls, ls[1]], {"format"}, id="order-twice"),
        pytest.param(
            COURIERS,
            lambda ls: [ls[i] for i in (0, 1, 4, 2, 3, 5)],
            {"format"},
            id="not-contiguous",
        ),
        pytest.param(
            ASSIGNMENTS,
            lambda ls: [*ls[:2], ls[2].replace("c2", "c9")],
            {"format", "consistency"},
            id="unknown-courier",
        ),
        pytest.param(
            ORDERS,
            lambda ls: [*ls[:3], ls[3].replace(" 30 ", " 30.0 ")],
            {"format", "consistency"},
            id="not-a-whole-minute",
        ),
        pytest.param(
            COURIERS,
            lambda ls: [*ls[:-1], ls[-1].replace("o3", "0")],
            {"format", "rule 7"},
            id="unknown-place",
        ),
    ],
)
def test_each_format_rule_is_named(
    tmp_path: Path, name: str, edit: Callable[[list[str]], list[str]], expected: set[str]
) -> None:
    write_solution(tmp_path, *feasible())
    rewrite(tmp_path, name, edit)
    report = check_solution(tmp_path, TINY)
    assert rules(report) == expected, report.violations


def test_a_missing_file_is_a_violation_not_a_crash(tmp_path: Path) -> None:
    write_solution(tmp_path, *feasible())
    (tmp_path / ORDERS).unlink()
    report = check_solution(tmp_path, TINY)
    assert "format: solution_info_orders.txt: file missing" in report.violations
    assert report.delivered == 0 and report.click_to_door is None


def test_the_couriers_header_is_optional_as_for_the_evaluator(tmp_path: Path) -> None:
    write_solution(tmp_path, *feasible())
    rewrite(tmp_path, COURIERS, lambda lines: lines[1:])
    assert check_solution(tmp_path, TINY).feasible


def logged(order_id: str, restaurant_id: str) -> LoggedOrder:
    here = Point(0, 0)
    return LoggedOrder(order_id, 1, restaurant_id, here, here, 4)


def test_trips_become_records_with_moves_from_the_last_customer() -> None:
    here = Point(0, 0)
    trips = [
        Trip("c1", "o2", here, 20, 23, 25, 27, 30, 32, 34),
        Trip("c1", "o1", here, 1, 3, 5, 7, 10, 12, 14),
    ]
    solution = solution_from_trips(trips, {"o1": logged("o1", "r1"), "o2": logged("o2", "r2")})
    assert solution.assignments == [
        Assignment(1, 5, "c1", ("o1",)),
        Assignment(20, 25, "c1", ("o2",)),
    ]
    assert solution.orders[0] == DeliveredOrder("o1", 1, 4, 5, 12, "c1")
    assert solution.moves == [
        CourierMove("c1", 1, "0", "r1"),
        CourierMove("c1", 7, "r1", "o1"),
        CourierMove("c1", 20, "o1", "r2"),
        CourierMove("c1", 27, "r2", "o2"),
    ]
    with pytest.raises(ValueError, match="whole minutes"):
        solution_from_trips([replace(trips[0], pickup=25.5)], {"o2": logged("o2", "r2")})


@pytest.fixture(scope="module")
def instance_dir() -> Path:
    root = mdrp_root()
    if root is None:
        pytest.skip(SKIP)
    return root / "0o100t100s1p100"


def test_a_greedy_replay_of_a_real_instance_is_feasible(instance_dir: Path, tmp_path: Path) -> None:
    """Eight orders of the busy hours, each to the nearest idle courier on shift; then
    one courier carries three more in a row, from each customer to the next restaurant."""
    mdrp, data = load_mdrp_instance(instance_dir)
    assert isinstance(data.eta, PlanarEta)
    idle, trips = list(data.drivers), []
    for order in data.orders[200:208]:
        driver = min(
            (d for d in idle if d.shift_start <= order.placed_at < d.shift_end - 60),
            key=lambda d: data.eta.travel_minutes(d.start, order.restaurant),
        )
        trips.append(trip_for(data, order, driver.driver_id, driver.start, order.placed_at))
        idle.remove(driver)
    last = trips[0]
    for order in data.orders[208:211]:
        customer = mdrp.orders[last.order_id].location
        start = data.eta.projection.to_point(*customer)
        last = trip_for(data, order, last.driver_id, start, max(order.placed_at, last.free_at))
        trips.append(last)
    solution = solution_from_trips(trips, {o.order_id: o for o in data.orders})
    report = checked(tmp_path, solution, mdrp)
    assert report.feasible, report.violations
    assert (report.delivered, report.total) == (11, 505)


def trip_for(data: ReplayInput, order: LoggedOrder, driver_id: str, at: Point, now: float) -> Trip:
    """The replay's own timing (``plan_trip``) with the instance's travel model."""
    return plan_trip(
        driver_id=driver_id,
        order_id=order.order_id,
        now=now,
        driver_at=at,
        restaurant=order.restaurant,
        customer=order.customer,
        ready_at=order.ready_at,
        eta=data.eta,
        service=data.service_times,
    )
