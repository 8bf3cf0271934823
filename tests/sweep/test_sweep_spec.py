"""The sweep spec: parsing the command line's forms, checking a spec, expanding its cells."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from replay.sweep_spec import (
    SweepSpec,
    SweepSpecError,
    expand_cells,
    load_spec_file,
    parse_grid,
    parse_input,
    parse_ranges,
    spec_from_dict,
    spec_from_options,
    spec_to_dict,
)
from swifteats.domain.scoring import ScoringWeights


def _spec(
    *,
    inputs: Sequence[str] = (),
    policies: Sequence[str] = (),
    grid: Sequence[str] = (),
    ranges: Sequence[str] = (),
    random: int | None = None,
    seed: int = 7,
    seeds: int = 3,
    radius_km: float | None = None,
) -> SweepSpec:
    return spec_from_options(
        inputs=list(inputs),
        policies=list(policies),
        grid=list(grid),
        ranges=list(ranges),
        random=random,
        seed=seed,
        seeds=seeds,
        radius_km=radius_km,
    )


def test_grid_options_become_fields_with_values() -> None:
    grid = parse_grid(["distance_penalty_per_km=2,5,8", "slack_bonus_per_minute = 5, 10"])
    assert grid == {"distance_penalty_per_km": [2.0, 5.0, 8.0], "slack_bonus_per_minute": [5, 10]}


def test_range_options_become_bounds() -> None:
    assert parse_ranges(["eta_penalty_per_minute=0:4.5"]) == {"eta_penalty_per_minute": [0, 4.5]}


@pytest.mark.parametrize(
    ("parse", "texts", "message"),
    [
        (parse_grid, ["distance_penalty_per_km"], "--grid 'distance_penalty_per_km': expected"),
        (parse_grid, ["distance_penalty_per_km="], "expected field=values"),
        (parse_grid, ["distance_penalty_per_km=2,x"], "'x' is not a number"),
        (parse_grid, ["base=2", "base=3"], "--grid 'base=3': base is given twice"),
        (parse_ranges, ["eta_penalty_per_minute=0-4"], "--range .*expected field=low:high"),
        (parse_ranges, ["eta_penalty_per_minute=0:4:5"], "expected field=low:high"),
        (parse_ranges, ["eta_penalty_per_minute=a:4"], "--range .*'a' is not a number"),
    ],
)
def test_malformed_options_say_which_option_and_what(
    parse: Callable[[list[str]], object], texts: list[str], message: str
) -> None:
    with pytest.raises(SweepSpecError, match=message):
        parse(texts)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"grid": ["speed=1,2"]},
            "unknown weight or parameter 'speed'; known: base, slack_bonus_per_minute",
        ),
        ({"ranges": ["eta_penalty_per_minute=0:4"]}, "--range needs --random N"),
        ({"random": 5}, "--random N needs --range"),
        ({"random": 0, "ranges": ["base=1:2"]}, "give at least one cell"),
        ({"random": 3, "ranges": ["base=2:1"]}, "low is above high"),
        (
            {"random": 3, "grid": ["base=1,2"], "ranges": ["base=1:2"]},
            "in both --grid and --range",
        ),
        ({"seeds": 0}, "--seeds 0"),
        ({"inputs": ["sample", "sample"]}, "two inputs are named sample"),
        ({"inputs": ["generated:orders=x"]}, "expected orders=N"),
        ({"inputs": ["/no/such/folder"]}, "does not exist"),
    ],
)
def test_specs_that_cannot_run_are_refused_clearly(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SweepSpecError, match=message):
        _spec(**overrides)  # type: ignore[arg-type]


def test_inputs_of_every_kind(tmp_path: Path) -> None:
    orders, drivers = tmp_path / "day_orders.csv", tmp_path / "day_drivers.csv"
    orders.touch()
    drivers.touch()
    log = parse_input(f"{orders},{drivers}")
    assert (log.kind, log.name, log.deterministic) == ("log", "day_orders", True)
    assert parse_input(str(tmp_path)).kind == "mdrp"
    generated = parse_input("generated:drivers=9")
    assert (generated.name, generated.size, generated.deterministic) == (
        "generated-o500-d9",
        (500, 9),
        False,
    )
    assert parse_input(generated.text) == generated
    with pytest.raises(SweepSpecError, match="needs its driver schedule"):
        parse_input(str(orders))


def test_a_grid_crosses_every_value_with_every_policy() -> None:
    spec = _spec(
        grid=["distance_penalty_per_km=2,8", "slack_bonus_per_minute=5,10"],
        policies=["greedy-score", "nearest"],
    )
    cells = expand_cells(spec)
    assert len(cells) == 8 == len({c.cell_id for c in cells})
    assert {
        (c.weights.distance_penalty_per_km, c.weights.slack_bonus_per_minute) for c in cells
    } == {
        (2, 5),
        (2, 10),
        (8, 5),
        (8, 10),
    }
    assert cells[0].weights.eta_penalty_per_minute == ScoringWeights().eta_penalty_per_minute


def test_a_random_search_draws_the_same_cells_for_the_same_seed() -> None:
    def cells(seed: int) -> list[ScoringWeights]:
        spec = _spec(
            random=6, seed=seed, ranges=["eta_penalty_per_minute=0:4"], grid=["base=90,110"]
        )
        return [c.weights for c in expand_cells(spec)]

    drawn = cells(1)
    assert len(drawn) == 6 and drawn == cells(1) != cells(2)
    assert all(0 <= w.eta_penalty_per_minute <= 4 and w.base in (90, 110) for w in drawn)


def test_no_grid_is_one_cell_of_default_weights_per_policy() -> None:
    spec = _spec(policies=["greedy-score", "nearest"])
    assert [(c.policy, c.weights) for c in expand_cells(spec)] == [
        ("greedy-score", ScoringWeights()),
        ("nearest", ScoringWeights()),
    ]


def test_deterministic_inputs_run_one_seed_random_ones_several() -> None:
    spec = _spec(inputs=["sample", "generated"], seeds=4, seed=3)
    sample, generated = spec.inputs
    assert list(spec.seeds_for(sample)) == [3]
    assert list(spec.seeds_for(generated)) == [3, 4, 5, 6]


def test_a_spec_survives_its_dict_form_and_a_toml_file(tmp_path: Path) -> None:
    spec = _spec(
        inputs=["generated:orders=50,drivers=5"],
        random=4,
        ranges=["eta_penalty_per_minute=0:4"],
        radius_km=3,
    )
    assert spec_from_dict(spec_to_dict(spec)) == spec
    toml = tmp_path / "spec.toml"
    toml.write_text(
        'inputs = ["generated:orders=50,drivers=5"]\nrandom = 4\nradius_km = 3\n'
        "[ranges]\neta_penalty_per_minute = [0, 4]\n"
    )
    assert load_spec_file(toml) == spec


def test_a_spec_file_with_unknown_keys_or_bad_values_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text('{"grids": {}}')
    with pytest.raises(SweepSpecError, match="unknown spec key"):
        load_spec_file(path)
    path.write_text('{"grid": {"base": ["high"]}}')
    with pytest.raises(SweepSpecError, match="bad spec value"):
        load_spec_file(path)
