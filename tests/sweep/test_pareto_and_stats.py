"""The Pareto front, the t-interval and the KPIs read from a run's tables."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict

import polars as pl
import pytest

from replay.sweep_results import KPIS, pickup_means, summarise_cells, t975, utilisation
from swifteats.analysis.pareto import pareto_front
from swifteats.domain.scoring import ScoringWeights


def test_the_front_keeps_the_undominated_rows_sorted_by_x() -> None:
    table = pl.DataFrame(
        {
            "cell": ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
            "ctd": [30.0, 25.0, 28.0, 25.0, 35.0, 20.0, 20.0, None, 27.0],
            "km": [1.0, 2.0, 2.5, 3.0, 0.9, 4.0, 4.0, 0.1, 2.0],
        }
    )
    front = pareto_front(table, "ctd", "km")
    # b beats c, d (same x, larger y) and i (same y, larger x); e has the lowest km;
    # f and g are the same point: both kept; h has no x.
    assert front["cell"].to_list() == ["f", "g", "b", "a", "e"]


def test_the_front_of_one_row_and_of_none() -> None:
    one = pl.DataFrame({"x": [1.0], "y": [2.0]})
    assert pareto_front(one, "x", "y").height == 1
    assert pareto_front(one.clear(), "x", "y").height == 0


def test_nan_rows_are_left_out_and_unknown_columns_named() -> None:
    table = pl.DataFrame({"x": [1.0, float("nan")], "y": [2.0, 0.0]})
    assert pareto_front(table, "x", "y")["x"].to_list() == [1.0]
    with pytest.raises(ValueError, match="no column"):
        pareto_front(table, "x", "z")


@pytest.mark.parametrize(
    ("df", "t"), [(1, 12.7062), (2, 4.3027), (30, 2.0423), (45, 2.0141), (500, 1.9647)]
)
def test_t_quantiles_are_students(df: int, t: float) -> None:
    """Published table values; 45 and 500 lie between the rows a hand-typed table holds."""
    assert t975(df) == pytest.approx(t, abs=5e-5)


def _results(cell_values: dict[str, list[float]]) -> pl.DataFrame:
    """A results table: one row per (cell, value of click_to_door_mean)."""
    rows = [
        {
            "cell_id": cell,
            "input": "in",
            "policy": "greedy-score",
            **asdict(ScoringWeights()),
            "deterministic": False,
            **dict.fromkeys(KPIS, 1.0),
            "click_to_door_mean": value,
            "mdrp_feasible": None,
        }
        for cell, values in cell_values.items()
        for value in values
    ]
    return pl.DataFrame(rows)


def test_cells_get_the_mean_and_a_students_t_interval() -> None:
    summary = summarise_cells(_results({"a": [20.0, 22.0, 27.0], "b": [30.0]}))
    a, b = summary.sort("cell_id").to_dicts()
    assert (a["n_seeds"], b["n_seeds"]) == (3, 1)
    assert a["click_to_door_mean"] == pytest.approx(23.0)
    expected = 4.302653 * statistics.stdev([20, 22, 27]) / math.sqrt(3)
    assert a["click_to_door_mean_ci95"] == pytest.approx(expected)
    assert a["utilisation_ci95"] == 0.0
    assert b["click_to_door_mean_ci95"] is None


def test_pickup_distance_and_minutes_are_the_chosen_candidates() -> None:
    decisions = pl.DataFrame(
        {
            "chosen": [True, False, True, False],
            "distance_km": [1.0, 0.5, 3.0, 9.0],
            "eta_to_restaurant": [4.0, 2.0, 10.0, 30.0],
        }
    )
    assert pickup_means(decisions) == {"pickup_km_mean": 2.0, "pickup_minutes_mean": 7.0}
    assert pickup_means(pl.DataFrame()) == {"pickup_km_mean": None, "pickup_minutes_mean": None}


def test_utilisation_is_the_busy_share_of_logged_time() -> None:
    timeline = pl.DataFrame(
        {
            "time": [0.0, 10.0, 15.0, 20.0, 40.0, 0.0, 40.0],
            "driver_id": ["a", "a", "a", "a", "a", "b", "b"],
            "state": ["available", "to_restaurant", "moving", "available", "offline"]
            + ["available", "offline"],
        }
    )
    assert utilisation(timeline) == pytest.approx(10 / 80)
