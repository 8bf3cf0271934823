"""``report``: text on a stream, CSV or Markdown files with the expected headers."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

from swifteats.analysis.report import report
from tests.analysis.helpers import Runs

FILES = ["diff_orders", "diff_summary", "failures", "kpis", "latency", "runs"]


def test_csv_files_for_two_runs_of_one_input(runs: Runs, tmp_path: Path) -> None:
    text = io.StringIO()
    written = report([runs.base, runs.far], out=tmp_path, fmt="csv", stream=text)
    assert sorted(path.stem for path in written) == FILES
    assert pl.read_csv(tmp_path / "kpis.csv").columns == ["metric", "base", "far"]
    header = (tmp_path / "latency.csv").read_text().splitlines()[0]
    assert header == "run_id,stage,n,p50_ms,p95_ms,p99_ms"
    changed = pl.read_csv(tmp_path / "diff_orders.csv")
    assert changed.height == pl.read_csv(tmp_path / "diff_summary.csv")["changed"].item() > 0
    for title in ("KPIs side by side", "Latency by stage", "Failures by reason", "Order by order"):
        assert title in text.getvalue()


def test_markdown_files(runs: Runs, tmp_path: Path) -> None:
    report([runs.base, runs.other], out=tmp_path, fmt="md", stream=io.StringIO())
    lines = (tmp_path / "kpis.md").read_text().splitlines()
    assert lines[0] == "# KPIs side by side"
    assert [cell.strip() for cell in lines[2].strip("|").split("|")] == ["metric", "base", "other"]
    assert lines[3].startswith("|---")
    assert sorted(path.stem for path in tmp_path.iterdir()) == FILES[2:]


def test_text_only_and_no_diff_for_different_inputs(runs: Runs) -> None:
    text = io.StringIO()
    assert report([runs.base, runs.other], out=None, stream=text) == []
    assert "replayed different inputs" in text.getvalue()


def test_unknown_format_is_refused(runs: Runs, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="csv or md"):
        report([runs.base], out=tmp_path, fmt="xlsx")
