"""Travel-time models: the design's (haversine at 30 km/h, rounded up, at least 5 min) and
the MDRP instances' (``ceil(euclidean metres / metres per minute)`` on a plane)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from swifteats.domain.geo import Point, haversine_km

MIN_MOVE_MINUTES = 1
"""The fewest minutes a move may take: the MDRP evaluator refuses a move of no length, so
no policy sends a driver on one (the design's model gives 5 minutes at least)."""


class EtaModel(Protocol):
    """Whole minutes to travel from one point to another."""

    def travel_minutes(self, origin: Point, destination: Point) -> int:
        """Minutes from ``origin`` to ``destination``."""
        ...


@dataclass(frozen=True, slots=True)
class ConstantSpeedEta:
    """Great-circle distance at a constant speed, rounded up, never below a floor."""

    speed_kmh: float = 30.0
    min_minutes: int = 5

    def travel_minutes(self, origin: Point, destination: Point) -> int:
        """Minutes from ``origin`` to ``destination``."""
        return self.minutes_for_km(haversine_km(origin, destination))

    def minutes_for_km(self, km: float) -> int:
        """Minutes over ``km`` of great-circle distance (for callers that know it already)."""
        return max(self.min_minutes, math.ceil(km / self.speed_kmh * 60.0))


METRES_PER_DEGREE = 111_320.0


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
    """The MDRP travel model: ``ceil(euclidean metres / metres per minute)``, no minimum.

    Positions are rounded to whole metres first, as MDRP's are: a position read back from a
    GEO index (stored to about ±0.3 m) then gives the evaluator's own travel minutes.
    """

    projection: PlanarProjection
    meters_per_minute: float

    def travel_minutes(self, origin: Point, destination: Point) -> int:
        """Whole minutes between two points."""
        return self.minutes_between_metres(
            self.whole_metres(origin), self.whole_metres(destination)
        )

    def whole_metres(self, point: Point) -> tuple[float, float]:
        """The point's planar position, rounded to whole metres (half to even)."""
        x, y = self.projection.to_metres(point)
        return float(round(x)), float(round(y))

    def minutes_between_metres(self, a: tuple[float, float], b: tuple[float, float]) -> int:
        """Whole minutes between two planar positions."""
        return planar_minutes(a, b, self.meters_per_minute)


def planar_minutes(a: tuple[float, float], b: tuple[float, float], meters_per_minute: float) -> int:
    """``ceil(euclid(a, b) / meters_per_minute)``, float noise of the projection rounded away."""
    return math.ceil(round(math.dist(a, b) / meters_per_minute, 9))
