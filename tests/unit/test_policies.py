"""Assignment policies: chosen by name, same candidates, different order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.domain.assignment import Assigner
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.events import AssignmentRequested, DriverAssigned
from swifteats.domain.geo import Point
from swifteats.domain.policies.registry import REGISTRY, ordering
from swifteats.domain.scoring import ScoringWeights
from swifteats.settings import Settings
from tests.unit.test_ranking import at_km

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _request() -> AssignmentRequested:
    return AssignmentRequested(
        event_id="e-1",
        occurred_at=NOW,
        order_id="o-1",
        restaurant=Point(0.0, 0.0),
        customer=at_km(0.5),
        preparation_time=20.0,
        radius_km=10.0,
        items=(),
        total_amount=10.0,
        special_instructions="",
    )


class RiverEta:
    """Road travel where the nearer driver is across a river: 30 minutes for anyone west of
    the restaurant, 5 for anyone east of it."""

    def travel_minutes(self, origin: Point, destination: Point) -> int:
        return 30 if min(origin.longitude, destination.longitude) < 0 else 5


def _assigner(policy: str) -> Assigner:
    """Two drivers: ``near`` 0.2 km west (across the river), ``far`` 3 km east."""
    drivers = InMemoryDriverIndex()
    drivers.register("near", at_km(-0.2), DriverStatus.AVAILABLE)
    drivers.register("far", at_km(3.0), DriverStatus.AVAILABLE)
    return Assigner(drivers, ScoringWeights(), RiverEta(), lambda: NOW, policy=ordering(policy))


def test_nearest_takes_the_nearest_driver_where_the_score_prefers_another() -> None:
    greedy = _assigner("greedy-score").assign(_request())
    nearest = _assigner("nearest").assign(_request())
    assert isinstance(greedy.response, DriverAssigned)
    assert isinstance(nearest.response, DriverAssigned)
    assert greedy.response.driver_id == "far"
    assert nearest.response.driver_id == "near"
    assert {c.driver_id for c in nearest.candidates} == {"near", "far"}


def test_an_unknown_policy_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="greedy-score, nearest, batch-matching"):
        ordering("cheapest")
    orderings = {name for name, spec in REGISTRY.items() if spec.ordering is not None}
    assert orderings == {"greedy-score", "nearest"}  # the Assigner's orderings


def test_the_services_refuse_an_unknown_policy_at_start() -> None:
    assert Settings(policy="nearest").policy == "nearest"
    with pytest.raises(ValidationError, match="unknown policy 'cheapest'"):
        Settings(policy="cheapest")


def test_the_services_take_a_windowed_policy_and_a_positive_window() -> None:
    settings = Settings(policy="bundling", policy_window_s=5)
    assert (settings.policy, settings.policy_window_s) == ("bundling", 5)
    with pytest.raises(ValidationError, match="policy_window_s"):
        Settings(policy="bundling", policy_window_s=0)
