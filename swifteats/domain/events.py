"""The design's messages, with one explicit mapping between wire names and Python names."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from swifteats.domain.geo import Point, geo_key, searchable_latitude, valid_coordinates
from swifteats.domain.ranking import INVALID_COORDINATES, Job

DEFAULT_RADIUS_KM = 5.0
MAX_RADIUS_KM = 100.0
"""Largest search radius of a request: the Order Service's HTTP limit, applied to requests
read from Kafka too."""
MAX_ID_LENGTH = 128
"""Longest id: ``orderId``, ``driverId``, ``customerId``, ``restaurantId`` or ``eventId``."""
ID_PATTERN = rf"^[A-Za-z0-9_:-][A-Za-z0-9._:-]{{0,{MAX_ID_LENGTH - 1}}}$"
"""``orderId``, ``driverId``, ``customerId`` and ``restaurantId``, in HTTP bodies and in
messages alike: ASCII letters, digits, ``.``, ``_``, ``:`` and ``-``, the first not a ``.``.
Such an id is one URL path segment as it is (no ``/``, ``?``, ``#``, ``%`` or space, never
``.`` or ``..``), a Redis hash field, a Kafka key and a PostgreSQL text. The live replay's
restaurant ids are geo keys such as ``-3_15``."""
ID_RULE = (
    f"1 to {MAX_ID_LENGTH} characters among A-Z, a-z, 0-9, '.', '_', ':' and '-', "
    "the first not a '.'"
)
_ID = re.compile(ID_PATTERN)
MAX_ERROR_LENGTH = 1000
"""Longest ``error`` of a failure response (it is stored and quoted in a dead letter)."""
MAX_ETA_MINUTES = 7 * 24 * 60
"""Largest ``eta`` a response may carry: a week (the orders table keeps it as an integer)."""
UNKNOWN_INSTANT = datetime.fromtimestamp(0, UTC)
"""``occurredAt`` of a request that did not say when it happened."""


class InvalidMessageError(ValueError):
    """A message that cannot be read; ``reason`` says why in words fit for a response.

    ``order_id`` and, for a success response, ``driver_id`` are given when they could be
    read all the same.
    """

    def __init__(
        self, reason: str, order_id: str | None = None, *, driver_id: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.order_id = order_id
        self.driver_id = driver_id


def format_instant(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``: ``2024-01-15T10:30:00.000Z``."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    if utc.year < 1000:  # strftime writes such a year unpadded; isoformat pads it
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.isoformat(timespec="milliseconds")[:-6] + "Z"


def parse_instant(text: str) -> datetime:
    """Read an ISO-8601 instant (``Z`` or an offset) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"instant without a time zone: {text!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"instant outside the calendar: {text!r}") from None


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One line of an order."""

    name: str
    quantity: int
    unit_price: float

    def to_wire(self) -> dict[str, Any]:
        """The item as it travels in JSON."""
        return {"name": self.name, "quantity": self.quantity, "unitPrice": self.unit_price}


@dataclass(frozen=True, slots=True)
class AssignmentRequested:
    """Order Service → Driver Assignment Service: find a driver for this order."""

    event_id: str
    occurred_at: datetime
    order_id: str
    restaurant: Point
    customer: Point
    preparation_time: float
    radius_km: float
    items: tuple[dict[str, Any], ...]
    total_amount: float
    special_instructions: str

    @property
    def geo_key(self) -> str:
        """The geo key of the restaurant."""
        return geo_key(self.restaurant.latitude, self.restaurant.longitude)

    def to_wire(self) -> dict[str, Any]:
        """The design's Assignment Request Message, field for field."""
        return {
            "eventId": self.event_id,
            "eventType": "AssignmentRequested",
            "occurredAt": format_instant(self.occurred_at),
            "orderId": self.order_id,
            "geoKey": self.geo_key,
            "restaurantLatitude": self.restaurant.latitude,
            "restaurantLongitude": self.restaurant.longitude,
            "customerLatitude": self.customer.latitude,
            "customerLongitude": self.customer.longitude,
            "preparationTime": self.preparation_time,
            "radius": self.radius_km,
            "items": list(self.items),
            "totalAmount": self.total_amount,
            "specialInstructions": self.special_instructions,
        }

    def job(self) -> Job:
        """What the ranking needs of this request."""
        return Job(
            self.order_id, self.restaurant, self.customer, self.preparation_time, self.radius_km
        )


@dataclass(frozen=True, slots=True)
class DriverAssigned:
    """Driver Assignment Service → Order Service: the order has a driver."""

    order_id: str
    driver_id: str
    eta: int
    assigned_at: datetime

    def to_wire(self) -> dict[str, Any]:
        """The design's Assignment Success Response."""
        return {
            "orderId": self.order_id,
            "driverId": self.driver_id,
            "eta": self.eta,
            "assignedAt": format_instant(self.assigned_at),
            "status": "assigned",
        }


@dataclass(frozen=True, slots=True)
class AssignmentFailed:
    """Driver Assignment Service → Order Service: no driver, and why."""

    order_id: str
    error: str
    failed_at: datetime

    def to_wire(self) -> dict[str, Any]:
        """The design's Assignment Failure Response."""
        return {
            "orderId": self.order_id,
            "error": self.error,
            "failedAt": format_instant(self.failed_at),
            "status": "failed",
        }


AssignmentResponse = DriverAssigned | AssignmentFailed


def parse_assignment_requested(payload: object) -> AssignmentRequested:
    """Read an Assignment Request Message; raise :class:`InvalidMessageError` with the reason."""
    if not isinstance(payload, Mapping):
        raise InvalidMessageError("message is not a JSON object")
    order_id = _id(payload, "orderId")
    try:
        # Redis GEO can neither search around a restaurant nor free a driver at a door
        # beyond its latitudes: such a request cannot be served.
        restaurant = _point(payload, "restaurantLatitude", "restaurantLongitude")
        customer = _point(payload, "customerLatitude", "customerLongitude")
        if not all(searchable_latitude(p.latitude) for p in (restaurant, customer)):
            raise InvalidMessageError(INVALID_COORDINATES)
        items = payload.get("items", [])
        if not isinstance(items, list):
            raise InvalidMessageError("items must be a list")
        return AssignmentRequested(
            event_id=_optional_text(payload, "eventId"),
            occurred_at=_optional_instant(payload, "occurredAt"),
            order_id=order_id,
            restaurant=restaurant,
            customer=customer,
            preparation_time=_number(payload, "preparationTime", minimum=0.0),
            radius_km=_number(
                payload, "radius", minimum=0.0, maximum=MAX_RADIUS_KM, default=DEFAULT_RADIUS_KM
            ),
            items=tuple(items),
            total_amount=_number(payload, "totalAmount", minimum=0.0, default=0.0),
            special_instructions=str(payload.get("specialInstructions") or ""),
        )
    except InvalidMessageError as error:
        raise InvalidMessageError(error.reason, order_id) from None


def parse_assignment_response(payload: object) -> AssignmentResponse:
    """Read a success or failure response; raise :class:`InvalidMessageError` with the reason."""
    if not isinstance(payload, Mapping):
        raise InvalidMessageError("message is not a JSON object")
    order_id = _id(payload, "orderId")
    status = payload.get("status")
    if status == "failed":
        try:
            error = _text(payload, "error", max_length=MAX_ERROR_LENGTH)
            return AssignmentFailed(order_id, error, _instant(payload, "failedAt"))
        except InvalidMessageError as invalid:
            raise InvalidMessageError(invalid.reason, order_id) from None
    if status != "assigned":
        reason = f"status must be 'assigned' or 'failed', got {status!r}"
        raise InvalidMessageError(reason, order_id)
    driver_id = wire_text(payload.get("driverId"))
    try:
        eta = _number(payload, "eta", minimum=0.0, maximum=MAX_ETA_MINUTES)
        assigned_at = _instant(payload, "assignedAt")
        return DriverAssigned(order_id, _id(payload, "driverId"), math.ceil(eta), assigned_at)
    except InvalidMessageError as invalid:
        raise InvalidMessageError(invalid.reason, order_id, driver_id=driver_id) from None


def is_id(value: object) -> TypeGuard[str]:
    """True for an id of :data:`ID_PATTERN`."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def wire_text(value: object, *, max_length: int = MAX_ID_LENGTH) -> str | None:
    """``value`` if it is text every store and header can hold, else None.

    That is a non-empty string of at most ``max_length`` characters, without NUL
    (PostgreSQL text refuses it) and without lone surrogates (JSON's ``"\\ud800"``
    decodes to one, and it cannot be encoded as UTF-8 for a Kafka key or header).
    """
    if not isinstance(value, str) or not value or len(value) > max_length:
        return None
    return None if text_problem(value) else value


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored or sent as UTF-8, or None when it can.

    PostgreSQL text refuses the NUL character; a lone surrogate (which JSON's
    ``"\\ud800"`` decodes to) has no UTF-8 encoding for a column, a Kafka key or header.
    """
    if "\x00" in text:
        return "contains the NUL character"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "contains a lone surrogate"
    return None


def _id(payload: Mapping[str, Any], field: str) -> str:
    value = payload.get(field)
    if is_id(value):
        return value
    problem = "Missing field" if value is None or value == "" else "Invalid field"
    raise InvalidMessageError(f"{problem}: {field} must be {ID_RULE}")


def _text(payload: Mapping[str, Any], field: str, *, max_length: int) -> str:
    value = payload.get(field)
    text = wire_text(value, max_length=max_length)
    if text is None:
        problem = "Missing field" if value is None or value == "" else "Invalid field"
        raise InvalidMessageError(
            f"{problem}: {field} must be a non-empty string of at most {max_length} characters"
            " without NUL or lone surrogates"
        )
    return text


def _optional_text(payload: Mapping[str, Any], field: str) -> str:
    """The field's text, or "" when it is absent or not :func:`wire_text`."""
    return wire_text(payload.get(field)) or ""


def _number(
    payload: Mapping[str, Any],
    field: str,
    *,
    minimum: float,
    maximum: float = math.inf,
    default: float | None = None,
) -> float:
    value = payload.get(field, default)
    if value is None:
        raise InvalidMessageError(f"Missing field: {field}")
    number = _finite(value)
    if number is None:
        raise InvalidMessageError(f"Invalid field: {field} must be a number")
    if number < minimum:
        raise InvalidMessageError(f"Invalid field: {field} must be at least {minimum:g}")
    if number > maximum:
        raise InvalidMessageError(f"Invalid field: {field} must be at most {maximum:g}")
    return number


def _point(payload: Mapping[str, Any], lat_field: str, lon_field: str) -> Point:
    lat, lon = _finite(payload.get(lat_field)), _finite(payload.get(lon_field))
    if lat is None or lon is None or not valid_coordinates(lat, lon):
        raise InvalidMessageError(INVALID_COORDINATES)
    return Point(lat, lon)


def _finite(value: object) -> float | None:
    """The value as a finite float, or None for non-numbers, booleans, inf, NaN and huge ints."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _instant(payload: Mapping[str, Any], field: str) -> datetime:
    value = payload.get(field)
    try:
        return parse_instant(value) if isinstance(value, str) else _bad_instant(field)
    except ValueError:
        return _bad_instant(field)


def _optional_instant(payload: Mapping[str, Any], field: str) -> datetime:
    if field not in payload:
        return UNKNOWN_INSTANT
    return _instant(payload, field)


def _bad_instant(field: str) -> datetime:
    raise InvalidMessageError(f"Invalid field: {field} must be an ISO-8601 instant")
