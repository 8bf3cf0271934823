"""The feasibility rules of an MDRP solution read back by :mod:`replay.mdrp.parse`.

- ``consistency``: every assigned order delivered and every delivered order assigned,
  by the same courier with the same pickup minute; placement and ready minutes as in
  the instance; drop-off after pickup;
- rules 1–8 of "What the evaluator checks" in ``MDRP_SOLUTION_FORMAT.md``.

Timing (rules 6–8). A move leaving at ``d`` arrives at ``a = d + t`` with
``t = ceil(sqrt(dx² + dy²) / meters_per_minute)``; times never go backwards
(on_time <= d1 < a1 <= d2 ...), so every move takes at least a minute. The
evaluator finds where a courier is at minute ``m`` as the place of the last timeline
entry strictly before ``m``: a pickup or drop-off at a place reached at ``a`` and left
at the next departure ``d'`` needs ``a < m <= d'`` (strictly after arrival). On top,
the service halves of the problem: pickup ``>= a + s_p/2`` and ``d' >= pickup + s_p/2``;
drop-off ``>= a + s_d/2`` and ``d' >= drop-off + s_d/2``. Halves are compared doubled,
so an odd service time needs the whole minute above its half; every published instance
has ``s_p = s_d = 4`` (halves of 2 minutes, as in "drop-off = arrival + 2").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from replay.mdrp.instance import MdrpInstance
from replay.mdrp.parse import FORMAT, Line, Violations
from replay.mdrp.solution import (
    ASSIGNMENTS,
    COURIERS,
    ORDERS,
    START,
    Assignment,
    CourierMove,
    DeliveredOrder,
)

CONSISTENCY = "consistency"
RULE_1 = "rule 1 (at most one assignment per order)"
RULE_2 = "rule 2 (assigned after placement)"
RULE_3 = "rule 3 (pickup by the courier's off time)"
RULE_4 = "rule 4 (pickup after ready)"
RULE_5 = "rule 5 (a bundle's drop-offs s_d apart)"
RULE_6 = "rule 6 (moves continuous, time forward)"
RULE_7 = "rule 7 (drop-off at the customer)"
RULE_8 = "rule 8 (pickup at the restaurant)"


# Where each courier is, and when (rule 6).


@dataclass(frozen=True, slots=True)
class Stay:
    """A courier at ``place`` (its own id for its start) from ``arrival`` to ``leave``."""

    place: str
    arrival: int
    leave: float
    """The next departure; infinity after the last move."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """A courier's stays in order, and its minutes of driving (for utilisation)."""

    stays: list[Stay]
    driving: int

    def at(self, minute: int) -> Stay | None:
        """The stay the evaluator finds at ``minute``: arrival < minute <= leave."""
        return next((s for s in self.stays if s.arrival < minute <= s.leave), None)


def courier_timelines(
    moves: dict[str, list[Line[CourierMove]]], instance: MdrpInstance, out: Violations
) -> dict[str, Timeline]:
    """Every courier's timeline (none moving: at its start from ``on_time``); rule 6."""
    return {c: _timeline(c, moves.get(c, []), instance, out) for c in instance.couriers}


def _timeline(
    courier: str, moves: list[Line[CourierMove]], instance: MdrpInstance, out: Violations
) -> Timeline:
    stays: list[Stay] = []
    place, arrival, driving = courier, instance.couriers[courier].on_time, 0
    for line in moves:
        move = line.record
        origin = courier if move.origin == START else move.origin
        _check_departure(line, origin, place, arrival, first=not stays, out=out)
        stays.append(Stay(place, arrival, move.departure_time))
        minutes = _travel(line, origin, instance, out)
        if minutes is None:
            return Timeline(stays, driving)
        driving += minutes
        place, arrival = move.destination, move.departure_time + minutes
    stays.append(Stay(place, arrival, math.inf))
    return Timeline(stays, driving)


def _check_departure(
    line: Line[CourierMove],
    origin: str,
    place: str,
    arrival: int,
    *,
    first: bool,
    out: Violations,
) -> None:
    """Rule 6: the move leaves where the courier is, and not before it got there."""
    move = line.record
    if origin != place:
        where = "its start" if place == move.courier_id else place
        out.add(
            RULE_6,
            COURIERS,
            line.number,
            f"{move.courier_id} leaves {move.origin}, but is at {where}",
        )
    if move.departure_time < arrival:
        since = "its on_time" if first else f"arriving at {place} at"
        out.add(
            RULE_6,
            COURIERS,
            line.number,
            f"{move.courier_id} departs at {move.departure_time}, before {since} {arrival}",
        )


def _travel(
    line: Line[CourierMove], origin: str, instance: MdrpInstance, out: Violations
) -> int | None:
    """The move's travel minutes; None (and a violation) for an unknown place."""
    move = line.record
    a = _location(origin, move.courier_id, instance)
    b = _location(move.destination, move.courier_id, instance)
    if a is None or b is None:
        out.add(
            FORMAT, COURIERS, line.number, f"unknown place in {move.origin} -> {move.destination}"
        )
        return None
    minutes = instance.travel(a, b)
    if minutes < 1:
        out.add(
            RULE_6,
            COURIERS,
            line.number,
            f"{move.courier_id} reaches {move.destination} the minute it leaves {move.origin}",
        )
    return minutes


def _location(place: str, courier: str, instance: MdrpInstance) -> tuple[float, float] | None:
    """Metres of a courier's own id (its start), a restaurant or an order's customer."""
    if place == courier:
        return instance.couriers[courier].location
    if place in instance.restaurants:
        return instance.restaurants[place]
    if place in instance.orders:
        return instance.orders[place].location
    return None


def _where(stay: Stay | None, courier: str) -> str:
    if stay is None:
        return "travelling"
    return "at its start" if stay.place == courier else f"at {stay.place}"


# Rules 1-5 and the files' consistency.


def check_assignments(
    assignments: list[Line[Assignment]],
    delivered: dict[str, Line[DeliveredOrder]],
    instance: MdrpInstance,
    out: Violations,
) -> None:
    """Rules 1 to 5, assignment by assignment."""
    first_line: dict[str, int] = {}
    for line in assignments:
        for order_id in line.record.order_ids:
            if order_id in first_line:
                text = f"{order_id} is already in the assignment on line {first_line[order_id]}"
                out.add(RULE_1, ASSIGNMENTS, line.number, text)
            first_line.setdefault(order_id, line.number)
        _check_times(line, instance, out)
        _check_spacing(line, delivered, instance.dropoff_minutes, out)


def _check_times(line: Line[Assignment], instance: MdrpInstance, out: Violations) -> None:
    """Rules 2, 3 and 4."""
    a = line.record
    off_time = instance.couriers[a.courier_id].off_time
    if a.pickup_time > off_time:
        text = f"{a.courier_id} picks up at {a.pickup_time}, after its off_time {off_time}"
        out.add(RULE_3, ASSIGNMENTS, line.number, text)
    for order_id in a.order_ids:
        order = instance.orders[order_id]
        if a.assignment_time < order.placement_time:
            text = f"{order_id} assigned at {a.assignment_time}, before it is placed at"
            out.add(RULE_2, ASSIGNMENTS, line.number, f"{text} {order.placement_time}")
        if a.pickup_time < order.ready_time:
            text = f"{order_id} picked up at {a.pickup_time}, before it is ready at"
            out.add(RULE_4, ASSIGNMENTS, line.number, f"{text} {order.ready_time}")


def _check_spacing(
    line: Line[Assignment],
    delivered: dict[str, Line[DeliveredOrder]],
    dropoff_minutes: int,
    out: Violations,
) -> None:
    """Rule 5: in listed order, each drop-off at least ``s_d`` after the previous one."""
    drops = [(o, delivered[o].record.dropoff_time) for o in line.record.order_ids if o in delivered]
    for (first, t1), (second, t2) in pairwise(drops):
        if t2 < t1 + dropoff_minutes:
            text = (
                f"{second} dropped off at {t2}, less than {dropoff_minutes} after {first} at {t1}"
            )
            out.add(RULE_5, ASSIGNMENTS, line.number, text)


def check_consistency(
    assignments: list[Line[Assignment]],
    delivered: dict[str, Line[DeliveredOrder]],
    instance: MdrpInstance,
    out: Violations,
) -> None:
    """Assigned orders delivered, delivered ones assigned alike, times as in the instance."""
    assigned: dict[str, Line[Assignment]] = {}
    for line in assignments:
        for order_id in line.record.order_ids:
            assigned.setdefault(order_id, line)
            if order_id not in delivered:
                text = f"{order_id} is assigned but not in {ORDERS}"
                out.add(CONSISTENCY, ASSIGNMENTS, line.number, text)
    for order_id, delivery in delivered.items():
        _check_delivered(delivery, assigned.get(order_id), instance, out)


def _check_delivered(
    line: Line[DeliveredOrder],
    assignment: Line[Assignment] | None,
    instance: MdrpInstance,
    out: Violations,
) -> None:
    d, published = line.record, instance.orders[line.record.order_id]
    problems = []
    if assignment is None:
        problems.append("in no assignment")
    elif (assignment.record.courier_id, assignment.record.pickup_time) != (
        d.courier_id,
        d.pickup_time,
    ):
        problems.append(f"courier or pickup differ from the assignment on line {assignment.number}")
    if (d.placement_time, d.ready_time) != (published.placement_time, published.ready_time):
        problems.append("placement or ready time differ from the instance")
    if d.dropoff_time <= d.pickup_time:
        problems.append(f"dropped off at {d.dropoff_time}, not after its pickup at {d.pickup_time}")
    for problem in problems:
        out.add(CONSISTENCY, ORDERS, line.number, f"{d.order_id}: {problem}")


# Rules 7 and 8: the courier is there, strictly after arriving, for half the service.


def check_pickup(
    line: Line[Assignment], timeline: Timeline, instance: MdrpInstance, out: Violations
) -> None:
    """Rule 8: one restaurant per bundle, the courier there at the pickup minute."""
    a = line.record
    restaurant = instance.orders[a.order_ids[0]].restaurant
    mixed = [o for o in a.order_ids if instance.orders[o].restaurant != restaurant]
    if mixed:
        text = f"a bundle of one restaurant: {', '.join(mixed)} not from {restaurant}"
        out.add(RULE_8, ASSIGNMENTS, line.number, text)
    stay = timeline.at(a.pickup_time)
    what = f"{a.courier_id} picks up at {restaurant} at {a.pickup_time}"
    if stay is None or stay.place != restaurant:
        text = f"{what}, but is {_where(stay, a.courier_id)} then"
        out.add(RULE_8, ASSIGNMENTS, line.number, text)
        return
    for problem in _service_problems(stay, a.pickup_time, instance.pickup_minutes):
        out.add(RULE_8, ASSIGNMENTS, line.number, f"{what}, {problem}")


def check_dropoff(
    line: Line[DeliveredOrder], timeline: Timeline, dropoff_minutes: int, out: Violations
) -> None:
    """Rule 7: the courier at the customer at the drop-off minute."""
    d = line.record
    stay = timeline.at(d.dropoff_time)
    what = f"{d.courier_id} drops off {d.order_id} at {d.dropoff_time}"
    if stay is None or stay.place != d.order_id:
        out.add(RULE_7, ORDERS, line.number, f"{what}, but is {_where(stay, d.courier_id)} then")
        return
    for problem in _service_problems(stay, d.dropoff_time, dropoff_minutes):
        out.add(RULE_7, ORDERS, line.number, f"{what}, {problem}")


def _service_problems(stay: Stay, minute: int, service: int) -> list[str]:
    """Half the service between arrival and ``minute``, the other half before leaving."""
    problems = []
    if 2 * (minute - stay.arrival) < service:
        problems.append(f"only {minute - stay.arrival} min after arriving (service {service})")
    if 2 * (stay.leave - minute) < service:
        problems.append(f"but leaves at {stay.leave} (service {service})")
    return problems
