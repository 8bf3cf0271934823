"""Validation of the Driver Assignment Service's bodies: ``POST /drivers`` and a location."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from swifteats.services.assignment.api import DriverIn, Location
from tests.unit.test_order_schema import BAD_IDS, GOOD_IDS


def driver(**changes: Any) -> dict[str, Any]:
    return {"driverId": "d1", "latitude": 48.8566, "longitude": 2.3522} | changes


def error_locs(raw: dict[str, Any]) -> list[tuple[int | str, ...]]:
    with pytest.raises(ValidationError) as caught:
        DriverIn.model_validate(raw)
    return [tuple(error["loc"]) for error in caught.value.errors()]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"latitude": True}, "latitude"),
        ({"longitude": False}, "longitude"),
        ({"latitude": "48.8566"}, "latitude"),
        ({"longitude": "2"}, "longitude"),
        ({"shiftEndsAt": 1767225600}, "shiftEndsAt"),
        ({"shiftEndsAt": True}, "shiftEndsAt"),
    ],
    ids=repr,
)
def test_booleans_numbers_in_strings_and_numbers_for_instants_are_refused(
    changes: dict[str, Any], field: str
) -> None:
    assert (field,) in error_locs(driver(**changes))


def test_a_location_takes_integers_but_not_booleans() -> None:
    assert Location.model_validate({"latitude": 48, "longitude": 2}).latitude == 48.0
    with pytest.raises(ValidationError):
        Location.model_validate({"latitude": 48, "longitude": True})


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_driver_ids_outside_the_safe_alphabet_are_refused(bad: str) -> None:
    assert ("driverId",) in error_locs(driver(driverId=bad))


@pytest.mark.parametrize("good", GOOD_IDS)
def test_driver_ids_of_the_safe_alphabet_are_kept(good: str) -> None:
    assert DriverIn.model_validate(driver(driverId=good)).driver_id == good


@pytest.mark.parametrize(
    "instant",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-14:00",
        "1969-12-31T23:59:59Z",
        "2100-01-01T00:00:00.001Z",
    ],
)
def test_a_shift_end_outside_the_documented_range_is_refused(instant: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DriverIn.model_validate(driver(shiftEndsAt=instant))
    (error,) = caught.value.errors()
    assert error["loc"] == ("shiftEndsAt",)
    assert "1970-01-01T00:00:00Z" in error["msg"]
    assert "2100-01-01T00:00:00Z" in error["msg"]


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
        ("2100-01-01T01:00:00+01:00", datetime(2100, 1, 1, tzinfo=UTC)),
        ("2026-01-01T21:30:00Z", datetime(2026, 1, 1, 21, 30, tzinfo=UTC)),
    ],
)
def test_a_shift_end_inside_the_range_is_kept(instant: str, expected: datetime) -> None:
    assert DriverIn.model_validate(driver(shiftEndsAt=instant)).shift_ends_at == expected


@pytest.mark.parametrize("latitude", [85.06, -86, 89.0])
def test_latitudes_redis_cannot_index_are_refused_saying_why(latitude: float) -> None:
    with pytest.raises(ValidationError) as caught:
        Location.model_validate({"latitude": latitude, "longitude": 0})
    (error,) = caught.value.errors()
    assert "85.05112878" in error["msg"]
    assert "Redis" in error["msg"]
