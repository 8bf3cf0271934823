"""MDRP instances: import in place, replay, write the evaluator's files, check every rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.mdrp.check import check_solution
from replay.mdrp.instance import MdrpFormatError, mdrp_root, read_instance
from replay.mdrp.solution import ASSIGNMENTS, COURIERS, ORDERS
from replay.runner import RunRequest, load_input, run_replay
from swifteats.cli import app
from tests.unit.test_mdrp_import import write_instance

ROOT = mdrp_root()
needs_mdrp = pytest.mark.skipif(
    ROOT is None,
    reason="MDRP instances not found: set SWIFTEATS_MDRP_DIR or put shared/ beside"
    " the repository (../shared/data/mdrp)",
)
INSTANCE = "0o100t100s1p100"


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A greedy-score replay of the instance; its run directory."""
    assert ROOT is not None
    run_dir = tmp_path_factory.mktemp("run")
    run_replay(load_input(ROOT / INSTANCE, None), RunRequest(radius_km=50), run_dir)
    return run_dir


@needs_mdrp
def test_an_instance_imports_with_its_own_counts() -> None:
    assert ROOT is not None
    loaded = load_input(ROOT / INSTANCE, None)
    assert (len(loaded.data.orders), len(loaded.data.drivers)) == (505, 113)
    assert loaded.mdrp is not None and loaded.mdrp.meters_per_minute == 320
    first = loaded.data.orders[0]
    raw = loaded.mdrp.orders[first.order_id]
    restaurant = loaded.mdrp.restaurants[raw[3]]
    metres_minutes = loaded.mdrp.travel(restaurant, (raw[0], raw[1]))
    assert loaded.data.eta.travel_minutes(first.restaurant, first.customer) == metres_minutes


@needs_mdrp
def test_the_replay_writes_a_feasible_solution(solved: Path) -> None:
    assert ROOT is not None
    report = check_solution(solved / "mdrp", read_instance(ROOT / INSTANCE))
    assert report.feasible, report.violations
    assert report.delivered > 0.9 * report.total
    lines = (solved / "mdrp" / ASSIGNMENTS).read_text().splitlines()
    assert lines[0] == "assignment_time pickup_time courier orders"


@needs_mdrp
@pytest.mark.parametrize(
    ("file", "mutate", "rule"),
    [
        (ORDERS, lambda rows: rows[:1] + rows[1:2] * 2 + rows[2:], "twice"),
        (ASSIGNMENTS, lambda rows: [rows[0], _shift(rows[1], 0, -600), *rows[2:]], "rule 2"),
        (ASSIGNMENTS, lambda rows: [rows[0], _shift(rows[1], 1, -30), *rows[2:]], "rule 4"),
        (COURIERS, lambda rows: [rows[0], _shift(rows[1], 1, -2000), *rows[2:]], "rule 6"),
        (COURIERS, lambda rows: rows[:1] + rows[2:], "rule 6"),
    ],
)
def test_the_checker_catches_each_broken_rule(
    solved: Path, tmp_path: Path, file: str, mutate: object, rule: str
) -> None:
    assert ROOT is not None
    broken = tmp_path / "mdrp"
    shutil.copytree(solved / "mdrp", broken)
    rows = (broken / file).read_text().splitlines()
    (broken / file).write_text("\n".join(mutate(rows)) + "\n")  # type: ignore[operator]
    report = check_solution(broken, read_instance(ROOT / INSTANCE))
    assert not report.feasible
    assert any(rule in v for v in report.violations), report.violations[:5]


def _shift(line: str, field: int, minutes: int) -> str:
    parts = line.split(" ")
    parts[field] = str(int(parts[field]) + minutes)
    return " ".join(parts)


def test_a_malformed_instance_names_file_and_line(tmp_path: Path) -> None:
    for name, text in {
        "orders.txt": "order\tx\ty\tplacement_time\trestaurant\tready_time\no1\t1\t2\t3\tr1\n",
        "restaurants.txt": "restaurant\tx\ty\nr1\t0\t0\n",
        "couriers.txt": "courier\tx\ty\ton_time\toff_time\nc1\t0\t0\t0\t90\n",
        "instance_parameters.txt": "m\tp\td\n320\t4\t4\n",
    }.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(MdrpFormatError, match=r"orders.txt: line 2: expected 6 columns"):
        read_instance(tmp_path)


FAR = {"couriers": "c1\t30000\t40000\t0\t600\n", "orders": "o1\t100\t0\t5\tr1\t15\n"}
"""One order at a restaurant 50 km (3-4-5) from the only courier."""


def test_an_mdrp_replay_searches_the_whole_map_by_default(tmp_path: Path) -> None:
    loaded = load_input(write_instance(tmp_path / "far", **FAR), None)
    assert loaded.mdrp is not None and loaded.mdrp.covering_radius_km == 51

    wide = run_replay(loaded, RunRequest(), tmp_path / "default")
    narrow = run_replay(loaded, RunRequest(radius_km=5), tmp_path / "5km")

    assert (wide.delivered, narrow.delivered) == (1, 0)
    assert json.loads((tmp_path / "default" / "manifest.json").read_text())["radius_km"] == 51


def test_the_replay_command_gives_an_mdrp_instance_its_whole_map(tmp_path: Path) -> None:
    folder = write_instance(tmp_path / "far", **FAR)
    argv = ["replay", str(folder), "--backend", "inprocess", "--out", str(tmp_path / "run")]

    result = CliRunner().invoke(app, argv)

    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert (manifest["radius_km"], manifest["summary"]["delivered"]) == (51, 1)


def test_an_order_log_keeps_the_designs_5_km(tmp_path: Path) -> None:
    run_replay(load_input(None, None), RunRequest(), tmp_path / "sample")

    assert json.loads((tmp_path / "sample" / "manifest.json").read_text())["radius_km"] == 5
