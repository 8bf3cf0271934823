"""The dispatch board: open orders and each driver's route and queued route, between decisions.

It is what a windowed policy is shown (:meth:`DispatchBoard.open_orders`,
:meth:`DispatchBoard.drivers`) and what applies its answer
(:meth:`DispatchBoard.apply`), with the meaning given in ``swifteats.domain.policies.base``.
A policy's mistake — an unknown, finished or twice-given order, a driver off shift or
given two routes, a route across restaurants or one whose pickup would fall after the
driver's shift — raises :class:`PolicyError`: a bug to fix, never an order to drop.
Pure: the replay (or a service) tells it what happened and schedules what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from swifteats.domain.drivers import DriverStatus
from swifteats.domain.eta import EtaModel
from swifteats.domain.fleet import Delivery, Route, ServiceTimes, plan_route
from swifteats.domain.geo import Point
from swifteats.domain.policies.base import Assignment, DriverView, OpenOrder


class PolicyError(ValueError):
    """A policy returned an assignment that cannot be carried out."""


@dataclass(frozen=True, slots=True)
class Underway:
    """A route known only by its end: when and where the driver is free, what it carries."""

    free_at: float
    end: Point
    order_ids: tuple[str, ...] = ()


@dataclass
class _Driver:
    location: Point
    shift_ends_at: float
    free_since: float
    online: bool = True
    route: Route | Underway | None = None
    queued: tuple[str, ...] = ()
    queued_at: float = 0.0
    view: DriverView | None = None
    """What policies are shown, kept until something about the driver changes."""


class DispatchBoard:
    """Open orders, and every driver's committed route and queued route."""

    def __init__(self, eta: EtaModel, service: ServiceTimes) -> None:
        self._eta = eta
        self._service = service
        self._orders: dict[str, OpenOrder] = {}
        """Orders no route has started for yet (open, or queued with a driver)."""
        self._drivers: dict[str, _Driver] = {}

    def add_order(self, order: OpenOrder) -> None:
        """An order asks for a driver."""
        self._orders[order.order_id] = replace(order, queued_with=None)

    def driver_on(
        self, driver_id: str, at: Point, shift_ends_at: float, free_since: float = 0.0
    ) -> None:
        """A driver on shift, free at ``at`` since ``free_since``."""
        self._drivers[driver_id] = _Driver(at, shift_ends_at, free_since)

    def driver_underway(
        self, driver_id: str, at: Point, shift_ends_at: float, route: Underway
    ) -> None:
        """A driver on shift, on a route this board did not plan (a service's board, made
        for one decision from what the driver index knows)."""
        self._drivers[driver_id] = _Driver(at, shift_ends_at, free_since=0.0, route=route)

    def queue(self, driver_id: str, order_ids: tuple[str, ...], at: float) -> None:
        """A busy driver's queued route as decided before (``at``): orders it holds that
        are not open here are left out.

        Raises:
            PolicyError: the driver is not on a route.
        """
        if self._drivers[driver_id].route is None:
            raise PolicyError(f"{driver_id} is free: it has no queued route")
        self._set_queue(driver_id, tuple(o for o in order_ids if o in self._orders), at)

    def queued_route(self, driver_id: str) -> Route | None:
        """The plan of a busy driver's queued route, leaving when its route ends."""
        state = self._drivers[driver_id]
        if state.route is None or not state.queued:
            return None
        return self._plan(
            driver_id, state.queued, state.route.end, state.route.free_at, state.queued_at
        )

    def driver_off(self, driver_id: str) -> None:
        """A driver ends its shift (it finishes the route it is on)."""
        self._drivers[driver_id].online = False

    def moved(self, driver_id: str, at: Point) -> None:
        """A driver reports its position."""
        state = self._drivers[driver_id]
        state.location, state.view = at, None

    @property
    def waiting(self) -> int:
        """Orders no route has started for."""
        return len(self._orders)

    def open_orders(self) -> list[OpenOrder]:
        """Every order no route has started for, in the order they came."""
        return list(self._orders.values())

    def drivers(self, now: float) -> list[DriverView]:
        """Every driver on shift at ``now``."""
        return [
            state.view or self._view(driver_id, state)
            for driver_id, state in self._drivers.items()
            if state.online and now <= state.shift_ends_at
        ]

    def _view(self, driver_id: str, state: _Driver) -> DriverView:
        state.view = self._fresh_view(driver_id, state)
        return state.view

    def _fresh_view(self, driver_id: str, state: _Driver) -> DriverView:
        route = state.route
        if route is None:
            return DriverView(
                driver_id,
                state.location,
                DriverStatus.AVAILABLE,
                state.free_since,
                state.location,
                state.shift_ends_at,
            )
        return DriverView(
            driver_id,
            state.location,
            DriverStatus.BUSY,
            route.free_at,
            route.end,
            state.shift_ends_at,
            route.order_ids,
            state.queued,
        )

    def apply(self, assignments: Sequence[Assignment], now: float) -> list[Route]:
        """Carry out a decision taken at ``now``; the routes that start now.

        An assignment repeating a driver's queued route changes nothing (its minute stays
        the one it was first given at).

        Raises:
            PolicyError: an assignment that cannot be carried out (nothing is changed).
        """
        self._check(assignments, now)
        changes = [a for a in assignments if not self._unchanged(a)]
        assigned = {o for a in changes for o in a.order_ids}
        for a in changes:
            self._set_queue(a.driver_id, (), now)
        for driver_id, state in self._drivers.items():
            if assigned.intersection(state.queued):
                kept = tuple(o for o in state.queued if o not in assigned)
                self._set_queue(driver_id, kept, state.queued_at)
        started = []
        for a in changes:
            if self._drivers[a.driver_id].route is None and a.order_ids:
                started.append(self._start(a.driver_id, a.order_ids, now, now))
            else:
                self._set_queue(a.driver_id, a.order_ids, now)
        return started

    def route_done(self, driver_id: str, now: float) -> Route | None:
        """The driver left its last door; the queued route it starts now, if any."""
        state = self._drivers[driver_id]
        if state.route is not None:
            state.location = state.route.end
        state.route, state.free_since, state.view = None, now, None
        queued, queued_at = state.queued, state.queued_at
        self._set_queue(driver_id, (), now)
        if not queued:
            return None
        return self._start(driver_id, queued, now, queued_at)

    def _start(
        self, driver_id: str, order_ids: Sequence[str], now: float, assigned_at: float
    ) -> Route:
        state = self._drivers[driver_id]
        route = self._plan(driver_id, order_ids, state.location, now, assigned_at)
        state.route, state.view = route, None
        for order_id in order_ids:
            del self._orders[order_id]
        return route

    def _plan(
        self, driver_id: str, order_ids: Sequence[str], at: Point, depart: float, assigned: float
    ) -> Route:
        orders = [self._orders[o] for o in order_ids]
        return plan_route(
            driver_id=driver_id,
            deliveries=[Delivery(o.order_id, o.customer, o.ready_at) for o in orders],
            restaurant=orders[0].restaurant,
            driver_at=at,
            depart=depart,
            eta=self._eta,
            service=self._service,
            assigned_at=assigned,
        )

    def _set_queue(self, driver_id: str, order_ids: tuple[str, ...], at: float) -> None:
        """Give the driver this queued route; orders leaving it are open again."""
        state = self._drivers[driver_id]
        for order_id in set(state.queued) - set(order_ids):
            if order_id in self._orders:
                self._orders[order_id] = replace(self._orders[order_id], queued_with=None)
        for order_id in set(order_ids) - set(state.queued):
            self._orders[order_id] = replace(self._orders[order_id], queued_with=driver_id)
        state.queued, state.queued_at, state.view = order_ids, at, None

    def _unchanged(self, a: Assignment) -> bool:
        state = self._drivers[a.driver_id]
        return state.route is not None and a.order_ids == state.queued

    # Checks: a policy's mistake changes nothing.

    def _check(self, assignments: Sequence[Assignment], now: float) -> None:
        drivers: set[str] = set()
        orders: set[str] = set()
        for a in assignments:
            if a.driver_id in drivers:
                raise PolicyError(f"{a.driver_id} is given two routes in one decision")
            drivers.add(a.driver_id)
            for order_id in a.order_ids:
                if order_id in orders:
                    raise PolicyError(f"{order_id} is given twice in one decision")
                orders.add(order_id)
            self._check_one(a, now)

    def _check_one(self, a: Assignment, now: float) -> None:
        state = self._drivers.get(a.driver_id)
        if state is None or not state.online or now > state.shift_ends_at:
            raise PolicyError(f"{a.driver_id} is not on shift")
        unknown = [o for o in a.order_ids if o not in self._orders]
        if unknown:
            raise PolicyError(f"not open: {', '.join(unknown)}")
        if len({self._orders[o].restaurant_id for o in a.order_ids}) > 1:
            raise PolicyError(f"a route of {a.driver_id} spans restaurants: {a.order_ids}")
        if not a.order_ids or self._unchanged(a):
            return
        at, depart = state.location, now
        if state.route is not None:
            at, depart = state.route.end, state.route.free_at
        route = self._plan(a.driver_id, a.order_ids, at, depart, now)
        if route.pickup > state.shift_ends_at:
            raise PolicyError(
                f"{a.driver_id} would pick up {a.order_ids} at {route.pickup}, "
                f"after its shift ends at {state.shift_ends_at}"
            )
