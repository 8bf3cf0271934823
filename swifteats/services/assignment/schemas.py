"""Bodies of the Driver Assignment Service's HTTP API: drivers, locations, shift changes."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from swifteats.domain.drivers import DriverStatus, checked_shift_end
from swifteats.services.http import Latitude, Longitude, NewId, RouteStop, StorableId


def _instant_text(value: object) -> object:
    """An instant comes as ISO-8601 text, not as a number of seconds."""
    if not isinstance(value, str):
        raise ValueError("an instant must be an ISO-8601 string")
    return value


ShiftEnd = Annotated[
    AwareDatetime, BeforeValidator(_instant_text), AfterValidator(checked_shift_end)
]
"""An ISO-8601 instant with a time zone, from 1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z."""


class Location(BaseModel):
    """A position in decimal degrees."""

    model_config = ConfigDict(extra="forbid")

    latitude: Latitude
    longitude: Longitude


class DriverIn(Location):
    """A driver announcing itself."""

    driver_id: NewId = Field(alias="driverId")
    status: DriverStatus = DriverStatus.AVAILABLE
    shift_ends_at: ShiftEnd | None = Field(None, alias="shiftEndsAt")
    available_since: ShiftEnd | None = Field(
        None,
        alias="availableSince",
        description="when an available driver became so (default: now; same range)",
    )


class StatusIn(BaseModel):
    """A new status."""

    model_config = ConfigDict(extra="forbid")

    status: DriverStatus


class DriverOut(BaseModel):
    """A driver as the service holds it."""

    driver_id: str = Field(alias="driverId")
    latitude: float
    longitude: float
    status: DriverStatus
    order_id: str | None = Field(alias="orderId")
    shift_ends_at: str | None = Field(alias="shiftEndsAt", description="ISO-8601 UTC")
    route: list[RouteStop]
    available_since: str | None = Field(
        alias="availableSince", description="ISO-8601 UTC: when it last became available"
    )


class RoutesIn(BaseModel):
    """Drivers whose routes are wanted."""

    model_config = ConfigDict(extra="forbid")

    driver_ids: list[StorableId] = Field(alias="driverIds", max_length=10_000)


class ShiftIn(BaseModel):
    """Exactly one of: a driver coming on (``POST /drivers``'s body), a driver going off
    (offline)."""

    model_config = ConfigDict(extra="forbid")

    on: DriverIn | None = None
    off: StorableId | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ShiftIn:
        if (self.on is None) == (self.off is None):
            raise ValueError("a shift change is exactly one of on, off")
        return self
