"""Hand-made situations for the dispatch policies: a straight road where minutes are metres.

Points lie on the equator, ``x`` metres east of a fixed origin; the travel model is the
MDRP instances' (``ceil(metres / 100)``: 100 m a minute), so every time can be worked
out by hand.
"""

from __future__ import annotations

from swifteats.domain.drivers import DriverStatus
from swifteats.domain.eta import PlanarEta, PlanarProjection
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point
from swifteats.domain.policies.base import DriverView, OpenOrder, PolicyContext
from swifteats.domain.scoring import ScoringWeights

PROJECTION = PlanarProjection(Point(0.0, 0.0))
ETA = PlanarEta(PROJECTION, 100.0)
SERVICE = ServiceTimes(4.0, 4.0)
CONTEXT = PolicyContext(ScoringWeights(), ETA, SERVICE)


def at(minutes_east: float, minutes_north: float = 0.0) -> Point:
    """The point this many minutes of travel east (and north) of the origin."""
    return PROJECTION.to_point(minutes_east * 100.0, minutes_north * 100.0)


def order(
    order_id: str,
    *,
    restaurant: float = 0.0,
    customer: float = 10.0,
    placed: float = 0.0,
    ready: float = 10.0,
    restaurant_id: str | None = None,
) -> OpenOrder:
    """An order from the restaurant at ``restaurant`` to the customer at ``customer``."""
    return OpenOrder(
        order_id,
        restaurant_id or f"r@{restaurant}",
        at(restaurant),
        at(customer),
        placed,
        ready,
    )


def idle(driver_id: str, where: float, *, now: float = 0.0, shift_end: float = 1e4) -> DriverView:
    """A driver free now at ``where``."""
    return DriverView(
        driver_id, at(where), DriverStatus.AVAILABLE, now, at(where), shift_ends_at=shift_end
    )


def busy(
    driver_id: str, free_at: float, free_where: float, *, route: tuple[str, ...] = ("x",)
) -> DriverView:
    """A driver on a route, free at ``free_at`` at ``free_where``."""
    return DriverView(
        driver_id, at(free_where), DriverStatus.BUSY, free_at, at(free_where), route=route
    )
