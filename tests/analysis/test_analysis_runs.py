"""Finding run directories and the one-row-per-run identity table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swifteats.analysis import (
    compare_runs,
    diff_summary,
    find_runs,
    resolve_runs,
    run_kpis,
    runs_table,
)
from swifteats.analysis.kpis import HEADLINE
from tests.analysis.helpers import Runs, copy_run


def test_find_runs_lists_every_run_directory_sorted(runs: Runs) -> None:
    found = find_runs(runs.root)
    assert found == sorted(found)
    assert {path.name for path in found} >= {"base", "far", "other", "wall", "undecided"}
    assert all((path / "manifest.json").is_file() for path in found)


def test_resolve_runs_takes_run_directories_and_folders_of_them(runs: Runs, tmp_path: Path) -> None:
    assert resolve_runs([runs.far, runs.root])[0] == runs.far
    assert resolve_runs([runs.far, runs.root]).count(runs.far) == 1
    with pytest.raises(FileNotFoundError):
        resolve_runs([runs.root / "missing"])
    with pytest.raises(ValueError, match="no run directory"):
        resolve_runs([tmp_path])


def test_runs_table_has_each_run_identity_and_headline_kpis(runs: Runs) -> None:
    table = runs_table([runs.base, runs.other])
    manifest = json.loads((runs.base / "manifest.json").read_text())
    base = table.row(0, named=True)
    assert table["run_id"].to_list() == ["base", "other"]
    assert base["input_sha256"] == manifest["input_sha256"]
    assert base["backend"] == "inprocess"
    assert json.loads(base["weights"]) == manifest["weights"]
    assert base["started_at"].tzinfo is not None
    kpis = run_kpis([runs.base]).row(0, named=True)
    assert {name: base[name] for name in HEADLINE} == pytest.approx(
        {name: kpis[name] for name in HEADLINE}
    )


def test_runs_sharing_a_run_id_are_named_by_their_paths(runs: Runs, tmp_path: Path) -> None:
    copies = [copy_run(runs.base, tmp_path / cell / "s7") for cell in ("c01", "c02")]
    for copy in copies:  # as in a sweep: every cell's run is s<seed>
        manifest = json.loads((copy / "manifest.json").read_text())
        assert manifest["run_id"] == "s7"
    table = runs_table([runs.base, *copies])
    assert table["run_id"].to_list() == ["base", "c01/s7", "c02/s7"]
    assert compare_runs(copies).columns == ["metric", "c01/s7", "c02/s7"]
    summary = diff_summary(*copies).row(0, named=True)
    assert (summary["run_a"], summary["run_b"], summary["changed"]) == ("c01/s7", "c02/s7", 0)


def test_a_folder_without_manifest_is_not_a_run(runs: Runs) -> None:
    with pytest.raises(ValueError, match="not a run directory"):
        run_kpis([runs.root])
