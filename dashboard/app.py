"""The SwiftEats dashboard: runs side by side, latency, the map, decisions, diffs, sweeps.

Start it with ``swifteats dashboard --runs DIR`` (or ``python -m streamlit run
dashboard/app.py -- --runs DIR``). It reads run and sweep directories only through
``swifteats.analysis``; each tab is a function in ``dashboard/panels/``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import streamlit as st

from swifteats.dashboard.panels import data, decision, diff, distributions, geo, runs, sweeps
from swifteats.dashboard.panels.selection import Selection, choose_runs, default_root, runs_folder

RUN_TABS: dict[str, Callable[[Selection], None]] = {
    "KPIs": runs.kpi_cards,
    "Compare": runs.comparison,
    "Latency": distributions.latency,
    "Click-to-door": distributions.click_to_door,
    "Map": geo.run_map,
    "Decision": decision.decision,
    "Diff": diff.order_diff,
}


def main() -> None:
    """The sidebar, then a tab per panel."""
    st.set_page_config(page_title="SwiftEats runs", layout="wide")
    st.title("SwiftEats runs")
    root = runs_folder(default_root(sys.argv[1:], os.environ))
    if not root.is_dir():
        st.error(f"`{root}` is not a folder: set the runs folder in the sidebar.")
        return
    found_sweeps = data.find_sweeps(root)
    panels = _run_panels(_selection(root, found_sweeps))
    panels["Sweeps"] = partial(sweeps.sweep_front, root, found_sweeps)
    _show_tabs(panels)


def _selection(root: Path, found_sweeps: list[Path]) -> Selection | None:
    """The runs picked in the sidebar; None, with the reason on the page, when there are none."""
    try:
        return choose_runs(root, found_sweeps)
    except ValueError as error:  # e.g. a manifest that is not JSON
        st.error(str(error))
        return None


def _run_panels(selection: Selection | None) -> dict[str, Callable[[], None]]:
    """The run tabs' panels bound to the picked runs; none when no run is picked."""
    if selection is None:
        return {}
    return {name: partial(panel, selection) for name, panel in RUN_TABS.items()}


def _show_tabs(panels: dict[str, Callable[[], None]]) -> None:
    """A tab per panel, opening on the one named by ``?tab=``; a panel that fails shows its
    error in its own tab."""
    names = list(panels)
    linked = st.query_params.get("tab")
    tabs = st.tabs(names, default=linked if linked in names else None)
    for tab, show in zip(tabs, panels.values(), strict=True):
        with tab:
            try:
                show()
            except Exception as error:  # one broken panel must not hide the others
                st.exception(error)


main()
