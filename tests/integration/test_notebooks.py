"""The research notebooks run top to bottom, and are committed without outputs.

Each notebook is executed by nbclient in a fresh ``python3`` kernel (the venv's ipykernel)
in a temporary working directory so that its runs land there: with ``SWIFTEATS_NB_SMALL=1``
(small inputs), and, marked ``slow``, at its defaults on the bundled sample (what a user
gets without the MDRP data; the charts must stay under Altair's 5,000 rows). The live
parts of ``01`` and ``02`` talk to this suite's servers: a private broker per notebook, the
session's Redis and PostgreSQL, passed through the environment the kernel inherits
(``swifteats.settings.load_settings`` reads it).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from replay.mdrp.instance import mdrp_root
from swifteats.settings import Settings
from tests.integration.helpers import Broker

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LIVE = ("01-scoring-weights.ipynb", "02-latency.ipynb")
"""The notebooks that replay through the live services."""
IN_PROCESS = ("03-policies.ipynb",)
TUNING = ("04-tuning.ipynb",)
"""The notebook that tunes a policy on MDRP days (it needs the data)."""
CHARTS = {"01-scoring-weights.ipynb": 1, "02-latency.ipynb": 4, "03-policies.ipynb": 1}
"""The Altair charts each notebook draws."""
SERVERS = (pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres)
OVERRIDES = (
    *("SWIFTEATS_NB_SMALL", "SWIFTEATS_NB_WORKERS", "SWIFTEATS_NB_INSTANCES", "SWIFTEATS_NB_LIVE"),
    *("SWIFTEATS_NB_RUNS_DIR", "SWIFTEATS_NB_ORDERS", "SWIFTEATS_NB_INPUT"),
    *("SWIFTEATS_NB_PACED_SPEED", "SWIFTEATS_NB_WAIT_PENALTY"),
)
"""Every environment override the parameters cells read."""


def _execute(name: str, cwd: Path) -> nbformat.NotebookNode:
    """Run every cell of ``notebooks/<name>`` in ``cwd``; a failing cell raises.

    The executed copy, outputs and all, is left in ``cwd`` to look at.
    """
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    try:
        client.execute()
    finally:
        nbformat.write(notebook, cwd / name)
    return notebook


def _charts(notebook: nbformat.NotebookNode) -> int:
    """How many Vega-Lite charts the cells output (as a mime bundle or as embedding HTML)."""
    return sum(
        any(kind.startswith("application/vnd.vegalite") for kind in output.get("data", {}))
        or "schema/vega-lite/" in output.get("data", {}).get("text/html", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def _printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No override set; the working directory the notebook runs in."""
    # The venv's own python3 kernel (sys.prefix/share/jupyter), before any in the user's home.
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")
    for name in OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    return work


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch, defaults: Path) -> Path:
    """The small run's environment; the working directory the notebook runs in."""
    monkeypatch.setenv("SWIFTEATS_NB_SMALL", "1")
    monkeypatch.setenv("SWIFTEATS_NB_WORKERS", "2")
    return defaults


def _use_servers(monkeypatch: pytest.MonkeyPatch, servers: Settings, kafka: Broker) -> None:
    """The kernel's environment names this suite's broker, Redis and PostgreSQL."""
    monkeypatch.setenv("KAFKA_HOST", kafka.host)
    monkeypatch.setenv("REDIS_HOST", servers.redis_host)
    monkeypatch.setenv("REDIS_PORT", str(servers.redis_port))
    monkeypatch.setenv("DATABASE_URL", servers.database_url.get_secret_value())


@pytest.mark.parametrize("name", [pytest.param(n, marks=SERVERS) for n in LIVE])
def test_a_live_notebook_runs_on_small_inputs(
    name: str,
    small: Path,
    servers: Settings,
    kafka: Broker,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _use_servers(monkeypatch, servers, kafka)
    monkeypatch.setenv("SWIFTEATS_STATE_DIR", str(tmp_path / "state"))

    _execute(name, small)

    manifests = (small / "runs" / "notebooks").rglob("manifest.json")
    assert "live" in {json.loads(m.read_text())["backend"] for m in manifests}


@pytest.mark.parametrize("name", IN_PROCESS)
def test_an_in_process_notebook_runs_on_small_inputs(name: str, small: Path) -> None:
    _execute(name, small)

    assert list((small / "runs" / "notebooks").rglob("results.parquet"))


@pytest.mark.skipif(mdrp_root() is None, reason="tuning needs the MDRP instances")
@pytest.mark.parametrize("name", TUNING)
def test_the_tuning_notebook_tunes_on_small_inputs(name: str, small: Path) -> None:
    notebook = _execute(name, small)

    (saved,) = (small / "runs" / "notebooks").rglob("tuning.json")
    assert [f["split"] for f in json.loads(saved.read_text())["figures"]] == ["train"] * 2 + [
        "test"
    ] * 2
    assert "Reyes et al. 2018" in str(notebook.cells)


@pytest.mark.parametrize("name", ["01-scoring-weights.ipynb", "03-policies.ipynb"])
def test_an_mdrp_notebook_says_so_and_uses_the_sample_without_the_data(
    name: str, small: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SWIFTEATS_MDRP_DIR", str(tmp_path / "no-mdrp-here"))
    monkeypatch.setenv("SWIFTEATS_NB_LIVE", "0")

    notebook = _execute(name, small)

    assert "using the bundled sample instead" in _printed(notebook)


@pytest.mark.parametrize("name", [*LIVE, *IN_PROCESS, *TUNING])
def test_a_committed_notebook_has_no_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert notebook.cells[0].cell_type == "markdown"
    assert notebook.metadata.kernelspec.name == "python3"
    assert [(c.outputs, c.execution_count) for c in code] == [([], None)] * len(code)
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1


def test_every_notebook_is_tested() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(
        [*LIVE, *IN_PROCESS, *TUNING]
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", [*(pytest.param(n, marks=SERVERS) for n in LIVE), *IN_PROCESS])
def test_a_notebook_runs_at_its_defaults_on_the_bundled_sample(
    name: str,
    defaults: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("SWIFTEATS_MDRP_DIR", str(tmp_path / "no-mdrp-here"))
    monkeypatch.setenv("SWIFTEATS_STATE_DIR", str(tmp_path / "state"))
    if name in LIVE:
        _use_servers(
            monkeypatch, request.getfixturevalue("servers"), request.getfixturevalue("kafka")
        )

    notebook = _execute(name, defaults)

    manifests = [json.loads(m.read_text()) for m in (defaults / "runs").rglob("manifest.json")]
    assert {m["input_name"] for m in manifests} == {"sample_orders"}
    assert {m["summary"]["orders"] for m in manifests} == {500}
    assert _charts(notebook) == CHARTS[name]
