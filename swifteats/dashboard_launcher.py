"""``swifteats dashboard``: Streamlit serving ``dashboard/app.py`` as a child process.

The page is installed with the package (:mod:`swifteats.dashboard`); it needs the
``dashboard`` extra (Streamlit) and reads run directories through ``swifteats.analysis``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

DASHBOARD_APP = Path(__file__).resolve().parent / "dashboard" / "app.py"


def dashboard_argv(*, runs: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """The command serving the dashboard headless on ``host:port`` over the runs under ``runs``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD_APP),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--",
        "--runs",
        str(runs.resolve()),
    ]


DASHBOARD_MODULES = ("streamlit", "altair", "duckdb", "pyarrow")
"""What the dashboard imports beyond the core: Streamlit, its charts, the analyses' engine."""
DASHBOARD_INSTALL_HINT = 'from the checkout: pip install -e ".[dashboard,research]"'


class DashboardUnavailable(RuntimeError):
    """The dashboard cannot start here; the message says what is missing."""


def _check_can_start() -> None:
    if not DASHBOARD_APP.is_file():
        raise DashboardUnavailable(f"{DASHBOARD_APP} not found: reinstall swifteats")
    missing = [name for name in DASHBOARD_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise DashboardUnavailable(
            f"the dashboard needs {', '.join(missing)}, not installed; {DASHBOARD_INSTALL_HINT}"
        )


def start_dashboard(
    *, runs: Path, port: int, log: Path, host: str = "127.0.0.1"
) -> subprocess.Popen[bytes]:
    """Start the dashboard in the background, its output appended to ``log``.

    Raises:
        DashboardUnavailable: no ``app.py`` or no Streamlit.
    """
    _check_can_start()
    argv = dashboard_argv(runs=runs, port=port, host=host)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603 - our interpreter


def run_dashboard(*, runs: Path, port: int, host: str = "127.0.0.1") -> int:
    """Serve the dashboard in the foreground until interrupted; Streamlit's exit code.

    Raises:
        DashboardUnavailable: no ``app.py`` or no Streamlit.
    """
    _check_can_start()
    try:
        return subprocess.run(dashboard_argv(runs=runs, port=port, host=host)).returncode  # noqa: S603 - our interpreter
    except KeyboardInterrupt:
        return 0
