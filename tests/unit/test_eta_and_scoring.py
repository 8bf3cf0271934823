"""The travel-time model and the design's ``calculatePriorityScore``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.geo import Point, haversine_km
from swifteats.domain.scoring import ScoringWeights, priority_score, priority_scores

ORIGIN = Point(0.0, 0.0)
KM_PER_DEGREE = haversine_km(Point(0, 0), Point(1, 0))


def east_of_origin(km: float) -> Point:
    """A point ``km`` kilometres along the equator from the origin."""
    return Point(0.0, km / KM_PER_DEGREE)


@pytest.mark.parametrize(
    ("km", "minutes"),
    [(10.0, 20), (0.1, 5), (2.6, 6), (0.0, 5), (2.5, 5), (15.0, 30), (30.0, 60), (10.05, 21)],
)
def test_eta_at_30_kmh_rounded_up_at_least_5(km: float, minutes: int) -> None:
    assert ConstantSpeedEta().travel_minutes(ORIGIN, east_of_origin(km)) == minutes


def test_eta_speed_and_floor_are_configurable() -> None:
    assert ConstantSpeedEta(speed_kmh=60.0).travel_minutes(ORIGIN, east_of_origin(10.0)) == 10
    assert ConstantSpeedEta(min_minutes=0).travel_minutes(ORIGIN, ORIGIN) == 0
    assert ConstantSpeedEta(min_minutes=12).travel_minutes(ORIGIN, east_of_origin(2.0)) == 12


@given(st.floats(min_value=0, max_value=500), st.floats(min_value=0, max_value=500))
def test_eta_never_decreases_with_distance(a: float, b: float) -> None:
    eta = ConstantSpeedEta()
    near, far = sorted((a, b))
    assert eta.travel_minutes(ORIGIN, east_of_origin(near)) <= eta.travel_minutes(
        ORIGIN, east_of_origin(far)
    )


def design_score(slack: float, distance: float, total_eta: float) -> float:
    """The design document's calculatePriorityScore, transcribed."""
    score = 100.0
    if slack > 0:
        score += min(slack * 10, 50)
    else:
        score -= abs(slack) * 20
    score -= distance * 5
    score -= total_eta * 2
    return max(score, 0)


@pytest.mark.parametrize(
    ("slack", "distance", "total_eta", "expected"),
    [
        # 100 + 3*10 - 2*5 - 20*2
        (3, 2.0, 20, 80.0),
        # slack exactly 0: neither bonus nor penalty
        (0, 1.0, 10, 75.0),
        # large slack: bonus capped at 50
        (30, 0.0, 10, 130.0),
        # slack 5 reaches the cap exactly
        (5, 0.0, 0, 150.0),
        # negative slack: 100 - 4*20 - 1*5 - 10*2 = -5 -> floored at 0
        (-4, 1.0, 10, 0.0),
        # negative slack, still positive: 100 - 2*20 - 0.5*5 - 12*2
        (-2, 0.5, 12, 33.5),
        # fractional slack: 100 + 2.5 - 3*5 - 15*2
        (0.25, 3.0, 15, 57.5),
        # far away and slow: floored at 0
        (10, 40.0, 100, 0.0),
    ],
)
def test_priority_score_matches_hand_computed_design_cases(
    slack: float, distance: float, total_eta: float, expected: float
) -> None:
    terms = priority_score(slack, distance, total_eta, ScoringWeights())
    assert terms.score == pytest.approx(expected)


def test_priority_score_exposes_its_terms() -> None:
    terms = priority_score(3, 2.0, 20, ScoringWeights())
    assert (terms.slack_term, terms.distance_term, terms.eta_term) == (30.0, -10.0, -40.0)
    late = priority_score(-4, 1.0, 10, ScoringWeights())
    assert late.slack_term == -80.0


@given(
    st.floats(min_value=-100, max_value=100),
    st.floats(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=300),
)
def test_priority_score_equals_the_design_function(
    slack: float, distance: float, total_eta: int
) -> None:
    score = priority_score(slack, distance, total_eta, ScoringWeights()).score
    assert score == pytest.approx(design_score(slack, distance, total_eta), abs=1e-9)
    assert score >= 0


def test_weights_from_json_override_only_the_given_fields() -> None:
    weights = ScoringWeights.from_json(json.dumps({"base": 50, "distance_penalty_per_km": 1.5}))
    assert weights.base == 50.0
    assert weights.distance_penalty_per_km == 1.5
    assert weights.slack_bonus_cap == ScoringWeights().slack_bonus_cap
    assert weights.eta_penalty_per_minute == 2.0


@pytest.mark.parametrize("text", ["", "   ", "{}"])
def test_empty_weights_are_the_design_defaults(text: str) -> None:
    assert ScoringWeights.from_json(text) == ScoringWeights()


def test_design_defaults() -> None:
    w = ScoringWeights()
    assert (w.base, w.slack_bonus_per_minute, w.slack_bonus_cap) == (100, 10, 50)
    assert (w.slack_penalty_per_minute, w.distance_penalty_per_km, w.eta_penalty_per_minute) == (
        20,
        5,
        2,
    )
    assert w.floor == 0


def test_weights_from_json_reject_unknown_keys() -> None:
    with pytest.raises(ValueError, match="distance_weight"):
        ScoringWeights.from_json('{"base": 90, "distance_weight": 3}')


@pytest.mark.parametrize("text", ["[1, 2]", "3", '"base"', "null"])
def test_weights_from_json_reject_non_objects(text: str) -> None:
    with pytest.raises(ValueError, match="JSON object"):
        ScoringWeights.from_json(text)


def test_custom_weights_change_the_score() -> None:
    default = priority_score(3, 2.0, 20, ScoringWeights()).score
    custom_weights = ScoringWeights.from_json('{"distance_penalty_per_km": 10, "base": 200}')
    custom = priority_score(3, 2.0, 20, custom_weights).score
    assert default == 80.0
    # 200 + 30 - 2*10 - 40
    assert custom == 170.0


def test_custom_floor_applies() -> None:
    weights = ScoringWeights(floor=-1000.0)
    assert priority_score(-4, 1.0, 10, weights).score == pytest.approx(-5.0)


def test_a_wait_penalty_charges_only_the_minutes_spent_waiting_for_the_food() -> None:
    weights = ScoringWeights(wait_penalty_per_minute=3.0)
    assert priority_score(12, 1.0, 10, weights).wait_term == -36.0
    assert priority_score(-4, 1.0, 10, weights).wait_term == 0.0
    assert priority_score(12, 1.0, 10, ScoringWeights()).wait_term == 0.0


def test_with_a_wait_penalty_an_early_near_driver_can_lose_to_a_later_far_one() -> None:
    weights = ScoringWeights(wait_penalty_per_minute=8.0)
    near = priority_score(slack=20, distance_km=0.5, total_eta=15, weights=weights)
    far = priority_score(slack=6, distance_km=3.5, total_eta=29, weights=weights)
    assert far.score > near.score
    assert (
        priority_score(20, 0.5, 15, ScoringWeights()).score
        > priority_score(6, 3.5, 29, ScoringWeights()).score
    )


@settings(deadline=None)  # pure arithmetic: only a loaded machine makes an example slow
@given(
    slack=st.floats(-120, 120),
    distance=st.floats(0, 60),
    total_eta=st.floats(0, 240),
    near=st.integers(0, 20),
    wait=st.floats(0, 30),
    supply=st.floats(0, 30),
    idle=st.floats(0, 600),
    idle_bonus=st.floats(0, 5),
    idle_cap=st.floats(0, 300),
)
def test_the_matrix_score_is_the_one_drivers_score_before_the_floor(
    slack: float,
    distance: float,
    total_eta: float,
    near: int,
    wait: float,
    supply: float,
    idle: float,
    idle_bonus: float,
    idle_cap: float,
) -> None:
    weights = ScoringWeights(
        wait_penalty_per_minute=wait,
        supply_bonus_per_driver=supply,
        idle_bonus_per_minute=idle_bonus,
        idle_bonus_cap=idle_cap,
        floor=-1e9,
    )
    one = priority_score(slack, distance, total_eta, weights, near, idle).score
    many = priority_scores(
        np.array([[slack]]),
        np.array([[distance]]),
        np.array([[total_eta]]),
        weights,
        np.array([[near]]),
        np.array([[idle]]),
    )
    assert float(many[0, 0]) == pytest.approx(one, abs=1e-9)
