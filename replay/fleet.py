"""The fleet: where every driver is and what it does, on the replay's simulated clock.

Drivers come on shift available at their start, drive the routes the services give them
(to the restaurant, wait for the food, pick up, drop off each order in turn) and record
their position every ``location_interval_min`` while they move. The fleet tells the
services what happens (shifts, pickups, deliveries: a drop-off puts the driver at the door
in the driver index) and learns each route from the driver index: when an answer assigns
a driver, and when a drop-off frees a driver that may have had a route queued (read with
the instant's barrier, :meth:`Fleet.take_starting`, one call for all). Positions
along the way are not sent: no policy reads a busy driver's position (a windowed one
plans from the route's end), so they would only cost a call each. A pickup or drop-off of
an order whose assignment the Order Service has not applied yet (a queued route starts at
the drop-off, its orders are answered at the next window) is told once it is applied.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from replay.engine import Engine
from replay.inputs import DriverShift, LoggedOrder, ReplayInput
from replay.scheduler import Priority, Scheduler
from swifteats.domain.drivers import RouteStops
from swifteats.domain.fleet import Delivery, Route, Trip, plan_route
from swifteats.domain.geo import Point


class Fleet:
    """Drivers' shifts, routes and positions (see the module)."""

    def __init__(
        self,
        data: ReplayInput,
        scheduler: Scheduler,
        engine: Engine,
        *,
        location_interval_min: float,
        queued_routes: bool,
    ) -> None:
        """``queued_routes``: whether the policy may queue a route on a busy driver (a
        windowed one), so a drop-off may start the driver's next route."""
        self._data = data
        self._scheduler = scheduler
        self._engine = engine
        self._interval = location_interval_min
        self._queued_routes = queued_routes
        self._orders = {o.order_id: o for o in data.orders}
        self._shifts = {d.driver_id: d for d in data.drivers}
        self._position = {d.driver_id: d.start for d in data.drivers}
        self._on_route: dict[str, Route] = {}
        self._may_start: set[str] = set()
        """Drivers a decision gave a queued route since their last drop-off."""
        self._starting: list[str] = []
        """Such drivers freed this instant: their route is read at its end."""
        self._confirmed: set[str] = set()
        self._deferred: defaultdict[str, list[str]] = defaultdict(list)
        self.trips: dict[str, Trip] = {}
        self.routes: list[Route] = []
        self.timeline: list[dict[str, Any]] = []

    def schedule_shifts(self) -> None:
        """Put every shift's start and end on the clock."""
        for shift in self._data.drivers:
            self._scheduler.at(shift.shift_start, Priority.SHIFT_START, self._shift_start, shift)
            self._scheduler.at(shift.shift_end, Priority.SHIFT_END, self._shift_end, shift)

    def queued(self, driver_ids: tuple[str, ...]) -> None:
        """A decision gave these drivers a queued route: their next drop-off may start it."""
        self._may_start.update(driver_ids)

    def assigned(self, answers: list[tuple[str, str]]) -> None:
        """The Order Service applied these ``(order_id, driver_id)`` assignments, in turn:
        put each driver's route on the road unless it is already on it.

        A one-at-a-time policy's route is its one order. A windowed policy's routes are
        read in one call for all answers; a pickup or drop-off told meanwhile (it may
        start a queued route) makes the next ones read again.
        """
        routes: dict[str, RouteStops] = {}
        for i, (order_id, driver_id) in enumerate(answers):
            self._confirmed.add(order_id)
            if order_id in self.trips:  # a queued route that started at a drop-off
                pass
            elif not self._queued_routes:
                self._launch(driver_id, [order_id])
            else:
                if driver_id not in routes:
                    later = [d for o, d in answers[i:] if o not in self.trips]
                    routes = self._engine.driver_routes(list(dict.fromkeys(later)))
                self._launch_held_route(driver_id, routes.get(driver_id, ()))
            deferred = self._deferred.pop(order_id, [])
            for action in deferred:
                routes = {}
                self._tell(action, order_id)

    def _launch_held_route(self, driver_id: str, held: RouteStops) -> None:
        if held and held[0][0] not in self.trips:
            self._launch(driver_id, [order_id for order_id, _ in held])

    def _launch(self, driver_id: str, order_ids: list[str]) -> None:
        """Plan and drive a route from where the driver is now."""
        orders = [self._orders[o] for o in order_ids]
        now = self._scheduler.minutes
        route = plan_route(
            driver_id=driver_id,
            deliveries=[Delivery(o.order_id, o.customer, o.ready_at) for o in orders],
            restaurant=orders[0].restaurant,
            driver_at=self._position[driver_id],
            depart=now,
            eta=self._data.eta,
            service=self._data.service_times,
        )
        self._on_route[driver_id] = route
        self.routes.append(route)
        for trip in route.trips():
            self.trips[trip.order_id] = trip
        self._record(driver_id, "to_restaurant", self._position[driver_id])
        for minute, state, where in _steps(route):
            self._scheduler.at(minute, Priority.TRIP_STEP, self._step, (driver_id, state, where))
        for start, end, leave, arrive in _legs(route):
            self._schedule_moves(driver_id, start, end, leave, arrive)
        for order_id in route.order_ids:
            self._scheduler.at(route.pickup, Priority.TRIP_STEP, self._picked_up, order_id)
        self._scheduler.at(route.free_at, Priority.DRIVER_FREE, self._free, route)

    def _shift_start(self, shift: DriverShift) -> None:
        ends = self._scheduler.instant(shift.shift_end)
        self._engine.driver_on(shift.driver_id, shift.start, ends)
        self._record(shift.driver_id, "available", shift.start)

    def _shift_end(self, shift: DriverShift) -> None:
        if shift.driver_id not in self._on_route and shift.driver_id not in self._starting:
            self._go_offline(shift.driver_id, self._position[shift.driver_id])

    def _go_offline(self, driver_id: str, where: Point) -> None:
        self._engine.driver_off(driver_id)
        self._record(driver_id, "offline", where)

    def _step(self, step: tuple[str, str, Point]) -> None:
        driver_id, state, where = step
        self._position[driver_id] = where
        self._record(driver_id, state, where)

    def _picked_up(self, order_id: str) -> None:
        self._tell("picked_up", order_id)

    def _free(self, route: Route) -> None:
        """The last drop-off: the driver is free at the door, or (read at the instant's end)
        starts its queued route."""
        driver_id, door = route.driver_id, route.end
        del self._on_route[driver_id]
        self._position[driver_id] = door
        for order_id in route.order_ids:
            self._tell("delivered", order_id)
        self._record(driver_id, "available", door)
        if driver_id in self._may_start:
            self._may_start.discard(driver_id)
            self._starting.append(driver_id)
        else:
            self._off_if_shift_ended(driver_id)

    def take_starting(self) -> list[str]:
        """The drivers freed this instant whose drop-off may have started a queued route:
        the harness reads their routes once the instant's events are told and hands them
        to :meth:`start_queued`."""
        starting, self._starting = self._starting, []
        return starting

    def start_queued(self, driver_ids: list[str], routes: Mapping[str, RouteStops]) -> None:
        """Drive the route each driver of :meth:`take_starting` holds now, from ``routes``
        (none: it stays free, or goes off if its shift has ended)."""
        for driver_id in driver_ids:
            self._launch_held_route(driver_id, routes.get(driver_id, ()))
            self._off_if_shift_ended(driver_id)

    def _off_if_shift_ended(self, driver_id: str) -> None:
        ended = self._scheduler.minutes >= self._shifts[driver_id].shift_end
        if driver_id not in self._on_route and ended:
            self._go_offline(driver_id, self._position[driver_id])

    def _tell(self, action: str, order_id: str) -> None:
        """Tell the Order Service, or wait until it has applied the order's assignment."""
        if order_id not in self._confirmed:
            self._deferred[order_id].append(action)
        elif action == "picked_up":
            self._engine.picked_up(order_id)
        else:
            self._engine.delivered(order_id)

    def _schedule_moves(
        self, driver_id: str, start: Point, end: Point, leave: float, arrive: float
    ) -> None:
        """Position reports along the straight line, every ``location_interval_min``."""
        minute = leave + self._interval
        while minute < arrive:
            share = (minute - leave) / (arrive - leave)
            where = Point(
                start.latitude + (end.latitude - start.latitude) * share,
                start.longitude + (end.longitude - start.longitude) * share,
            )
            self._scheduler.at(minute, Priority.TRIP_STEP, self._moved, (driver_id, where))
            minute += self._interval

    def _moved(self, move: tuple[str, Point]) -> None:
        driver_id, where = move
        self._position[driver_id] = where
        self._record(driver_id, "moving", where)

    def _record(self, driver_id: str, state: str, where: Point) -> None:
        self.timeline.append(
            {
                "time": self._scheduler.minutes,
                "driver_id": driver_id,
                "state": state,
                "latitude": where.latitude,
                "longitude": where.longitude,
            }
        )

    def order(self, order_id: str) -> LoggedOrder:
        """The logged order."""
        return self._orders[order_id]


def _steps(route: Route) -> list[tuple[float, str, Point]]:
    """The states a route's driver passes through: (minute, state, where)."""
    steps = [
        (route.arrive_restaurant, "at_restaurant", route.restaurant),
        (route.depart_restaurant, "to_customer", route.restaurant),
    ]
    for stop in route.stops:
        steps.append((stop.arrive, "at_customer", stop.customer))
        if stop is not route.stops[-1]:
            steps.append((stop.leave, "to_customer", stop.customer))
    return steps


def _legs(route: Route) -> list[tuple[Point, Point, float, float]]:
    """The route's drives: (from, to, leave, arrive)."""
    legs = [(route.origin, route.restaurant, route.depart, route.arrive_restaurant)]
    here, leave = route.restaurant, route.depart_restaurant
    for stop in route.stops:
        legs.append((here, stop.customer, leave, stop.arrive))
        here, leave = stop.customer, stop.leave
    return legs
