"""The sidebar: the runs folder (``--runs``, ``SWIFTEATS_RUNS_DIR`` or ``runs``) and the runs.

:func:`choose_runs` returns a :class:`Selection` that the run panels read.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from . import data

RUNS_ENV = "SWIFTEATS_RUNS_DIR"
NEWEST_PICKED = 2
"""How many of the newest runs are picked when the page opens."""


@dataclass(frozen=True)
class Selection:
    """Every run found under the runs folder and the runs picked in the sidebar."""

    all_runs: pl.DataFrame
    """``runs_table`` of the runs outside sweeps, newest first."""
    picked: pl.DataFrame
    """The rows of ``all_runs`` picked, in the order picked."""

    @property
    def dirs(self) -> list[Path]:
        """The picked run directories, in the order picked."""
        return [Path(path) for path in self.picked["path"]]

    @property
    def ids(self) -> list[str]:
        """The picked run ids, in the order picked."""
        return list(self.picked["run_id"])

    def row(self, run_id: str) -> dict[str, Any]:
        """The ``runs_table`` row of one run."""
        return self.all_runs.row(by_predicate=pl.col("run_id") == run_id, named=True)

    def dir_of(self, run_id: str) -> Path:
        """The directory of one run."""
        return Path(self.row(run_id)["path"])


def default_root(argv: Sequence[str], environ: Mapping[str, str]) -> Path:
    """``--runs DIR`` (after streamlit's ``--``), else ``$SWIFTEATS_RUNS_DIR``, else ``runs``."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--runs")
    known, _ = parser.parse_known_args(list(argv))
    return Path(known.runs or environ.get(RUNS_ENV) or "runs")


def runs_folder(default: Path) -> Path:
    """The sidebar's runs folder field."""
    return Path(st.sidebar.text_input("Runs folder", str(default), key="runs_root"))


def choose_runs(root: Path, sweeps: Sequence[Path]) -> Selection | None:
    """Pick runs in the sidebar among those under ``root`` outside ``sweeps``.

    None, with a note on the page, when there is none to pick.
    """
    found = data.outside_sweeps(data.find_runs(root), sweeps)
    if not found:
        st.info(f"No run directories under `{root}`: make one with `swifteats replay`.")
        return None
    table = data.runs_table(found).sort("started_at", descending=True, nulls_last=True)
    ids = table["run_id"].to_list()
    picked = st.sidebar.multiselect("Runs", ids, default=ids[:NEWEST_PICKED], key="runs")
    st.sidebar.caption(f"{len(ids)} runs under `{root}`, newest first.")
    if not picked:
        st.info("Pick one or more runs in the sidebar.")
        return None
    rows = [table.row(by_predicate=pl.col("run_id") == run_id, named=True) for run_id in picked]
    return Selection(table, pl.DataFrame(rows, schema=table.schema))
