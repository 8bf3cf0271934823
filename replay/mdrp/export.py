"""Writing a replay's routes as the MDRP evaluator's three solution files.

:func:`solution_from_routes` turns a replay's routes (bundles whole, drop-offs in
sequence) into the records of :mod:`replay.mdrp.solution`; :func:`solution_from_trips`
does it for one-order trips; :func:`write_solution` writes the records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from replay.inputs import LoggedOrder
from replay.mdrp.solution import (
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
    Solution,
)
from swifteats.domain.fleet import Route, Stop, Trip


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
