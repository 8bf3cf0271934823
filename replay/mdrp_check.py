"""Our own check of an MDRP solution, rule by rule, with the evaluator's metrics.

:func:`check_solution` reads the three files back (``replay.mdrp_solution``) and
checks them against the instance's exact metres (``replay.mdrp.MdrpInstance``):

- ``format``: headers (the couriers file's is optional, as for the evaluator), single
  spaces, field counts, whole minutes, known ids, unique order ids, one contiguous
  block of moves per courier (the evaluator keeps only a courier's last block);
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
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Generic, TypeVar

from replay.mdrp import MdrpInstance
from replay.mdrp_solution import (
    ASSIGNMENTS,
    ASSIGNMENTS_HEADER,
    COURIERS,
    COURIERS_HEADER,
    ORDERS,
    ORDERS_HEADER,
    START,
    Assignment,
    CourierMove,
    DeliveredOrder,
)

FORMAT = "format"
CONSISTENCY = "consistency"
RULE_1 = "rule 1 (at most one assignment per order)"
RULE_2 = "rule 2 (assigned after placement)"
RULE_3 = "rule 3 (pickup by the courier's off time)"
RULE_4 = "rule 4 (pickup after ready)"
RULE_5 = "rule 5 (a bundle's drop-offs s_d apart)"
RULE_6 = "rule 6 (moves continuous, time forward)"
RULE_7 = "rule 7 (drop-off at the customer)"
RULE_8 = "rule 8 (pickup at the restaurant)"

T = TypeVar("T")
_WHOLE_MINUTE = re.compile(r"-?[0-9]+")


@dataclass(frozen=True, slots=True)
class Distribution:
    """Mean and the 10th, 50th and 90th percentiles (linear, as pandas' ``describe``)."""

    mean: float
    p10: float
    p50: float
    p90: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution | None:
        """The distribution of ``values``; None when there are none."""
        if not values:
            return None
        ordered = sorted(values)
        mean = sum(ordered) / len(ordered)
        return cls(mean, *(_quantile(ordered, q) for q in (0.1, 0.5, 0.9)))


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Feasibility, every violation found, and the evaluator's metrics.

    Metrics cover the delivered orders the checker could read (also when infeasible,
    unlike the evaluator); courier metrics cover every courier of the instance.
    """

    feasible: bool
    violations: list[str]
    delivered: int
    total: int
    click_to_door: Distribution | None
    ready_to_door: Distribution | None
    ready_to_pickup: Distribution | None
    click_to_door_overage: Distribution | None
    orders_per_hour: Distribution | None
    utilisation: Distribution | None
    total_pay: float


def check_solution(folder: Path, instance: MdrpInstance) -> CheckReport:
    """Check the three solution files in ``folder`` against ``instance``.

    Args:
        folder: holds ``solution_info_assignments.txt``, ``solution_info_orders.txt``
            and ``solution_info_couriers.txt``.
        instance: the instance solved, with its exact metres.

    Returns:
        The report; each violation names its rule, file, line and ids.
    """
    out = _Violations()
    assignments = _read_assignments(folder, instance, out)
    delivered = _read_orders(folder, instance, out)
    timelines = _timelines(_read_moves(folder, instance, out), instance, out)
    _check_assignments(assignments, delivered, instance, out)
    _check_consistency(assignments, delivered, instance, out)
    for a in assignments:
        _check_pickup(a, timelines[a.record.courier_id], instance, out)
    for d in delivered.values():
        _check_dropoff(d, timelines[d.record.courier_id], instance.dropoff_minutes, out)
    return _report(out.items, assignments, delivered, timelines, instance)


def format_report(report: CheckReport, *, max_violations: int = 50) -> str:
    """The report as text, ending with ``FEASIBLE`` or ``INFEASIBLE``."""
    lines = [f"orders delivered: {report.delivered} out of {report.total}"]
    for name, distribution in (
        ("click-to-door", report.click_to_door),
        ("ready-to-door", report.ready_to_door),
        ("ready-to-pickup", report.ready_to_pickup),
        ("click-to-door overage", report.click_to_door_overage),
        ("courier orders per hour", report.orders_per_hour),
        ("courier utilisation", report.utilisation),
    ):
        lines.append(f"{name}: {_describe(distribution)}")
    lines.append(f"total courier pay: {report.total_pay:.2f}")
    lines.append(f"violations: {len(report.violations)}")
    lines += [f"  {v}" for v in report.violations[:max_violations]]
    if len(report.violations) > max_violations:
        lines.append(f"  ... and {len(report.violations) - max_violations} more")
    lines.append("FEASIBLE" if report.feasible else "INFEASIBLE")
    return "\n".join(lines)


def _describe(distribution: Distribution | None) -> str:
    if distribution is None:
        return "-"
    d = distribution
    return f"mean {d.mean:.2f}, p10 {d.p10:.2f}, p50 {d.p50:.2f}, p90 {d.p90:.2f}"


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's and pandas' default)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _Violations:
    """Violations in the order found, each ``<rule>: <file> line <n>: <what>``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, rule: str, file: str, line: int, text: str) -> None:
        where = f"{file} line {line}" if line else file
        self.items.append(f"{rule}: {where}: {text}")


@dataclass(frozen=True, slots=True)
class _Line(Generic[T]):
    """A record and the line of its file it was read from."""

    number: int
    record: T


# Reading the files back.


@dataclass(frozen=True, slots=True)
class _FileSpec:
    name: str
    header: str
    width: int
    minutes: tuple[int, ...]
    """Fields holding whole minutes."""
    open_ended: bool = False
    """``width`` is a minimum (an assignment lists one order or more)."""
    header_optional: bool = False


_ASSIGNMENTS = _FileSpec(ASSIGNMENTS, ASSIGNMENTS_HEADER, 4, (0, 1), open_ended=True)
_ORDERS = _FileSpec(ORDERS, ORDERS_HEADER, 6, (1, 2, 3, 4))
_COURIERS = _FileSpec(COURIERS, COURIERS_HEADER, 4, (1,), header_optional=True)


def _rows(folder: Path, spec: _FileSpec, out: _Violations) -> list[_Line[list[str]]]:
    """The well-formed data lines of one file, split into fields."""
    path = folder / spec.name
    if not path.is_file():
        out.add(FORMAT, spec.name, 0, "file missing")
        return []
    lines = list(enumerate(path.read_text(encoding="utf-8").splitlines(), start=1))
    rows = []
    for number, text in _after_header(lines, spec, out):
        fields = _fields(number, text, spec, out)
        if fields is not None:
            rows.append(_Line(number, fields))
    return rows


def _after_header(
    lines: list[tuple[int, str]], spec: _FileSpec, out: _Violations
) -> list[tuple[int, str]]:
    if lines and lines[0][1] == spec.header:
        return lines[1:]
    first = lines[0][1].split() if lines else []
    first_is_data = len(first) > 1 and _WHOLE_MINUTE.fullmatch(first[1]) is not None
    if not (spec.header_optional and first_is_data):
        out.add(FORMAT, spec.name, 1, f"header missing or wrong: expected {spec.header!r}")
    return lines if first_is_data else lines[1:]


def _fields(number: int, text: str, spec: _FileSpec, out: _Violations) -> list[str] | None:
    fields = text.split(" ")
    problem = None
    if not text.strip():
        problem = "blank line"
    elif any(not f or any(c.isspace() for c in f) for f in fields):
        problem = "fields must be separated by single spaces (no tabs, no double spaces)"
    elif len(fields) < spec.width or (len(fields) > spec.width and not spec.open_ended):
        problem = f"expected {spec.width}{' or more' if spec.open_ended else ''} fields"
    elif bad := [fields[i] for i in spec.minutes if not _WHOLE_MINUTE.fullmatch(fields[i])]:
        problem = f"not a whole minute: {bad[0]!r}"
    if problem is not None:
        out.add(FORMAT, spec.name, number, problem)
        return None
    return fields


def _known(
    line: _Line[list[str]],
    spec: _FileSpec,
    couriers: Iterable[str],
    orders: Iterable[str],
    instance: MdrpInstance,
    out: _Violations,
) -> bool:
    unknown = [c for c in couriers if c not in instance.couriers]
    unknown += [o for o in orders if o not in instance.orders]
    if unknown:
        out.add(FORMAT, spec.name, line.number, f"unknown id(s) {', '.join(unknown)}")
    return not unknown


def _read_assignments(
    folder: Path, instance: MdrpInstance, out: _Violations
) -> list[_Line[Assignment]]:
    kept = []
    for line in _rows(folder, _ASSIGNMENTS, out):
        f = line.record
        if _known(line, _ASSIGNMENTS, [f[2]], f[3:], instance, out):
            kept.append(_Line(line.number, Assignment(int(f[0]), int(f[1]), f[2], tuple(f[3:]))))
    return kept


def _read_orders(
    folder: Path, instance: MdrpInstance, out: _Violations
) -> dict[str, _Line[DeliveredOrder]]:
    """Delivered orders by id; a repeated id is a format violation and is skipped."""
    kept: dict[str, _Line[DeliveredOrder]] = {}
    for line in _rows(folder, _ORDERS, out):
        f = line.record
        if not _known(line, _ORDERS, [f[5]], [f[0]], instance, out):
            continue
        if f[0] in kept:
            text = f"{f[0]} listed twice (first on line {kept[f[0]].number})"
            out.add(FORMAT, ORDERS, line.number, text)
            continue
        record = DeliveredOrder(f[0], int(f[1]), int(f[2]), int(f[3]), int(f[4]), f[5])
        kept[f[0]] = _Line(line.number, record)
    return kept


def _read_moves(
    folder: Path, instance: MdrpInstance, out: _Violations
) -> dict[str, list[_Line[CourierMove]]]:
    """Moves by courier, in file order; a courier's moves must form one block."""
    blocks: dict[str, list[_Line[CourierMove]]] = {}
    previous = None
    for line in _rows(folder, _COURIERS, out):
        f = line.record
        if not _known(line, _COURIERS, [f[0]], [], instance, out):
            continue
        if f[0] != previous and f[0] in blocks:
            out.add(FORMAT, COURIERS, line.number, f"moves of {f[0]} resume after another's")
        previous = f[0]
        blocks.setdefault(f[0], []).append(_Line(line.number, CourierMove(f[0], int(f[1]), *f[2:])))
    return blocks


# Where each courier is, and when (rule 6).


@dataclass(frozen=True, slots=True)
class _Stay:
    """A courier at ``place`` (its own id for its start) from ``arrival`` to ``leave``."""

    place: str
    arrival: int
    leave: float
    """The next departure; infinity after the last move."""


@dataclass(frozen=True, slots=True)
class _Timeline:
    stays: list[_Stay]
    driving: int

    def at(self, minute: int) -> _Stay | None:
        """The stay the evaluator finds at ``minute``: arrival < minute <= leave."""
        return next((s for s in self.stays if s.arrival < minute <= s.leave), None)


def _timelines(
    moves: dict[str, list[_Line[CourierMove]]], instance: MdrpInstance, out: _Violations
) -> dict[str, _Timeline]:
    return {c: _timeline(c, moves.get(c, []), instance, out) for c in instance.couriers}


def _timeline(
    courier: str, moves: list[_Line[CourierMove]], instance: MdrpInstance, out: _Violations
) -> _Timeline:
    stays: list[_Stay] = []
    place, arrival, driving = courier, instance.couriers[courier].on_time, 0
    for line in moves:
        move = line.record
        origin = courier if move.origin == START else move.origin
        _check_departure(line, origin, place, arrival, first=not stays, out=out)
        stays.append(_Stay(place, arrival, move.departure_time))
        minutes = _travel(line, origin, instance, out)
        if minutes is None:
            return _Timeline(stays, driving)
        driving += minutes
        place, arrival = move.destination, move.departure_time + minutes
    stays.append(_Stay(place, arrival, math.inf))
    return _Timeline(stays, driving)


def _check_departure(
    line: _Line[CourierMove],
    origin: str,
    place: str,
    arrival: int,
    *,
    first: bool,
    out: _Violations,
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
    line: _Line[CourierMove], origin: str, instance: MdrpInstance, out: _Violations
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


def _where(stay: _Stay | None, courier: str) -> str:
    if stay is None:
        return "travelling"
    return "at its start" if stay.place == courier else f"at {stay.place}"


# Rules 1-5 and the files' consistency.


def _check_assignments(
    assignments: list[_Line[Assignment]],
    delivered: dict[str, _Line[DeliveredOrder]],
    instance: MdrpInstance,
    out: _Violations,
) -> None:
    first_line: dict[str, int] = {}
    for line in assignments:
        for order_id in line.record.order_ids:
            if order_id in first_line:
                text = f"{order_id} is already in the assignment on line {first_line[order_id]}"
                out.add(RULE_1, ASSIGNMENTS, line.number, text)
            first_line.setdefault(order_id, line.number)
        _check_times(line, instance, out)
        _check_spacing(line, delivered, instance.dropoff_minutes, out)


def _check_times(line: _Line[Assignment], instance: MdrpInstance, out: _Violations) -> None:
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
    line: _Line[Assignment],
    delivered: dict[str, _Line[DeliveredOrder]],
    dropoff_minutes: int,
    out: _Violations,
) -> None:
    """Rule 5: in listed order, each drop-off at least ``s_d`` after the previous one."""
    drops = [(o, delivered[o].record.dropoff_time) for o in line.record.order_ids if o in delivered]
    for (first, t1), (second, t2) in pairwise(drops):
        if t2 < t1 + dropoff_minutes:
            text = (
                f"{second} dropped off at {t2}, less than {dropoff_minutes} after {first} at {t1}"
            )
            out.add(RULE_5, ASSIGNMENTS, line.number, text)


def _check_consistency(
    assignments: list[_Line[Assignment]],
    delivered: dict[str, _Line[DeliveredOrder]],
    instance: MdrpInstance,
    out: _Violations,
) -> None:
    assigned: dict[str, _Line[Assignment]] = {}
    for line in assignments:
        for order_id in line.record.order_ids:
            assigned.setdefault(order_id, line)
            if order_id not in delivered:
                text = f"{order_id} is assigned but not in {ORDERS}"
                out.add(CONSISTENCY, ASSIGNMENTS, line.number, text)
    for order_id, delivery in delivered.items():
        _check_delivered(delivery, assigned.get(order_id), instance, out)


def _check_delivered(
    line: _Line[DeliveredOrder],
    assignment: _Line[Assignment] | None,
    instance: MdrpInstance,
    out: _Violations,
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


def _check_pickup(
    line: _Line[Assignment], timeline: _Timeline, instance: MdrpInstance, out: _Violations
) -> None:
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


def _check_dropoff(
    line: _Line[DeliveredOrder], timeline: _Timeline, dropoff_minutes: int, out: _Violations
) -> None:
    d = line.record
    stay = timeline.at(d.dropoff_time)
    what = f"{d.courier_id} drops off {d.order_id} at {d.dropoff_time}"
    if stay is None or stay.place != d.order_id:
        out.add(RULE_7, ORDERS, line.number, f"{what}, but is {_where(stay, d.courier_id)} then")
        return
    for problem in _service_problems(stay, d.dropoff_time, dropoff_minutes):
        out.add(RULE_7, ORDERS, line.number, f"{what}, {problem}")


def _service_problems(stay: _Stay, minute: int, service: int) -> list[str]:
    """Half the service between arrival and ``minute``, the other half before leaving."""
    problems = []
    if 2 * (minute - stay.arrival) < service:
        problems.append(f"only {minute - stay.arrival} min after arriving (service {service})")
    if 2 * (stay.leave - minute) < service:
        problems.append(f"but leaves at {stay.leave} (service {service})")
    return problems


# Metrics, as the evaluator computes them.


def _report(
    violations: list[str],
    assignments: list[_Line[Assignment]],
    delivered: dict[str, _Line[DeliveredOrder]],
    timelines: dict[str, _Timeline],
    instance: MdrpInstance,
) -> CheckReport:
    orders = [line.record for line in delivered.values()]
    published = [instance.orders[d.order_id] for d in orders]
    click_to_door = [
        d.dropoff_time - p.placement_time for d, p in zip(orders, published, strict=True)
    ]
    per_hour, utilisation, pay = _courier_metrics(assignments, orders, timelines, instance)
    return CheckReport(
        feasible=not violations,
        violations=violations,
        delivered=len(orders),
        total=len(instance.orders),
        click_to_door=Distribution.of(click_to_door),
        ready_to_door=Distribution.of(
            [d.dropoff_time - p.ready_time for d, p in zip(orders, published, strict=True)]
        ),
        ready_to_pickup=Distribution.of(
            [d.pickup_time - p.ready_time for d, p in zip(orders, published, strict=True)]
        ),
        click_to_door_overage=Distribution.of(
            [max(0, c - instance.target_click_to_door) for c in click_to_door]
        ),
        orders_per_hour=Distribution.of(per_hour),
        utilisation=Distribution.of(utilisation),
        total_pay=pay,
    )


def _courier_metrics(
    assignments: list[_Line[Assignment]],
    orders: list[DeliveredOrder],
    timelines: dict[str, _Timeline],
    instance: MdrpInstance,
) -> tuple[list[float], list[float], float]:
    """Per courier: orders per hour and utilisation (driving, dropping and picking time
    over the shift); and the total pay (per order, or the hourly guarantee if more)."""
    delivered = Counter(d.courier_id for d in orders)
    bundles = Counter(line.record.courier_id for line in assignments)
    per_hour, utilisation, pay = [], [], 0.0
    for courier_id, courier in instance.couriers.items():
        shift = courier.off_time - courier.on_time
        busy = (
            timelines[courier_id].driving
            + delivered[courier_id] * instance.dropoff_minutes
            + bundles[courier_id] * instance.pickup_minutes
        )
        per_hour.append(60 * delivered[courier_id] / shift if shift else 0.0)
        utilisation.append(busy / shift if shift else 0.0)
        pay += max(
            delivered[courier_id] * instance.pay_per_order,
            shift * instance.guaranteed_pay_per_hour / 60,
        )
    return per_hour, utilisation, pay
