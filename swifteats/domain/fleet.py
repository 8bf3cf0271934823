"""The fleet model: how long a driver takes from assignment to a free driver at the door.

Times are minutes on the replay's clock. The convention is the MDRP evaluator's:
pickup = max(ready, arrival at the restaurant + half the pickup service), departure
= pickup + the other half; drop-off = arrival at the customer + half the drop-off
service, and the driver leaves (for the next customer, or free) after the other half.

A :class:`Route` is one driver's run: from where it is to one restaurant, where every
order of the bundle is picked up together, then to each customer in the drop-off order
chosen for it. A single order is a route of one (:func:`plan_trip` gives its
:class:`Trip`, the per-order view the replay's tables use).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from swifteats.domain.eta import EtaModel
from swifteats.domain.geo import Point


@dataclass(frozen=True, slots=True)
class ServiceTimes:
    """Minutes spent at the restaurant and at the customer's door."""

    pickup_minutes: float = 4.0
    dropoff_minutes: float = 4.0


@dataclass(frozen=True, slots=True)
class Trip:
    """One order's timeline, from its assignment to its driver leaving the door."""

    driver_id: str
    order_id: str
    origin: Point
    assigned_at: float
    arrive_restaurant: float
    pickup: float
    depart_restaurant: float
    arrive_customer: float
    dropoff: float
    free_at: float
    """When the driver leaves this customer (free, or on to the next customer)."""
    route_orders: tuple[str, ...] = ()
    """Every order of the route it travelled in, in drop-off order (empty: just this one)."""


@dataclass(frozen=True, slots=True)
class Stop:
    """One drop-off of a route."""

    order_id: str
    customer: Point
    arrive: float
    dropoff: float
    leave: float


@dataclass(frozen=True, slots=True)
class Route:
    """A driver's run to one restaurant and on to each customer of the bundle in turn."""

    driver_id: str
    restaurant: Point
    origin: Point
    assigned_at: float
    """The minute of the decision that made this route final."""
    depart: float
    """When the driver leaves ``origin`` (the assignment, or when a queued route starts)."""
    arrive_restaurant: float
    pickup: float
    depart_restaurant: float
    stops: tuple[Stop, ...]

    @property
    def order_ids(self) -> tuple[str, ...]:
        """The orders carried, in drop-off order."""
        return tuple(stop.order_id for stop in self.stops)

    @property
    def free_at(self) -> float:
        """When the driver leaves the last customer, free again."""
        return self.stops[-1].leave

    @property
    def end(self) -> Point:
        """Where the driver is free again: the last customer's door."""
        return self.stops[-1].customer

    def trips(self) -> list[Trip]:
        """One :class:`Trip` per order, in drop-off order."""
        bundle = self.order_ids if len(self.stops) > 1 else ()
        return [
            Trip(
                self.driver_id,
                stop.order_id,
                self.origin,
                self.assigned_at,
                self.arrive_restaurant,
                self.pickup,
                self.depart_restaurant,
                stop.arrive,
                stop.dropoff,
                stop.leave,
                bundle,
            )
            for stop in self.stops
        ]


@dataclass(frozen=True, slots=True)
class Delivery:
    """An order as a route carries it: its id, its customer and when its food is ready."""

    order_id: str
    customer: Point
    ready_at: float


def plan_route(
    *,
    driver_id: str,
    deliveries: Sequence[Delivery],
    restaurant: Point,
    driver_at: Point,
    depart: float,
    eta: EtaModel,
    service: ServiceTimes,
    assigned_at: float | None = None,
) -> Route:
    """The route of a driver leaving ``driver_at`` at ``depart`` with these deliveries.

    Args:
        driver_id: the driver.
        deliveries: the bundle, in drop-off order (all from ``restaurant``).
        restaurant: where every order is picked up, together, once the last is ready.
        driver_at: where the driver leaves from.
        depart: when it leaves.
        eta: the travel model.
        service: the pickup and drop-off minutes.
        assigned_at: the decision's minute (default: ``depart``).

    Raises:
        ValueError: no deliveries.
    """
    if not deliveries:
        raise ValueError(f"a route of {driver_id} carries no order")
    half_pickup, half_dropoff = service.pickup_minutes / 2, service.dropoff_minutes / 2
    arrive_restaurant = depart + eta.travel_minutes(driver_at, restaurant)
    pickup = max(max(d.ready_at for d in deliveries), arrive_restaurant + half_pickup)
    leave, here, stops = pickup + half_pickup, restaurant, []
    for delivery in deliveries:
        arrive = leave + eta.travel_minutes(here, delivery.customer)
        dropoff = arrive + half_dropoff
        leave, here = dropoff + half_dropoff, delivery.customer
        stops.append(Stop(delivery.order_id, delivery.customer, arrive, dropoff, leave))
    return Route(
        driver_id,
        restaurant,
        driver_at,
        depart if assigned_at is None else assigned_at,
        depart,
        arrive_restaurant,
        pickup,
        pickup + half_pickup,
        tuple(stops),
    )


def plan_trip(
    *,
    driver_id: str,
    order_id: str,
    now: float,
    driver_at: Point,
    restaurant: Point,
    customer: Point,
    ready_at: float,
    eta: EtaModel,
    service: ServiceTimes,
) -> Trip:
    """The trip of a driver at ``driver_at`` given one order at ``now`` (a route of one)."""
    route = plan_route(
        driver_id=driver_id,
        deliveries=[Delivery(order_id, customer, ready_at)],
        restaurant=restaurant,
        driver_at=driver_at,
        depart=now,
        eta=eta,
        service=service,
    )
    return route.trips()[0]
