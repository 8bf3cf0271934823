"""What a replay reads: logged orders, driver shifts, service times and the travel model."""

from __future__ import annotations

import math
from dataclasses import dataclass

from swifteats.domain.eta import EtaModel
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point

__all__ = [
    "DriverShift",
    "LoggedOrder",
    "PlanarEta",
    "PlanarProjection",
    "ReplayInput",
    "ServiceTimes",
]

METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True, slots=True)
class LoggedOrder:
    """One historical order; times are minutes from the start of the day."""

    order_id: str
    placed_at: float
    restaurant_id: str
    restaurant: Point
    customer: Point
    ready_at: float
    customer_id: str = ""
    items: tuple[tuple[str, int, float], ...] = ()
    total_amount: float | None = None
    historical_driver_id: str | None = None


@dataclass(frozen=True, slots=True)
class DriverShift:
    """A driver's shift: where it starts, when it starts and ends (minutes)."""

    driver_id: str
    start: Point
    shift_start: float
    shift_end: float


@dataclass(frozen=True, slots=True)
class PlanarProjection:
    """Planar metres (x east, y north) ↔ lat/lon around ``origin`` (equirectangular)."""

    origin: Point

    def to_point(self, x: float, y: float) -> Point:
        """The position ``x`` metres east and ``y`` metres north of the origin."""
        return Point(
            self.origin.latitude + y / METRES_PER_DEGREE,
            self.origin.longitude + x / self._metres_per_degree_lon,
        )

    def to_metres(self, point: Point) -> tuple[float, float]:
        """The inverse of :meth:`to_point`."""
        return (
            (point.longitude - self.origin.longitude) * self._metres_per_degree_lon,
            (point.latitude - self.origin.latitude) * METRES_PER_DEGREE,
        )

    @property
    def _metres_per_degree_lon(self) -> float:
        return METRES_PER_DEGREE * math.cos(math.radians(self.origin.latitude))


@dataclass(frozen=True, slots=True)
class PlanarEta:
    """The MDRP travel model: ``ceil(euclidean metres / metres per minute)``, no minimum."""

    projection: PlanarProjection
    meters_per_minute: float

    def travel_minutes(self, origin: Point, destination: Point) -> int:
        """Whole minutes between two points."""
        return self.minutes_between_metres(
            self.projection.to_metres(origin), self.projection.to_metres(destination)
        )

    def minutes_between_metres(self, a: tuple[float, float], b: tuple[float, float]) -> int:
        """Whole minutes between two planar positions."""
        return planar_minutes(a, b, self.meters_per_minute)


def planar_minutes(a: tuple[float, float], b: tuple[float, float], meters_per_minute: float) -> int:
    """``ceil(euclid(a, b) / meters_per_minute)``, float noise of the projection rounded away."""
    return math.ceil(round(math.dist(a, b) / meters_per_minute, 6))


@dataclass(frozen=True, slots=True)
class ReplayInput:
    """A whole replay input: orders, drivers, service times and travel model."""

    name: str
    orders: tuple[LoggedOrder, ...]
    drivers: tuple[DriverShift, ...]
    service_times: ServiceTimes
    eta: EtaModel
    source_hash: str
