"""Travel-time models. The design's default: haversine at 30 km/h, rounded up, at least 5 min."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from swifteats.domain.geo import Point, haversine_km


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
        minutes = math.ceil(haversine_km(origin, destination) / self.speed_kmh * 60.0)
        return max(self.min_minutes, minutes)
