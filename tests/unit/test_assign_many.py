"""Deciding held requests together: one search for all, the decisions of one at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.domain.assignment import Assigner
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.events import AssignmentRequested, DriverAssigned
from swifteats.domain.geo import Point
from swifteats.domain.scoring import ScoringWeights
from tests.unit.test_ranking import at_km

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


class CountingIndex(InMemoryDriverIndex):
    """The memory index, counting searches."""

    def __init__(self) -> None:
        super().__init__()
        self.searches = 0

    def search(self, center: Point, radius_km: float) -> list[Any]:
        self.searches += 1
        return super().search(center, radius_km)

    def search_many(self, areas: Any) -> list[Any]:
        self.searches += 1
        return [super(CountingIndex, self).search(c, r) for c, r in areas]


def _request(order_id: str, km: float) -> AssignmentRequested:
    return AssignmentRequested(
        event_id=f"e-{order_id}",
        occurred_at=NOW,
        order_id=order_id,
        restaurant=at_km(km),
        customer=at_km(km + 1.0),
        preparation_time=10.0,
        radius_km=3.0,
        items=(),
        total_amount=10.0,
        special_instructions="",
    )


def _assigner() -> tuple[Assigner, CountingIndex]:
    drivers = CountingIndex()
    for i, km in enumerate((0.0, 0.3, 1.0, 2.5, 6.0)):
        drivers.register(f"d{i}", at_km(km), DriverStatus.AVAILABLE)
    drivers.register("off", at_km(0.1), DriverStatus.OFFLINE)
    assigner = Assigner(drivers, ScoringWeights(), ConstantSpeedEta(), lambda: NOW)
    return assigner, drivers


def _outcome(decision: Any) -> tuple[str, str | None, int]:
    response = decision.response
    driver = response.driver_id if isinstance(response, DriverAssigned) else None
    return response.order_id, driver, len(decision.candidates)


def test_requests_decided_together_get_the_drivers_they_get_one_by_one() -> None:
    requests = [_request(f"o{i}", km) for i, km in enumerate((0.0, 0.1, 0.2, 5.0, 0.0, 0.3))]
    alone, alone_index = _assigner()
    together, together_index = _assigner()

    one_by_one = [_outcome(alone.assign(r)) for r in requests]
    batch = [_outcome(d) for d in together.assign_many(requests)]

    assert batch == one_by_one
    assert [driver for _, driver, _ in batch] == ["d0", "d1", "d2", "d4", "d3", None]
    assert (alone_index.searches, together_index.searches) == (len(requests), 1)


def test_a_request_decided_again_together_keeps_its_driver_and_takes_no_other() -> None:
    assigner, _ = _assigner()
    first = assigner.assign(_request("o0", 0.0))

    again = list(assigner.assign_many([_request("o0", 0.0), _request("o1", 0.0)]))

    assert isinstance(first.response, DriverAssigned)
    assert [_outcome(d)[1] for d in again] == ["d0", "d1"]
    assert again[0].reused_claim
