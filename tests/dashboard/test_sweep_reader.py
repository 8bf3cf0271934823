"""``swifteats.analysis.sweeps``: what the dashboard's Sweeps tab reads."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from swifteats.analysis import (
    find_runs,
    find_sweeps,
    mark_pareto,
    outside_sweeps,
    searched_weights,
    sweep_results,
    sweep_summary,
)
from tests.dashboard.helpers import DESIGN, FAR


def test_sweeps_are_found_and_their_runs_set_apart(runs_root: Path) -> None:
    (sweep,) = find_sweeps(runs_root)
    assert sweep == runs_root / "sweeps" / "distance"
    runs = outside_sweeps(find_runs(runs_root), [sweep])
    assert sorted(run.name for run in runs) == sorted([DESIGN, FAR])


def test_a_sweeps_tables_name_what_it_searched(runs_root: Path) -> None:
    sweep = runs_root / "sweeps" / "distance"
    assert sweep_results(sweep).height == 2
    cells = sweep_summary(sweep)
    assert searched_weights(cells) == ["distance_penalty_per_km"]


def test_the_front_keeps_the_rows_no_other_beats_on_both_figures() -> None:
    cells = pl.DataFrame({"x": [1.0, 2.0, 3.0, 2.0, None], "y": [3.0, 1.0, 2.0, 1.0, 0.0]})
    marked = mark_pareto(cells, "x", "y")
    assert marked["on_front"].to_list() == [True, True, False, True, False]
    assert marked.drop("on_front").equals(cells)
