"""The dashboard in a real headless Chromium: served by the launcher, then screenshotted."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from swifteats.dashboard_launcher import start_dashboard
from swifteats.stack import free_port

CHROMIUM = shutil.which("chromium")
MIN_COLOURS = 5000
"""A blank page or Streamlit's loading skeleton has a few hundred distinct colours; the
map's anti-aliased paths and points give well over ten thousand."""

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install -y chromium)"
)


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll Streamlit's health endpoint until it answers 200; fail if the server exits."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the dashboard exited:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the dashboard did not answer within 120 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def dashboard_url(runs_root: Path, tmp_path: Path) -> Iterator[str]:
    """The dashboard served by the launcher on a free loopback port, stopped afterwards."""
    log = tmp_path / "dashboard.log"
    url = f"http://127.0.0.1:{(port := free_port())}"
    process = start_dashboard(runs=runs_root, port=port, log=log)
    try:
        wait_until_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def screenshot(url: str, png: Path, profile: Path) -> None:
    """Chromium loads ``url`` headless and writes what it shows to ``png``."""
    assert CHROMIUM is not None
    png.unlink(missing_ok=True)
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # the tests may run as root, where the sandbox refuses to start
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        "--window-size=1400,1000",
        "--virtual-time-budget=15000",
        url,
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def distinct_colours(png: Path) -> int:
    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 24) or ())


def test_the_map_tab_renders_in_chromium(dashboard_url: str, tmp_path: Path) -> None:
    """Screenshots are retaken until the map has rendered (the first run of the page is
    slow: imports and cold caches), for up to two minutes."""
    png, colours = tmp_path / "map.png", 0
    deadline = time.monotonic() + 120
    while colours < MIN_COLOURS and time.monotonic() < deadline:
        screenshot(f"{dashboard_url}/?tab=Map", png, tmp_path / "chromium")
        colours = distinct_colours(png)
    assert colours >= MIN_COLOURS, f"{png} looks blank: {colours} distinct colours"
