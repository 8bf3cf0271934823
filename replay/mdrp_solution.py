"""An MDRP replay as the published evaluator's three solution files, and our own checker.

Formats and rules: ``../shared/docs/MDRP_SOLUTION_FORMAT.md``. The checker reads the
files back and verifies every listed rule against the instance's exact metres.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from replay.mdrp import MdrpInstance
from replay.simulation import RunResult
from swifteats.domain.fleet import Trip

ASSIGNMENTS = "solution_info_assignments.txt"
ORDERS = "solution_info_orders.txt"
COURIERS = "solution_info_couriers.txt"


def _minute(value: float) -> int:
    if value != int(value):
        raise ValueError(f"MDRP times are whole minutes, got {value}")
    return int(value)


def write_solution(folder: Path, result: RunResult) -> None:
    """Write the three files for the delivered orders of an MDRP replay."""
    folder.mkdir(parents=True, exist_ok=True)
    trips = sorted(result.trips, key=lambda t: (t.assigned_at, t.driver_id))
    lines = ["assignment_time pickup_time courier orders"] + [
        f"{_minute(t.assigned_at)} {_minute(t.pickup)} {t.driver_id} {t.order_id}" for t in trips
    ]
    (folder / ASSIGNMENTS).write_text("\n".join(lines) + "\n")
    lines = ["order placement_time ready_time pickup_time dropoff_time courier"]
    for t in trips:
        order = result.outcomes[t.order_id].order
        lines.append(
            f"{t.order_id} {_minute(order.placed_at)} {_minute(order.ready_at)} "
            f"{_minute(t.pickup)} {_minute(t.dropoff)} {t.driver_id}"
        )
    (folder / ORDERS).write_text("\n".join(lines) + "\n")
    (folder / COURIERS).write_text("\n".join(_move_lines(trips, result)) + "\n")


def _move_lines(trips: list[Trip], result: RunResult) -> list[str]:
    by_courier: dict[str, list[Trip]] = defaultdict(list)
    for trip in trips:
        by_courier[trip.driver_id].append(trip)
    lines = ["courier departure_time origin destination"]
    for courier in sorted(by_courier):
        here = "0"
        for t in by_courier[courier]:
            restaurant = result.outcomes[t.order_id].order.restaurant_id
            lines.append(f"{courier} {_minute(t.assigned_at)} {here} {restaurant}")
            lines.append(f"{courier} {_minute(t.depart_restaurant)} {restaurant} {t.order_id}")
            here = t.order_id
    return lines


@dataclass
class CheckReport:
    """Feasibility and the evaluator's headline metrics."""

    feasible: bool
    violations: list[str] = field(default_factory=list)
    delivered: int = 0
    total: int = 0
    click_to_door_mean: float | None = None
    click_to_door_p90: float | None = None
    ready_to_pickup_mean: float | None = None

    def text(self) -> str:
        """A short report ending FEASIBLE or INFEASIBLE."""
        head = [
            f"delivered {self.delivered}/{self.total}",
            f"click-to-door mean {self.click_to_door_mean} p90 {self.click_to_door_p90}",
            f"ready-to-pickup mean {self.ready_to_pickup_mean}",
            *self.violations[:20],
        ]
        return "\n".join([*head, "FEASIBLE" if self.feasible else "INFEASIBLE"])


def check_solution(folder: Path, instance: MdrpInstance) -> CheckReport:
    """Check the three files against every rule of the format document."""
    problems: list[str] = []
    assignments = _table(folder / ASSIGNMENTS, "assignment_time", problems)
    orders = _table(folder / ORDERS, "order placement_time", problems)
    moves = _table(folder / COURIERS, "courier departure_time", problems)
    delivered = {row[0]: row for row in orders}
    if len(delivered) != len(orders):
        problems.append("orders: an order id appears twice")
    _check_assignments(assignments, delivered, instance, problems)
    _check_moves(moves, delivered, instance, problems)
    ctd = sorted(int(r[4]) - int(r[1]) for r in orders)
    r2p = [int(r[3]) - int(r[2]) for r in orders]
    return CheckReport(
        feasible=not problems,
        violations=problems,
        delivered=len(orders),
        total=len(instance.orders),
        click_to_door_mean=round(sum(ctd) / len(ctd), 2) if ctd else None,
        click_to_door_p90=float(ctd[max(0, math.ceil(0.9 * len(ctd)) - 1)]) if ctd else None,
        ready_to_pickup_mean=round(sum(r2p) / len(r2p), 2) if r2p else None,
    )


def _table(path: Path, header_start: str, problems: list[str]) -> list[list[str]]:
    lines = path.read_text().splitlines()
    if not lines or not lines[0].startswith(header_start):
        problems.append(f"{path.name}: header missing")
        return []
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line or "\t" in line or "  " in line:
            problems.append(f"{path.name}: line {number}: blank, tab or double space")
        rows.append(line.split(" "))
    return rows


def _check_assignments(
    rows: list[list[str]],
    delivered: dict[str, list[str]],
    inst: MdrpInstance,
    problems: list[str],
) -> None:
    seen: set[str] = set()
    for row in rows:
        at, pickup, courier, order_ids = int(row[0]), int(row[1]), row[2], row[3:]
        for oid in order_ids:
            placed, ready = inst.orders[oid][2], inst.orders[oid][4]
            if oid in seen:
                problems.append(f"rule 1: {oid} assigned twice")
            seen.add(oid)
            if at < placed:
                problems.append(f"rule 2: {oid} assigned at {at} before placement {placed}")
            if pickup < ready:
                problems.append(f"rule 4: {oid} picked up at {pickup} before ready {ready}")
            if oid in delivered and delivered[oid][5] != courier:
                problems.append(f"orders: {oid} delivered by another courier than assigned")
        if pickup > inst.couriers[courier][3]:
            problems.append(f"rule 3: {courier} picks up at {pickup} after off time")
        drops = [int(delivered[o][4]) for o in order_ids if o in delivered]
        if any(b - a < inst.dropoff_minutes for a, b in zip(drops, drops[1:], strict=False)):
            problems.append(f"rule 5: drop-offs of {order_ids} closer than the service time")


def _check_moves(
    rows: list[list[str]],
    delivered: dict[str, list[str]],
    inst: MdrpInstance,
    problems: list[str],
) -> None:
    by_courier: dict[str, list[list[str]]] = defaultdict(list)
    order_of_blocks: list[str] = []
    for row in rows:
        if not order_of_blocks or order_of_blocks[-1] != row[0]:
            order_of_blocks.append(row[0])
        by_courier[row[0]].append(row)
    if len(order_of_blocks) != len(set(order_of_blocks)):
        problems.append("rule 6: a courier's moves are not one contiguous block")
    for courier, moves in by_courier.items():
        _check_courier(courier, moves, delivered, inst, problems)


def _check_courier(
    courier: str,
    moves: list[list[str]],
    delivered: dict[str, list[str]],
    inst: MdrpInstance,
    problems: list[str],
) -> None:
    x, y, on, _ = inst.couriers[courier]
    here, position, free = "0", (x, y), on
    for _, departure_text, origin, destination in moves:
        departure = int(departure_text)
        if origin != here:
            problems.append(f"rule 6: {courier} leaves {origin} but is at {here}")
        if departure < free:
            problems.append(f"rule 6: {courier} departs {origin} at {departure} before {free}")
        target = _position(destination, inst)
        arrival = departure + inst.travel(position, target)
        if arrival <= departure:
            problems.append(f"rule 6: {courier} arrives at {destination} without travelling")
        free = _service(courier, destination, arrival, delivered, inst, problems)
        here, position = destination, target


def _service(
    courier: str,
    stop: str,
    arrival: int,
    delivered: dict[str, list[str]],
    inst: MdrpInstance,
    problems: list[str],
) -> int:
    """Check the pickup or drop-off at ``stop``; return when the courier may leave."""
    if stop in inst.restaurants:
        pickups = [
            int(r[3])
            for r in delivered.values()
            if r[5] == courier and inst.orders[r[0]][3] == stop and int(r[3]) > arrival
        ]
        if not pickups:
            return arrival
        pickup = min(pickups)
        if pickup < arrival + inst.pickup_minutes // 2:
            problems.append(f"rule 8: {courier} picks up at {stop} {pickup} < arrival {arrival}+")
        return pickup + inst.pickup_minutes // 2
    row = delivered.get(stop)
    if row is None:
        problems.append(f"rule 7: {courier} drives to {stop}, which is not delivered")
        return arrival
    dropoff = int(row[4])
    if not arrival < dropoff:
        problems.append(f"rule 7: {stop} dropped off at {dropoff}, not after arrival {arrival}")
    return dropoff + inst.dropoff_minutes - inst.dropoff_minutes // 2


def _position(stop: str, inst: MdrpInstance) -> tuple[float, float]:
    if stop in inst.restaurants:
        return inst.restaurants[stop]
    x, y, *_ = inst.orders[stop]
    return (x, y)
