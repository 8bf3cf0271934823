"""What-if scenarios checked against data nobody here made: the MDRP variants.

The published instances come in variants of one day: ``t75`` (travel × 0.75), ``p125``
(preparation × 1.25) and ``o50`` (half the orders and courier hours). Our transforms of
the ``t100``/``p100``/``o100`` day must reproduce what the publishers' own transforms
give, exactly where they are deterministic.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from replay.mdrp.instance import mdrp_root, read_instance
from replay.runner import RunRequest, load_input, run_replay, with_scenario
from replay.scenario import Scenario, parse_scenario, transform_input
from replay.sweep import plan_tasks
from replay.sweep_spec import SweepSpecError, spec_from_dict, spec_to_dict
from tests.replay.test_bundle_replay import write_instance

ROOT = mdrp_root()
needs_mdrp = pytest.mark.skipif(
    ROOT is None,
    reason="MDRP instances not found (../shared/data/mdrp or SWIFTEATS_MDRP_DIR): the scenario"
    " checks against the published variants need them",
)
DAYS = ("0o100t100s1p100", "3o100t100s2p100", "7o50t100s1p100", "8r50t100s2p100")


def _minutes(shifts: object) -> float:
    return sum(s.shift_end - s.shift_start for s in shifts)  # type: ignore[attr-defined]


@needs_mdrp
@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize(("travel", "prep"), [(0.75, 1.25), (0.75, 1.0), (1.0, 1.25)])
def test_travel_and_prep_reproduce_the_published_variant_exactly(
    day: str, travel: float, prep: float
) -> None:
    assert ROOT is not None
    variant = day.replace("t100", f"t{round(travel * 100)}").replace(
        "p100", f"p{round(prep * 100)}"
    )
    scenario = Scenario(travel=travel, prep=prep)

    ours = with_scenario(load_input(ROOT / day, None), scenario)
    theirs = load_input(ROOT / variant, None)

    assert ours.data.eta == theirs.data.eta
    assert ours.data.orders == theirs.data.orders
    assert ours.data.drivers == theirs.data.drivers
    assert ours.mdrp is not None and theirs.mdrp is not None
    assert replace(ours.mdrp, name=variant) == theirs.mdrp


@needs_mdrp
@pytest.mark.parametrize("day", ["0o100t100s1p100", "4o100t75s2p125", "8o100t100s1p100"])
def test_half_the_demand_and_hours_match_the_o50_variant(day: str) -> None:
    assert ROOT is not None
    published = read_instance(ROOT / day.replace("o100", "o50"))
    half = with_scenario(load_input(ROOT / day, None), parse_scenario("demand=0.5,drivers=0.5"))

    assert half.mdrp is not None
    assert len(half.data.orders) == len(half.mdrp.orders) == len(published.orders)
    ours = _minutes(half.data.drivers)
    theirs = sum(c.off_time - c.on_time for c in published.couriers.values())
    assert ours == sum(c.off_time - c.on_time for c in half.mdrp.couriers.values())
    # The publishers sampled shifts and cut them, a few minutes either way of the half.
    assert abs(ours - theirs) <= 0.001 * ours
    kept = {o.order_id: o for o in load_input(ROOT / day, None).data.orders}
    assert all(kept[o.order_id] == o for o in half.data.orders)


@needs_mdrp
def test_a_scenario_run_is_checked_against_its_own_instance(tmp_path: Path) -> None:
    assert ROOT is not None
    loaded = with_scenario(
        load_input(ROOT / "0o50t100s1p100", None),
        parse_scenario("drivers=1.2,demand=1.2,prep=1.25,travel=0.75,seed=3"),
    )
    summary = run_replay(loaded, RunRequest(policy="bundling", radius_km=50), tmp_path / "run")

    manifest = (tmp_path / "run" / "manifest.json").read_text()
    assert '"feasible": true' in manifest
    assert '"demand": 1.2' in manifest
    assert summary.orders == len(loaded.data.orders) == 302


def test_more_demand_copies_orders_with_new_ids_and_the_same_preparation(tmp_path: Path) -> None:
    day = _tiny_day(tmp_path)
    more = transform_input(day.data, parse_scenario("demand=2,seed=5"))

    assert len(more.orders) == 8
    ids = [o.order_id for o in more.orders]
    assert len(set(ids)) == 8 and sum("-x" in i for i in ids) == 4
    source = {o.order_id: o for o in day.data.orders}
    for copy in (o for o in more.orders if "-x" in o.order_id):
        original = source[copy.order_id.split("-x")[0]]
        assert copy.ready_at - copy.placed_at == original.ready_at - original.placed_at
        assert copy.customer == original.customer
    assert more.orders == transform_input(day.data, parse_scenario("demand=2,seed=5")).orders
    assert more.orders != transform_input(day.data, parse_scenario("demand=2,seed=6")).orders


def test_courier_hours_follow_the_factor_to_the_minute(tmp_path: Path) -> None:
    day = _tiny_day(tmp_path)
    total = _minutes(day.data.drivers)

    for factor in (0.5, 0.9, 1.0, 1.7):
        shifts = transform_input(day.data, Scenario(drivers=factor)).drivers
        assert _minutes(shifts) == round(total * factor)


def test_notice_places_orders_early_and_keeps_their_placement(tmp_path: Path) -> None:
    day = _tiny_day(tmp_path)

    early = transform_input(day.data, parse_scenario("notice=10")).orders
    clairvoyant = transform_input(day.data, parse_scenario("notice=inf")).orders

    assert [o.placed_at for o in early] == [o.placed_at for o in day.data.orders]
    assert [o.revealed_at for o in early] == [max(0.0, o.placed_at - 10) for o in early]
    assert {o.revealed_at for o in clairvoyant} == {0.0}


def test_a_notice_run_relaxes_only_the_placement_rule(tmp_path: Path) -> None:
    loaded = with_scenario(_tiny_day(tmp_path), parse_scenario("notice=inf"))

    run_replay(loaded, RunRequest(policy="bundling", radius_km=50), tmp_path / "run")

    manifest = (tmp_path / "run" / "manifest.json").read_text()
    assert '"relaxed_rules": [\n      "rule 2 (assigned after placement)"' in manifest
    assert '"feasible": true' in manifest


def test_a_sweep_carries_its_scenario_to_every_run() -> None:
    spec = spec_from_dict({"inputs": ["sample"], "scenario": "travel=0.75, prep=1.25"})

    assert spec.what_if == Scenario(travel=0.75, prep=1.25)
    assert spec_to_dict(spec)["scenario"] == "prep=1.25,travel=0.75"
    assert {t.scenario for t in plan_tasks(spec)} == {Scenario(travel=0.75, prep=1.25)}
    with pytest.raises(SweepSpecError, match="--scenario"):
        spec_from_dict({"scenario": "speed=2"})


@pytest.mark.parametrize(
    "text",
    ["drivers=0", "travel=-1", "prep=abc", "speed=2", "notice=-3", "drivers"],
)
def test_a_bad_scenario_is_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="scenario"):
        parse_scenario(text)


def _tiny_day(tmp_path: Path) -> object:
    folder = write_instance(
        tmp_path / "tiny",
        [
            "o1\t1600\t0\t20\tr1\t30\n",
            "o2\t3200\t0\t25\tr1\t33\n",
            "o3\t0\t4800\t40\tr1\t55\n",
            "o4\t0\t11200\t60\tr2\t70\n",
        ],
        ["c1\t-1600\t0\t0\t120\n", "c2\t0\t8000\t10\t95\n"],
    )
    return load_input(folder, None)
