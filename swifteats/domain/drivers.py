"""Drivers as the assignment sees them, and the port that stores them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from swifteats.domain.geo import Point


class DriverStatus(StrEnum):
    """A driver's availability."""

    AVAILABLE = "available"
    BUSY = "busy"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class DriverRecord:
    """A driver's last known position, status and current order (of a route, the last)."""

    driver_id: str
    location: Point
    status: DriverStatus
    order_id: str | None = None
    shift_ends_at: datetime | None = None
    """No order is given to this driver if it could only be picked up after this instant."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The driver an order holds and the ETA promised; ``existing`` when claimed before."""

    driver_id: str
    eta: int
    existing: bool


class UnknownDriverError(LookupError):
    """The driver id was never registered."""


class DriverIndex(Protocol):
    """Where drivers' positions and statuses live (Redis in the services, memory in replays)."""

    def register(
        self,
        driver_id: str,
        location: Point,
        status: DriverStatus,
        shift_ends_at: datetime | None = None,
    ) -> None:
        """Add or replace a driver."""
        ...

    def move(self, driver_id: str, location: Point) -> None:
        """Update a registered driver's position."""
        ...

    def set_status(self, driver_id: str, status: DriverStatus) -> None:
        """Change a registered driver's status."""
        ...

    def get(self, driver_id: str) -> DriverRecord | None:
        """One driver, or None."""
        ...

    def search(self, center: Point, radius_km: float) -> list[DriverRecord]:
        """Every driver, whatever the status, within ``radius_km`` of ``center``."""
        ...

    def claim(self, order_id: str, ranked: list[tuple[str, int]]) -> Claim | None:
        """Atomically give the order the first still-available driver of ``(driver_id, eta)``.

        An order that already holds a driver gets that claim back and nothing new is claimed.
        """
        ...

    def claim_route(self, driver_id: str, etas: list[tuple[str, int]]) -> bool:
        """Atomically give a still-available driver every order of a route, ``(order_id,
        eta)`` in drop-off order; False (and nothing changed) if the driver is not
        available or any of the orders holds a driver already.

        The driver holds the route's last order: its drop-off frees the driver.
        """
        ...

    def claims(self, order_ids: list[str]) -> dict[str, Claim]:
        """The drivers these orders hold, for those that hold one (``existing`` set)."""
        ...

    def release(self, driver_id: str, order_id: str, location: Point) -> bool:
        """Make the driver available at ``location`` if it still holds ``order_id``."""
        ...

    def count_available(self) -> int:
        """How many drivers are available now."""
        ...
