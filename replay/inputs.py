"""What a replay reads: logged orders, driver shifts, service times and the travel model.

The planar travel model of the MDRP instances (:class:`PlanarProjection`,
:class:`PlanarEta`) and :class:`ServiceTimes` live in the pure core
(``swifteats.domain``), because the live services build the same model from their
settings; they are re-exported here so that a replay input is described by one module.
"""

from __future__ import annotations

from dataclasses import dataclass

from swifteats.domain.eta import EtaModel, PlanarEta, PlanarProjection
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
    known_at: float | None = None
    """When the dispatcher first hears of it, if before ``placed_at`` (the ``notice``
    scenario); None: at placement."""

    @property
    def revealed_at(self) -> float:
        """The minute the replay places it with the services."""
        return self.placed_at if self.known_at is None else self.known_at


@dataclass(frozen=True, slots=True)
class DriverShift:
    """A driver's shift: where it starts, when it starts and ends (minutes)."""

    driver_id: str
    start: Point
    shift_start: float
    shift_end: float


@dataclass(frozen=True, slots=True)
class ReplayInput:
    """A whole replay input: orders, drivers, service times and travel model."""

    name: str
    orders: tuple[LoggedOrder, ...]
    drivers: tuple[DriverShift, ...]
    service_times: ServiceTimes
    eta: EtaModel
    source_hash: str
