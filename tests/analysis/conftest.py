"""The session's run directories (see ``tests.analysis.helpers``)."""

from __future__ import annotations

import pytest

from tests.analysis.helpers import Runs, make_runs


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Three in-process replays and copies of the first, written once per session."""
    return make_runs(tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("input"))
