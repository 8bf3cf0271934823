"""Drivers as the assignment sees them, and the port that stores them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from swifteats.domain.geo import Point

SHIFT_END_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
SHIFT_END_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""A shift end is stored only within these instants (inclusive): far enough apart for any
schedule, and well inside what a datetime can read back from epoch seconds."""


def checked_shift_end(moment: datetime | None) -> datetime | None:
    """``moment`` if it can be a driver's shift end (None: no shift end); else ValueError
    saying why."""
    if moment is None:
        return None
    if moment.utcoffset() is None:
        raise ValueError("a shift end needs a time zone")
    if not SHIFT_END_EARLIEST <= moment <= SHIFT_END_LATEST:
        raise ValueError(
            "a shift end must be between 1970-01-01T00:00:00Z and 2100-01-01T00:00:00Z"
        )
    return moment


class DriverStatus(StrEnum):
    """A driver's availability."""

    AVAILABLE = "available"
    BUSY = "busy"
    OFFLINE = "offline"


RouteStops = tuple[tuple[str, int], ...]
"""A route's orders in drop-off order, each with its ETA in minutes: what a driver holds
(``DriverRecord.route``), is queued (``QueuedRoute.etas``) or is given (``RoutePlan``)."""


@dataclass(frozen=True, slots=True)
class DriverRecord:
    """A driver's last known position, status and current order (of a route, the last)."""

    driver_id: str
    location: Point
    status: DriverStatus
    order_id: str | None = None
    shift_ends_at: datetime | None = None
    """No order is given to this driver if it could only be picked up after this instant."""
    route: RouteStops = ()
    """The orders it holds, in drop-off order, each with its ETA, as ``get`` reads them."""
    available_since: datetime | None = None
    """When it last became available (registered, set or released so, at the instant the
    caller gave; None: not given), kept until it next becomes available."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The driver an order holds and the ETA promised; ``existing`` when claimed before."""

    driver_id: str
    eta: int
    existing: bool


@dataclass(frozen=True, slots=True)
class RouteEnd:
    """When and where the route a driver is on ends: it is free there then."""

    free_at: datetime
    location: Point


@dataclass(frozen=True, slots=True)
class QueuedRoute:
    """A busy driver's next route, changeable until it starts at the current one's end."""

    etas: RouteStops
    """Each order with the minutes from the route's start to its door, in drop-off order."""
    minutes: float
    """From the route's start until the driver is free at its last door."""
    end: Point
    """The last door."""

    @property
    def order_ids(self) -> tuple[str, ...]:
        """The orders, in drop-off order."""
        return tuple(order_id for order_id, _ in self.etas)


@dataclass(frozen=True, slots=True)
class DriverPlan:
    """What a windowed policy knows of a busy driver beyond its status."""

    end: RouteEnd | None
    """None: busy with no known end (claimed one order at a time, or by hand)."""
    queued: QueuedRoute | None


class UnknownDriverError(LookupError):
    """The driver id was never registered."""


class UnreadableDriverError(LookupError):
    """A driver is stored but its record cannot be read (written by hand, or corrupted)."""

    def __init__(self, driver_id: str, reason: str) -> None:
        super().__init__(
            f"driver {driver_id!r} is stored but its record cannot be read ({reason}); "
            "register it again to replace the record"
        )
        self.driver_id = driver_id


class DriverHoldsOrderError(Exception):
    """The driver holds an order, so it cannot be made available: only that order's
    release (its delivery, or an operator's explicit release) frees it."""

    def __init__(self, driver_id: str, order_id: str) -> None:
        super().__init__(f"driver {driver_id!r} holds order {order_id!r}")
        self.driver_id = driver_id
        self.order_id = order_id


class DriverIndex(Protocol):
    """Where drivers' positions and statuses live (Redis in the services, memory in replays)."""

    def register(
        self,
        driver_id: str,
        location: Point,
        status: DriverStatus,
        shift_ends_at: datetime | None = None,
        at: datetime | None = None,
    ) -> None:
        """Add or replace a driver; the order it holds, if any, stays held. An available
        one is available since ``at`` (the registration's instant; None: not known).

        Raises:
            ValueError: a shift end :func:`checked_shift_end` refuses (nothing stored).
            DriverHoldsOrderError: ``status`` is available and the driver holds an order
                (nothing is changed: the check and the write are one atomic step).
        """
        ...

    def move(self, driver_id: str, location: Point) -> None:
        """Update a registered driver's position."""
        ...

    def set_status(self, driver_id: str, status: DriverStatus, at: datetime | None = None) -> None:
        """Change a registered driver's status; the order it holds, if any, stays held.
        One made available (it was not) is available since ``at`` (None: not known).

        Raises:
            UnknownDriverError: the driver was never registered.
            DriverHoldsOrderError: ``status`` is available and the driver holds an order
                (nothing is changed: the check and the write are one atomic step).
        """
        ...

    def get(self, driver_id: str) -> DriverRecord | None:
        """One driver, or None; :class:`UnreadableDriverError` if its record cannot be read."""
        ...

    def search(self, center: Point, radius_km: float) -> list[DriverRecord]:
        """Every driver, whatever the status, within ``radius_km`` of ``center``; a record
        that cannot be read is left out (and logged), never fatal for the area."""
        ...

    def search_many(self, areas: Sequence[tuple[Point, float]]) -> list[list[DriverRecord]]:
        """:meth:`search` for each ``(center, radius_km)``, in one go."""
        ...

    def search_union(self, areas: Sequence[tuple[Point, float]]) -> list[DriverRecord]:
        """Every driver within any of the areas, once, in no set order: what a window
        needs of its restaurants' overlapping areas."""
        ...

    def claim(self, order_id: str, ranked: list[tuple[str, int]]) -> Claim | None:
        """Atomically give the order the first still-available driver of ``(driver_id, eta)``.

        An order that already holds a driver gets that claim back and nothing new is claimed.
        """
        ...

    def claim_route(
        self, driver_id: str, etas: list[tuple[str, int]], end: RouteEnd | None = None
    ) -> bool:
        """Atomically give a still-available driver every order of a route, ``(order_id,
        eta)`` in drop-off order, ending at ``end``; False (and nothing changed) if the
        driver is not available or any of the orders holds a driver already.

        The driver holds the route's last order: its drop-off frees the driver.
        """
        ...

    def queue_route(self, driver_id: str, route: QueuedRoute | None) -> bool:
        """Give a busy driver this next route, replacing any (None: no next route);
        False (nothing changed) if the driver is not busy."""
        ...

    def plans(self, driver_ids: list[str]) -> dict[str, DriverPlan]:
        """The route ends and next routes known of these drivers (only those with one)."""
        ...

    def claims(self, order_ids: list[str]) -> dict[str, Claim]:
        """The drivers these orders hold, for those that hold one (``existing`` set)."""
        ...

    def release(
        self, driver_id: str, order_id: str, location: Point | None, at: datetime | None = None
    ) -> bool:
        """Free the driver of ``order_id`` at ``location`` (None: where it is) if it still
        holds it; False if not.

        A driver with a next route none of whose orders holds a driver yet starts it there
        (at ``at``: its end becomes known); any other becomes available (since ``at``).
        """
        ...

    def count_available(self) -> int:
        """How many drivers are available now."""
        ...

    def available_by_geo_key(self) -> dict[str, int]:
        """Available drivers per geo key of where they are (keys with none are left out)."""
        ...


def union_of(found: Iterable[Iterable[DriverRecord]]) -> list[DriverRecord]:
    """Each driver of ``found`` once (its first record)."""
    union: dict[str, DriverRecord] = {}
    for records in found:
        for record in records:
            union.setdefault(record.driver_id, record)
    return list(union.values())
