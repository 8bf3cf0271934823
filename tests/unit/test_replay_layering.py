"""Import layering of ``replay``: inputs at the bottom, no hidden imports, no DuckDB."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import replay
import swifteats.analysis
from tests.unit.test_domain_purity import imported_modules

REPLAY_DIR = Path(replay.__file__).parent
ANALYSIS_DIR = Path(swifteats.analysis.__file__).parent


def test_a_replay_input_imports_nothing_of_the_replay() -> None:
    names = imported_modules((REPLAY_DIR / "inputs.py").read_text())
    assert {n for n in names if n == "replay" or n.startswith("replay.")} == set()


@pytest.mark.parametrize("path", sorted(REPLAY_DIR.rglob("*.py")), ids=lambda p: p.name)
def test_no_replay_import_is_for_type_checking_only(path: Path) -> None:
    assert "TYPE_CHECKING" not in path.read_text()


@pytest.mark.parametrize("path", sorted(ANALYSIS_DIR.rglob("*.py")), ids=lambda p: p.name)
def test_the_analysis_never_imports_the_replay(path: Path) -> None:
    names = imported_modules(path.read_text())
    assert {n for n in names if n == "replay" or n.startswith("replay.")} == set()


def test_a_replay_imports_no_duckdb() -> None:
    """DuckDB is for the analyses, not for writing a run: a replay imports less."""
    code = "import sys, replay.runner, replay.sweep; print('duckdb' in sys.modules)"
    repo = REPLAY_DIR.parent  # ``python -c`` imports from its working directory first
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo, check=False
    )
    assert loaded.stdout.strip() == "False", loaded.stderr
