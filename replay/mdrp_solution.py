"""The published MDRP evaluator's three solution files, written from plain records.

Formats: ``../shared/docs/MDRP_SOLUTION_FORMAT.md``. Every file starts with its header
(the evaluator drops the first line of the assignments file unread), fields are
separated by single spaces, times are whole minutes and ids are the instance's own.
In the couriers file origin ``0`` is the courier's start; any other place is a
restaurant id (``r3``) or an order id (``o12``, standing for that order's customer).
:func:`solution_from_routes` turns a replay's routes (bundles whole, drop-offs in
sequence) into these records; :func:`solution_from_trips` does it for one-order trips.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from replay.inputs import LoggedOrder
from swifteats.domain.fleet import Route, Stop, Trip

ASSIGNMENTS = "solution_info_assignments.txt"
ORDERS = "solution_info_orders.txt"
COURIERS = "solution_info_couriers.txt"
ASSIGNMENTS_HEADER = "assignment_time pickup_time courier orders"
ORDERS_HEADER = "order placement_time ready_time pickup_time dropoff_time courier"
COURIERS_HEADER = "courier departure_time origin destination"
START = "0"
"""The origin of a courier's first move: its start location."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """A final assignment: a bundle of orders, listed in drop-off order."""

    assignment_time: int
    pickup_time: int
    courier_id: str
    order_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeliveredOrder:
    """One delivered order with its four times."""

    order_id: str
    placement_time: int
    ready_time: int
    pickup_time: int
    dropoff_time: int
    courier_id: str


@dataclass(frozen=True, slots=True)
class CourierMove:
    """A courier leaves ``origin`` for ``destination`` at ``departure_time``."""

    courier_id: str
    departure_time: int
    origin: str
    destination: str


class Solution(NamedTuple):
    """The three record lists, in :func:`write_solution`'s argument order."""

    assignments: list[Assignment]
    orders: list[DeliveredOrder]
    moves: list[CourierMove]


def write_solution(
    folder: Path,
    assignments: Iterable[Assignment],
    orders: Iterable[DeliveredOrder],
    moves: Iterable[CourierMove],
) -> None:
    """Write the evaluator's three files into ``folder`` (created if needed).

    Assignments and orders are written in the given order; moves are grouped into
    one block per courier (couriers in order of first appearance), each block in
    departure order.

    Raises:
        ValueError: an assignment without orders, or an empty id or one holding
            whitespace (it would break the single-space format).
    """
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / ASSIGNMENTS, ASSIGNMENTS_HEADER, [_assignment_line(a) for a in assignments])
    _write(folder / ORDERS, ORDERS_HEADER, [_order_line(o) for o in orders])
    _write(folder / COURIERS, COURIERS_HEADER, [_move_line(m) for m in _contiguous(moves)])


def solution_from_trips(trips: Iterable[Trip], orders: Mapping[str, LoggedOrder]) -> Solution:
    """The records of one-order trips (each a route of one; see :func:`solution_from_routes`).

    Raises:
        ValueError: a time that is not a whole minute.
    """
    return solution_from_routes((_route_of(trip, orders[trip.order_id]) for trip in trips), orders)


def solution_from_routes(routes: Iterable[Route], orders: Mapping[str, LoggedOrder]) -> Solution:
    """The records of a replay's routes: one assignment per route, bundles whole.

    Each courier leaves where it is (its start, then its last customer) for the
    restaurant when the route starts, leaves the restaurant for the first customer at the
    route's departure, and each customer for the next when done there. The assignment
    lists the orders in drop-off order, with the minute of the decision that made it.

    Args:
        routes: the replay's routes; a courier's routes must not overlap.
        orders: the logged orders by id (placement and ready minutes, restaurant id).

    Raises:
        ValueError: a time that is not a whole minute.
    """
    solution = Solution([], [], [])
    here: dict[str, str] = {}
    for route in sorted(routes, key=lambda r: (r.depart, r.driver_id)):
        restaurant = orders[route.stops[0].order_id].restaurant_id
        pickup = _minute(route.pickup)
        solution.assignments.append(
            Assignment(_minute(route.assigned_at), pickup, route.driver_id, route.order_ids)
        )
        for stop in route.stops:
            solution.orders.append(_delivered(route, stop, orders[stop.order_id]))
        solution.moves.extend(_route_moves(route, restaurant, here.get(route.driver_id, START)))
        here[route.driver_id] = route.order_ids[-1]
    return solution


def _route_of(trip: Trip, order: LoggedOrder) -> Route:
    stop = Stop(trip.order_id, order.customer, trip.arrive_customer, trip.dropoff, trip.free_at)
    return Route(
        trip.driver_id,
        order.restaurant,
        trip.origin,
        trip.assigned_at,
        trip.assigned_at,
        trip.arrive_restaurant,
        trip.pickup,
        trip.depart_restaurant,
        (stop,),
    )


def _route_moves(route: Route, restaurant: str, origin: str) -> list[CourierMove]:
    """From ``origin`` to the restaurant, then on to each customer in turn."""
    moves = [CourierMove(route.driver_id, _minute(route.depart), origin, restaurant)]
    place, leave = restaurant, route.depart_restaurant
    for stop in route.stops:
        moves.append(CourierMove(route.driver_id, _minute(leave), place, stop.order_id))
        place, leave = stop.order_id, stop.leave
    return moves


def _delivered(route: Route, stop: Stop, order: LoggedOrder) -> DeliveredOrder:
    return DeliveredOrder(
        order.order_id,
        _minute(order.placed_at),
        _minute(order.ready_at),
        _minute(route.pickup),
        _minute(stop.dropoff),
        route.driver_id,
    )


def _minute(value: float) -> int:
    if not float(value).is_integer():
        raise ValueError(f"MDRP solution times are whole minutes, got {value}")
    return int(value)


def _contiguous(moves: Iterable[CourierMove]) -> list[CourierMove]:
    blocks: dict[str, list[CourierMove]] = {}
    for move in moves:
        blocks.setdefault(move.courier_id, []).append(move)
    return [m for block in blocks.values() for m in sorted(block, key=lambda m: m.departure_time)]


def _assignment_line(assignment: Assignment) -> str:
    if not assignment.order_ids:
        raise ValueError(f"an assignment to {assignment.courier_id} carries no order")
    a = assignment
    return _line(a.assignment_time, a.pickup_time, a.courier_id, *a.order_ids)


def _order_line(order: DeliveredOrder) -> str:
    o = order
    return _line(
        o.order_id, o.placement_time, o.ready_time, o.pickup_time, o.dropoff_time, o.courier_id
    )


def _move_line(move: CourierMove) -> str:
    return _line(move.courier_id, move.departure_time, move.origin, move.destination)


def _line(*fields: str | int) -> str:
    texts = [str(field) for field in fields]
    for text in texts:
        if not text or any(c.isspace() for c in text):
            raise ValueError(f"MDRP solution fields are non-empty and hold no whitespace: {text!r}")
    return " ".join(texts)


def _write(path: Path, header: str, lines: list[str]) -> None:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
