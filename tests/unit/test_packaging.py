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
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


CORE_COMMANDS = ("swifteats.cli", "replay.sweep_cli", "replay.sweep", "swifteats.analysis.report")
"""What ``swifteats sweep`` and ``swifteats report`` load."""


def _with_their_requirements(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` install, as the installed ones declare them."""
    found: set[str] = set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        for text in metadata.requires(requirement.name) or []:
            needed = Requirement(text)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras):
                todo.append(needed)
    return found


def _site_of(distributions: set[str], site: Path) -> Path:
    """``site`` holding links to the installed files of ``distributions`` only."""
    site.mkdir()
    for name in distributions:
        files = metadata.distribution(name).files or []
        tops = {f.parts[0] for f in files if f.parts[0] not in ("..", "bin", "__pycache__")}
        for top in tops:
            target = Path(str(metadata.distribution(name).locate_file(top)))
            if target.exists() and not (site / top).exists():
                (site / top).symlink_to(target)
    return site


def test_sweep_and_report_import_with_only_the_core_dependencies(tmp_path: Path) -> None:
    core = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    site = _site_of(_with_their_requirements(core), tmp_path / "site")
    code = f"import {', '.join(CORE_COMMANDS)}"

    # -S: no site-packages, nothing but the core dependencies and the checkout on the path.
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{site}"}
    imported = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    assert imported.returncode == 0, imported.stderr
    hidden = subprocess.run(
        [sys.executable, "-S", "-c", "import pandas"], cwd=tmp_path, env=env, capture_output=True
    )
    assert hidden.returncode != 0  # the extras really are out of reach
