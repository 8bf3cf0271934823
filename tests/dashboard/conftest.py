"""Real run directories for the dashboard tests, made once per session.

The runs folder holds the bundled sample replayed in process with the design's weights
and with a negative distance penalty (it prefers far drivers, so most orders change
driver), plus a two-cell sweep whose run directories all share the ``run_id`` ``s7``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from replay.runner import RunRequest, load_input, run_replay
from replay.sweep import run_sweep
from replay.sweep_spec import spec_from_dict
from swifteats.domain.scoring import ScoringWeights
from tests.dashboard.helpers import DESIGN, FAR, open_page


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder: two runs of the sample with different weights, and a sweep."""
    root = tmp_path_factory.mktemp("runs")
    loaded = load_input(None, None)
    far = ScoringWeights(distance_penalty_per_km=-10.0)
    run_replay(loaded, RunRequest(backend="inprocess"), root / DESIGN)
    run_replay(loaded, RunRequest(backend="inprocess", weights=far), root / FAR)
    grid = {"grid": {"distance_penalty_per_km": [-10, 5]}}
    run_sweep(spec_from_dict(grid), root / "sweeps" / "distance", workers=2)
    return root


@pytest.fixture(scope="session")
def orders(runs_root: Path) -> dict[str, pl.DataFrame]:
    """Each run's ``orders.parquet``, read without the dashboard, by run id."""
    return {run: pl.read_parquet(runs_root / run / "orders.parquet") for run in (DESIGN, FAR)}


@pytest.fixture(scope="module")
def page(runs_root: Path) -> AppTest:
    """The dashboard as it opens on ``runs_root``: the two newest runs picked."""
    return open_page(runs_root)
