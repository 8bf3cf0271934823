"""``swifteats tune``: days split by seed, the search space, the objective, resumable studies
and confidence intervals across days."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from replay.mdrp.instance import read_instance
from replay.tune import TuneOptions, days, run_tuning, search_space
from replay.tune_days import click_to_door_all, instance_seed
from replay.tune_report import Interval
from swifteats.cli.tune import parse_seeds, parse_space
from swifteats.domain.policies.registry import ParamValue, policy_spec
from tests.replay.test_bundle_replay import write_instance

ORDERS = [
    "o1\t1600\t0\t20\tr1\t30\n",
    "o2\t3200\t0\t25\tr1\t33\n",
    "o3\t0\t4800\t40\tr1\t55\n",
    "o4\t0\t11200\t60\tr2\t70\n",
]


def _root(tmp_path: Path, names: list[str]) -> Path:
    root = tmp_path / "mdrp"
    for i, name in enumerate(names):
        couriers = ["c1\t-1600\t0\t0\t120\n", f"c2\t0\t8000\t{10 + i}\t95\n"]
        write_instance(root / name, ORDERS[: 2 + i % 3], couriers)
    return root


def test_the_seed_is_the_leading_number_of_an_instance_name() -> None:
    assert [instance_seed(n) for n in ("0o100t100s1p100", "3o50t75s2p125", "12r50t100s1p125")] == [
        0,
        3,
        12,
    ]
    assert instance_seed("sample") is None


def test_days_are_split_by_seed_and_glob(tmp_path: Path) -> None:
    root = _root(tmp_path, ["0o50t100s1p100", "4r50t75s2p125", "5o50t100s1p100", "7o50t100s1p100"])

    assert [p.name for p in days(root, ["*"], (0, 1, 2, 3, 4))] == [
        "0o50t100s1p100",
        "4r50t75s2p125",
    ]
    assert [p.name for p in days(root, ["*o50*"], (6, 7, 8))] == ["7o50t100s1p100"]


def test_the_space_spans_each_number_around_its_default_and_takes_overrides() -> None:
    ranges, fixed = search_space("rolling-horizon", {"reward": (10.0, 90.0), "max_extra": 25.0})

    assert ranges["courier_weight"] == (0.125, 0.5)
    assert ranges["max_bundle"] == (2, 4)
    assert ranges["reward"] == (10.0, 90.0)
    assert "window_minutes" not in ranges and "postpone" not in ranges
    assert fixed == {"max_extra": 25.0}
    with pytest.raises(ValueError, match="no parameter 'speed'"):
        search_space("bundling", {"speed": 1.0})
    with pytest.raises(ValueError, match="low end"):
        search_space("bundling", {"reward": (5.0, 1.0)})


def test_an_undelivered_order_counts_to_the_end_of_the_last_shift(tmp_path: Path) -> None:
    instance = read_instance(_root(tmp_path, ["0o50t100s1p100"]) / "0o50t100s1p100")

    # o1 placed at 20, delivered at 50; o2 placed at 25, never delivered (last shift ends 120).
    assert click_to_door_all(instance, {"o1": 50}) == (30 + 95) / 2


def test_the_interval_is_students_t_across_days() -> None:
    interval = Interval.of([1.0, 2.0, 3.0])

    assert interval.mean == 2.0
    assert interval.half_width == pytest.approx(4.302653 / 3**0.5, rel=1e-6)
    assert Interval.of([5.0]).half_width is None


def test_a_tuning_reports_both_splits_and_continues_its_study(tmp_path: Path) -> None:
    root = _root(tmp_path, ["0o50t100s1p100", "1o50t100s1p100", "6o50t100s1p100"])
    options = TuneOptions(
        policy="bundling",
        out=tmp_path / "tune",
        root=root,
        trials=3,
        space={"reward": (30.0, 90.0), "courier_weight": (0.1, 0.6), **_fixed()},
        test_seeds=(6,),
    )

    report = run_tuning(options, echo=lambda _: None)

    saved = json.loads((options.out / "tuning.json").read_text())
    assert saved["trials"] == 3 and saved["train_seeds"] == [0, 1, 2, 3, 4]
    assert [(f["params"], f["split"], f["days"]) for f in saved["figures"]] == [
        ("defaults", "train", 2),
        ("tuned", "train", 2),
        ("defaults", "test", 1),
        ("tuned", "test", 1),
    ]
    train = {f.params: f for f in report.figures if f.split == "train"}
    assert (
        train["tuned"].intervals["objective"].mean <= train["defaults"].intervals["objective"].mean
    )
    assert "| tuned on test | 1 | 1/1 |" in report.table()
    assert saved["holds_on_test"] == (saved["delta"]["test"]["mean"] < 0)
    assert ("keep the defaults" in report.verdict) is not report.holds_on_test

    more = run_tuning(replace(options, trials=5), echo=lambda _: None)

    assert more.trials == 5
    with sqlite3.connect(options.out / "study.db") as db:
        assert db.execute("select count(*) from trials").fetchone() == (5,)


def _fixed() -> dict[str, ParamValue]:
    """Every parameter but the two searched, fixed at its default (a small study)."""
    ranges, _ = search_space("bundling", {})
    defaults = {p.name: p.default for p in policy_spec("bundling").parameters}
    return {n: defaults[n] for n in ranges if n not in ("reward", "courier_weight")}


def test_the_command_line_reads_seeds_and_space_terms() -> None:
    assert parse_seeds("0-4") == (0, 1, 2, 3, 4)
    assert parse_seeds("6,8") == (6, 8)
    assert parse_space(["reward=30:90", "max_bundle=2", "postpone=false"]) == {
        "reward": (30, 90),
        "max_bundle": 2,
        "postpone": False,
    }
    with pytest.raises(ValueError, match="seeds"):
        parse_seeds("a-b")
    with pytest.raises(ValueError, match="--space"):
        parse_space(["reward"])
