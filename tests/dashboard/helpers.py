"""What the dashboard tests share: the app's path, the runs' names, opening the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from swifteats.dashboard_launcher import DASHBOARD_APP

APP = DASHBOARD_APP
DESIGN, FAR = "design-weights", "far-drivers"
"""The two runs of the sample, oldest first (the dashboard lists the newest first)."""


def open_page(root: Path) -> AppTest:
    """The dashboard run once over the runs folder ``root`` (given by the environment)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWIFTEATS_RUNS_DIR", str(root))
        return AppTest.from_file(str(APP), default_timeout=120).run()
