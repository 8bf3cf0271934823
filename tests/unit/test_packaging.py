"""The package as a plain (non-editable) install has its sample day and its dashboard.

The wheel is built from a copy of the sources with the venv's own setuptools (no index,
no build isolation) and installed with ``--target``; the installed copy then replays its
bundled sample and renders its dashboard from a working directory outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "swifteats", "replay")
"""What the build reads; the tests, notebooks and caches stay out."""
PIP = (sys.executable, "-m", "pip", "--disable-pip-version-check", "-q")
DASHBOARD = """
import os, sys
from streamlit.testing.v1 import AppTest
from swifteats.dashboard_launcher import DASHBOARD_APP
os.environ["SWIFTEATS_RUNS_DIR"] = sys.argv[1]
page = AppTest.from_file(str(DASHBOARD_APP), default_timeout=120).run()
assert not page.exception and not page.error, (page.exception, page.error)
print(json.dumps({"app": str(DASHBOARD_APP), "tabs": [t.label for t in page.tabs]}))
""".replace("import os, sys", "import json, os, sys")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*_cache")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=skip)
        else:
            shutil.copy2(REPO / name, source / name)
    dist = source / "dist"
    build = [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist)]
    subprocess.run([*build, str(source)], check=True, capture_output=True)
    (built,) = dist.glob("swifteats-*.whl")
    return built


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed alone (its dependencies are the venv's)."""
    target = tmp_path_factory.mktemp("site")
    install = [*PIP, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    return target


def test_the_wheel_holds_the_sample_the_dashboard_and_the_license(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        headers = archive.read(metadata).decode()

    assert {
        "replay/data/sample_orders.csv",
        "replay/data/sample_drivers.csv",
        "swifteats/dashboard/app.py",
        "swifteats/dashboard/panels/charts.py",
        "swifteats/analysis/sql/run_kpis.sql",
    } <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in headers
    assert "Requires-Dist: duckdb" in headers and "Requires-Dist: rich" in headers


def test_the_installed_package_replays_its_sample_and_shows_it(site: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(site)}
    work = tmp_path / "elsewhere"
    work.mkdir()
    replay = [sys.executable, "-m", "swifteats", "replay", "--backend", "inprocess"]

    subprocess.run([*replay, "--out", "runs/sample"], cwd=work, env=env, check=True)
    shown = subprocess.run(
        [sys.executable, "-c", DASHBOARD, str(work / "runs")],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )

    manifest = json.loads((work / "runs" / "sample" / "manifest.json").read_text())
    assert Path(manifest["input"]) == site / "replay" / "data" / "sample_orders.csv"
    assert manifest["summary"]["orders"] == 500
    page = json.loads(shown.stdout.splitlines()[-1])
    assert Path(page["app"]) == site / "swifteats" / "dashboard" / "app.py"
    assert "Map" in page["tabs"]
