"""The Driver Assignment Service's driver bodies: ``POST /drivers``, a location, and the shift
changes a decision carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from swifteats.adapters.memory_bus import InProcessBus
from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.api import build_api
from swifteats.services.assignment.core import AssignmentCore
from swifteats.services.assignment.schemas import DriverIn, DriverOut, Location
from swifteats.services.http import Check, HttpSecurity
from swifteats.settings import Settings
from tests.unit.test_order_schema import BAD_IDS, GOOD_IDS
from tests.unit.test_orders_api import call


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


@dataclass
class _Runtime:
    settings: Settings = field(default_factory=Settings)
    drivers: InMemoryDriverIndex = field(default_factory=InMemoryDriverIndex)
    metrics: ServiceMetrics = field(default_factory=lambda: ServiceMetrics("driver-assignment"))

    def __post_init__(self) -> None:
        self.core = AssignmentCore(
            self.settings, drivers=self.drivers, bus=InProcessBus(), metrics=self.metrics
        )
        self.clock = self.core.clock

    def health_checks(self) -> dict[str, Check]:
        return {}

    def stats(self) -> dict[str, Any]:
        return {}


def _assignment_app(settings: Settings | None = None) -> FastAPI:
    security = HttpSecurity.from_settings(Settings(), service="driver-assignment")
    return build_api(_Runtime(settings or Settings()), security)


def test_drivers_are_answered_and_documented_as_driver_models() -> None:
    app = _assignment_app()
    body = driver(driverId="d1", shiftEndsAt="2026-01-15T20:00:00+01:00")
    registered = call(app, "POST", "/drivers", json=body).json()
    near = {"latitude": body["latitude"], "longitude": body["longitude"]}
    nearby = call(app, "GET", "/drivers", params=near).json()
    unknown = call(app, "GET", "/drivers/ghost")

    assert registered["shiftEndsAt"] == "2026-01-15T19:00:00.000Z"
    assert DriverOut.model_validate(registered).model_dump(by_alias=True, mode="json") == registered
    assert nearby == [registered]
    assert unknown.status_code == 404
    paths = app.openapi()["paths"]
    one = paths["/drivers/{driver_id}"]["get"]["responses"]
    assert one["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/DriverOut")
    assert "404" in one
    assert {"404", "409"} <= set(paths["/drivers/{driver_id}/status"]["put"]["responses"])


def test_a_driver_is_available_since_the_instant_given_else_the_services_now() -> None:
    app = _assignment_app()
    given = driver(driverId="d1", availableSince="2026-01-15T20:00:00+01:00")
    before = datetime.now(UTC).replace(microsecond=0)

    registered = call(app, "POST", "/drivers", json=given).json()
    now = call(app, "POST", "/drivers", json=driver(driverId="d2")).json()
    call(app, "PUT", "/drivers/d1/status", json={"status": "offline"})
    again = call(app, "PUT", "/drivers/d1/status", json={"status": "available"}).json()

    assert registered["availableSince"] == "2026-01-15T19:00:00.000Z"
    for answer in (now, again):
        since = datetime.fromisoformat(answer["availableSince"])
        assert before <= since <= datetime.now(UTC)


def test_shift_changes_sent_with_a_decision_apply_in_turn_before_it() -> None:
    app = _assignment_app(Settings(decision_clock="external"))
    since = "2026-01-15T12:00:00.000Z"
    shifts = [
        {"on": driver(driverId="d1")},
        {"on": driver(driverId="d2", availableSince=since)},
        {"off": "d1"},
        {"off": "ghost"},
    ]

    decided = call(app, "POST", "/decisions", json={"at": since, "shifts": shifts}).json()

    assert [s["status"] for s in decided["shifts"]] == [201, 201, 200, 404]
    assert "ghost" in decided["shifts"][3]["detail"]
    assert call(app, "GET", "/drivers/d1").json()["status"] == "offline"
    assert call(app, "GET", "/drivers/d2").json()["availableSince"] == since
    both = {"on": driver(driverId="d3"), "off": "d2"}
    refused = call(app, "POST", "/decisions", json={"at": since, "shifts": [both]})
    assert refused.status_code == 422
    assert call(app, "GET", "/drivers/d2").json()["status"] == "available"
