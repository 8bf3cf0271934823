"""Import layering of ``replay``: inputs at the bottom, no import hidden from the runtime."""

from __future__ import annotations

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
