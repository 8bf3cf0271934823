"""Ranking the drivers near a restaurant, and why nobody could be assigned."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.geo import Point, haversine_km
from swifteats.domain.ranking import Job, no_candidate_reason, rank_drivers
from swifteats.domain.scoring import ScoringWeights, priority_score

RESTAURANT = Point(0.0, 0.0)
KM_PER_DEGREE = haversine_km(Point(0, 0), Point(1, 0))
ETA = ConstantSpeedEta()
WEIGHTS = ScoringWeights()


def at_km(km_east: float, km_north: float = 0.0) -> Point:
    """A point roughly ``km_east``/``km_north`` from the restaurant at the equator."""
    return Point(km_north / KM_PER_DEGREE, km_east / KM_PER_DEGREE)


def job(preparation_time: float = 15.0, customer: Point | None = None) -> Job:
    return Job("order_1", RESTAURANT, customer or at_km(5.0), preparation_time, 5.0)


def driver(driver_id: str, location: Point, status: str = "available") -> DriverRecord:
    return DriverRecord(driver_id, location, DriverStatus(status))


def test_only_available_drivers_are_ranked() -> None:
    drivers = [
        driver("busy", at_km(0.1), "busy"),
        driver("offline", at_km(0.2), "offline"),
        driver("free", at_km(3.0)),
    ]
    ranked = rank_drivers(job(), drivers, WEIGHTS, ETA)
    assert [r.driver_id for r in ranked] == ["free"]


def test_best_score_first() -> None:
    drivers = [driver("far", at_km(4.0)), driver("near", at_km(0.5)), driver("mid", at_km(2.0))]
    ranked = rank_drivers(job(), drivers, WEIGHTS, ETA)
    assert [r.driver_id for r in ranked] == ["near", "mid", "far"]
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_slack_and_eta_inputs() -> None:
    # Driver 3 km away: 6 min to the restaurant; restaurant -> customer 5 km: 10 min.
    ranked = rank_drivers(job(preparation_time=15.0), [driver("d", at_km(-3.0))], WEIGHTS, ETA)
    (r,) = ranked
    assert r.eta_to_restaurant == 6
    assert r.eta_to_customer == 10
    assert r.total_eta == 16
    assert r.slack == 9.0
    assert r.distance_km == pytest.approx(3.0, rel=1e-6)
    expected = priority_score(9.0, r.distance_km, 16, WEIGHTS).score
    assert r.score == pytest.approx(expected)
    # 100 + min(90, 50) - 15 - 32
    assert r.score == pytest.approx(103.0, abs=1e-6)


def test_negative_slack_when_the_driver_cannot_make_it_in_time() -> None:
    (r,) = rank_drivers(job(preparation_time=2.0), [driver("d", at_km(4.0))], WEIGHTS, ETA)
    assert r.eta_to_restaurant == 8
    assert r.slack == -6.0
    assert r.terms.slack_term == -120.0


def test_ties_go_to_the_nearer_driver_then_the_lower_id() -> None:
    # Everybody floors at score 0 (very late): the order is by distance, then id.
    drivers = [
        driver("c", at_km(3.0)),
        driver("b", at_km(2.0)),
        driver("a", at_km(3.0)),
        driver("z", at_km(1.0)),
    ]
    ranked = rank_drivers(job(preparation_time=0.0, customer=at_km(40)), drivers, WEIGHTS, ETA)
    assert all(r.score == 0.0 for r in ranked)
    assert [r.driver_id for r in ranked] == ["z", "b", "a", "c"]


def test_equal_positions_are_ordered_by_id() -> None:
    spot = at_km(1.0)
    drivers = [driver(i, spot) for i in ("d3", "d1", "d2")]
    assert [r.driver_id for r in rank_drivers(job(), drivers, WEIGHTS, ETA)] == ["d1", "d2", "d3"]


def test_ranking_uses_the_given_weights() -> None:
    drivers = [driver("d", at_km(-3.0))]
    default = rank_drivers(job(), drivers, WEIGHTS, ETA)[0].score
    custom = rank_drivers(job(), drivers, ScoringWeights(base=0.0, floor=-1e9), ETA)[0].score
    assert default - custom == pytest.approx(100.0)


def test_no_candidates_gives_an_empty_ranking() -> None:
    assert rank_drivers(job(), [], WEIGHTS, ETA) == []


def test_no_candidate_reason_texts() -> None:
    assert no_candidate_reason(0) == "No available drivers in area"
    assert no_candidate_reason(1) == "All drivers busy"
    assert no_candidate_reason(7) == "All drivers busy"


statuses = st.sampled_from(list(DriverStatus))
offsets_km = st.floats(min_value=-5, max_value=5, allow_nan=False)
driver_lists = st.lists(st.tuples(offsets_km, offsets_km, statuses), max_size=15).map(
    lambda rows: [
        DriverRecord(f"d{i}", at_km(east, north), status)
        for i, (east, north, status) in enumerate(rows)
    ]
)


@given(driver_lists, st.floats(min_value=0, max_value=60))
def test_ranking_is_sorted_and_a_permutation_of_the_available(
    drivers: list[DriverRecord], preparation_time: float
) -> None:
    ranked = rank_drivers(job(preparation_time), drivers, WEIGHTS, ETA)
    available = sorted(d.driver_id for d in drivers if d.status is DriverStatus.AVAILABLE)
    assert sorted(r.driver_id for r in ranked) == available
    keys = [(-r.score, r.distance_km, r.driver_id) for r in ranked]
    assert keys == sorted(keys)
    for r in ranked:
        assert r.slack == preparation_time - r.eta_to_restaurant
        assert r.total_eta == r.eta_to_restaurant + r.eta_to_customer


weight_values = st.floats(min_value=0, max_value=50, allow_nan=False)
weight_sets = st.builds(
    ScoringWeights,
    slack_bonus_per_minute=weight_values,
    distance_penalty_per_km=weight_values,
    wait_penalty_per_minute=weight_values,
    supply_bonus_per_driver=weight_values,
    floor=st.floats(min_value=-100, max_value=100),
)


@given(driver_lists, st.floats(min_value=0, max_value=60), weight_sets)
def test_every_candidate_scores_exactly_what_priority_score_gives_its_inputs(
    drivers: list[DriverRecord], preparation_time: float, weights: ScoringWeights
) -> None:
    """The ranking scores all candidates at once; each one's score is bit for bit that of
    the design's one-driver score, whose terms the decision logs show."""
    for r in rank_drivers(job(preparation_time), drivers, weights, ETA):
        assert r.score == r.terms.score


def test_a_driver_whose_shift_ends_before_the_pickup_is_left_out() -> None:
    from datetime import UTC, datetime, timedelta

    from swifteats.domain.drivers import DriverRecord, DriverStatus
    from swifteats.domain.eta import ConstantSpeedEta
    from swifteats.domain.geo import Point
    from swifteats.domain.ranking import Job, rank_drivers
    from swifteats.domain.scoring import ScoringWeights

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    restaurant = Point(40.7128, -74.0060)
    job = Job("o1", restaurant, Point(40.7228, -74.0060), preparation_time=15, radius_km=5)
    leaving = DriverRecord(
        "leaving", restaurant, DriverStatus.AVAILABLE, None, now + timedelta(minutes=10)
    )
    staying = DriverRecord(
        "staying",
        Point(40.7200, -74.0060),
        DriverStatus.AVAILABLE,
        None,
        now + timedelta(minutes=17),
    )
    open_ended = DriverRecord("open", Point(40.7300, -74.0060), DriverStatus.AVAILABLE)
    ranked = rank_drivers(
        job,
        [leaving, staying, open_ended],
        ScoringWeights(),
        ConstantSpeedEta(),
        now=now,
        pickup_lead_minutes=2,
    )
    assert [r.driver_id for r in ranked] == ["staying", "open"]
    without_clock = rank_drivers(job, [leaving, staying], ScoringWeights(), ConstantSpeedEta())
    assert [r.driver_id for r in without_clock][0] == "leaving"
