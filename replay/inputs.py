"""What a replay reads: logged orders, driver shifts, service times and the travel model."""

from __future__ import annotations

from dataclasses import dataclass

from swifteats.domain.eta import EtaModel
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point


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
class ReplayInput:
    """A whole replay input: orders, drivers, service times and travel model."""

    name: str
    orders: tuple[LoggedOrder, ...]
    drivers: tuple[DriverShift, ...]
    service_times: ServiceTimes
    eta: EtaModel
    source_hash: str
