"""Where the benchmark's drivers stand and its orders start.

Drivers are spread evenly over a square around New York whose size is chosen so that a
search of ``radius_km`` from a point inside it finds about ``found`` drivers: a fleet's
size then changes how far it reaches, not how crowded a search is. Restaurants are drawn
at least one radius from the square's edges, so every search circle lies inside it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from swifteats.domain.geo import Point, haversine_km

CENTER = Point(40.7128, -74.0060)
KM_PER_DEGREE_LATITUDE = haversine_km(Point(0.0, 0.0), Point(1.0, 0.0))


@dataclass(frozen=True, slots=True)
class Area:
    """A square of ``side_km`` centred on ``center``."""

    side_km: float
    center: Point = CENTER

    @classmethod
    def for_fleet(cls, drivers: int, *, found: float, radius_km: float) -> Area:
        """The square over which ``drivers`` spread evenly put ``found`` within ``radius_km``."""
        circle = math.pi * radius_km**2
        return cls(math.sqrt(drivers * circle / min(found, drivers)))

    def point(self, rng: random.Random, *, margin_km: float = 0.0) -> Point:
        """A uniformly random point at least ``margin_km`` inside the edges (or the centre)."""
        half = max(0.0, self.side_km / 2 - margin_km)
        return self.offset(rng.uniform(-half, half), rng.uniform(-half, half))

    def offset(self, east_km: float, north_km: float) -> Point:
        """The point ``east_km`` east and ``north_km`` north of the centre."""
        latitude = self.center.latitude + north_km / KM_PER_DEGREE_LATITUDE
        per_degree_lon = KM_PER_DEGREE_LATITUDE * math.cos(math.radians(self.center.latitude))
        return Point(latitude, self.center.longitude + east_km / per_degree_lon)


def near(point: Point, rng: random.Random, *, low_km: float, high_km: float) -> Point:
    """A point between ``low_km`` and ``high_km`` from ``point`` in a random direction."""
    distance, bearing = rng.uniform(low_km, high_km), rng.uniform(0.0, 2 * math.pi)
    return Area(0.0, point).offset(distance * math.sin(bearing), distance * math.cos(bearing))
