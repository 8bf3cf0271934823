"""``swifteats report``: the analyses' tables as text, and as CSV or Markdown files.

The tables: ``runs`` (identity), ``kpis`` (runs side by side), ``latency`` (by stage),
``failures`` (by reason) and, for two runs of the same input, ``diff_summary`` and
``diff_orders`` (the orders that changed driver; written to files only).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TextIO

import polars as pl

from swifteats.analysis.diff import diff_summary, order_diff, same_input
from swifteats.analysis.kpis import compare_runs, runs_table
from swifteats.analysis.latency import latency_by_stage
from swifteats.analysis.orders import failures_by_reason
from swifteats.analysis.runs import RunInfo, read_runs

FORMATS = ("csv", "md")
TITLES = {
    "runs": "Runs",
    "kpis": "KPIs side by side",
    "latency": "Latency by stage (ms)",
    "failures": "Failures by reason",
    "diff_summary": "Order by order, second run minus first (minutes)",
    "diff_orders": "Orders that changed driver",
}
_FILES_ONLY = frozenset({"diff_orders"})
_IDENTITY = (
    "run_id",
    "input_name",
    "backend",
    "policy",
    "seed",
    "radius_km",
    "weights",
    "params",
    "max_attempts",
)


def report_tables(run_dirs: Sequence[Path]) -> dict[str, pl.DataFrame]:
    """The report's tables by name (see the module docstring)."""
    tables = {
        "runs": runs_table(run_dirs).select(_IDENTITY),
        "kpis": compare_runs(run_dirs),
        "latency": latency_by_stage(run_dirs),
        "failures": failures_by_reason(run_dirs),
    }
    pair = _diff_pair(read_runs(run_dirs))
    if pair is not None:
        tables["diff_summary"] = diff_summary(*pair)
        tables["diff_orders"] = order_diff(*pair).filter(pl.col("changed"))
    return tables


def _diff_pair(runs: list[RunInfo]) -> tuple[Path, Path] | None:
    """The two runs, when there are two and they replayed the same input."""
    if len(runs) != 2:
        return None
    try:
        a, b = same_input(runs[0].path, runs[1].path)
    except ValueError:
        return None
    return a.path, b.path


def render(table: pl.DataFrame, fmt: str) -> str:
    """``table`` as ``csv``, ``md`` (Markdown) or ``text`` (for a terminal), every row."""
    if fmt == "csv":
        return table.write_csv()
    if fmt == "md":
        with _layout("MARKDOWN"):
            return str(_escape_pipes(table))
    with _layout("UTF8_FULL_CONDENSED"):
        return str(table)


def _layout(formatting: Literal["MARKDOWN", "UTF8_FULL_CONDENSED"]) -> pl.Config:
    return pl.Config(
        tbl_formatting=formatting,
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=10_000,
        fmt_str_lengths=500,
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
    )


def _escape_pipes(table: pl.DataFrame) -> pl.DataFrame:
    return table.with_columns(pl.col(pl.String).str.replace_all("|", r"\|", literal=True))


def write_tables(tables: dict[str, pl.DataFrame], out: Path, fmt: str) -> list[Path]:
    """Write each table as ``<out>/<name>.<fmt>``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        path = out / f"{name}.{fmt}"
        text = render(table, fmt)
        path.write_text(f"# {TITLES[name]}\n\n{text}\n" if fmt == "md" else text, "utf-8")
        written.append(path)
    return written


def report(
    run_dirs: Sequence[Path],
    *,
    out: Path | None = None,
    fmt: str = "csv",
    stream: TextIO | None = None,
) -> list[Path]:
    """Print the report's tables; with ``out``, also write them there as ``fmt`` files.

    Args:
        run_dirs: The run directories, in the order their columns should come.
        out: A folder for the files (created if needed); None writes none.
        fmt: ``csv`` or ``md``.
        stream: Where the text goes (standard output by default).

    Returns:
        The files written.

    Raises:
        ValueError: an unknown format, no runs, or a folder that is not a run directory.
    """
    if fmt not in FORMATS:
        raise ValueError(f"the format is csv or md, not {fmt!r}")
    stream = stream or sys.stdout
    tables = report_tables(run_dirs)
    for name, table in tables.items():
        if name not in _FILES_ONLY:
            print(f"{TITLES[name]}\n{render(table, 'text')}\n", file=stream)
    if len(read_runs(run_dirs)) == 2 and "diff_summary" not in tables:
        print("No order-by-order diff: the two runs replayed different inputs.\n", file=stream)
    if out is None:
        return []
    written = write_tables(tables, out, fmt)
    print(f"{len(written)} tables written to {out}", file=stream)
    return written
