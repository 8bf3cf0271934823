"""Drivers starting and ending their shifts: ``POST /drivers`` and the shift changes a
lockstep replay sends with ``POST /decisions``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from swifteats.domain.drivers import (
    DriverHoldsOrderError,
    DriverIndex,
    DriverStatus,
    UnknownDriverError,
)
from swifteats.domain.geo import Point
from swifteats.services.assignment.schemas import DriverIn, ShiftIn


def register(drivers: DriverIndex, body: DriverIn, now: datetime) -> None:
    """Register the driver at its position, available since ``now`` unless the body says
    when; raise :class:`DriverHoldsOrderError`."""
    location = Point(body.latitude, body.longitude)
    since = body.available_since or now
    drivers.register(body.driver_id, location, body.status, body.shift_ends_at, since)


def apply_shifts(
    drivers: DriverIndex, shifts: list[ShiftIn], now: datetime
) -> list[dict[str, Any]]:
    """Apply each change in turn; per change ``{"status": <HTTP status>, "detail"?: why}``
    with the status its own route would have answered (201, 200, 404, 409)."""
    return [_apply(drivers, shift, now) for shift in shifts]


def _apply(drivers: DriverIndex, shift: ShiftIn, now: datetime) -> dict[str, Any]:
    try:
        if shift.on is not None:
            register(drivers, shift.on, now)
            return {"status": 201}
        assert shift.off is not None  # noqa: S101 - ShiftIn holds exactly one
        drivers.set_status(shift.off, DriverStatus.OFFLINE, now)
    except UnknownDriverError:
        return {"status": 404, "detail": f"driver {shift.off!r} is not registered"}
    except DriverHoldsOrderError as held:
        return {"status": 409, "detail": f"driver holds order {held.order_id!r}"}
    return {"status": 200}
