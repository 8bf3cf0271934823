"""Open-loop load from ``wrk`` (Debian's, compiled): the services' CPU is left to them.

``wrk`` runs :file:`offer.lua`: request ``n`` of the prepared bodies is due at
``start + n / rate``; a pool of keep-alive connections sends each when due or as soon as
one is free (so a slow service does not slow the offer, up to ``connections`` waiting).
It reports statuses, lateness and its latency percentiles; its CPU seconds come from the
kernel's accounting of the finished child. Without ``wrk`` installed the caller falls back
to the Python generator (:mod:`swifteats.bench.loadgen`) and says so.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from swifteats.bench.offered import Offered

SCRIPT = Path(__file__).with_name("offer.lua")
_CONNECT_S = 0.5
"""Time given to wrk to open its connections before request 0 is due."""
_GRACE_S = 5.0
"""How long wrk runs past the last due request, for the last answers."""


def wrk_path() -> str | None:
    """Where ``wrk`` is; None when it is not installed."""
    return shutil.which("wrk")


def offer_with_wrk(
    base_url: str,
    bodies: Sequence[bytes],
    *,
    rate_per_s: float,
    headers: dict[str, str],
    connections: int = 64,
    on_dispatched: Callable[[], object] | None = None,
) -> Offered:
    """POST every body to ``/orders`` at ``rate_per_s`` through ``wrk``."""
    wrk = wrk_path()
    if wrk is None:
        raise FileNotFoundError("wrk is not installed (apt-get install wrk)")
    duration_s = len(bodies) / rate_per_s
    with tempfile.TemporaryDirectory(prefix="swifteats-wrk-") as tmp:
        file = Path(tmp) / "bodies.jsonl"
        file.write_bytes(b"\n".join(bodies) + b"\n")
        start = time.time() + _CONNECT_S
        command = [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{math.ceil(duration_s + _CONNECT_S + _GRACE_S)}s",
            "--timeout",
            "30s",
            "-s",
            str(SCRIPT),
            base_url,
            "--",
            str(file),
            repr(rate_per_s),
            str(int(start * 1000)),
            headers.get("Authorization", ""),
            "1",
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
        if on_dispatched is not None:
            time.sleep(max(0.0, start + duration_s - time.time()))
            on_dispatched()
        out, _ = process.communicate()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {out[-500:]}")
    report = _report(out)
    statuses: dict[str, int] = report["statuses"]
    statuses.pop("200", None)  # each connection's first request: GET /health
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Offered(
        generator="wrk",
        rate_per_s=rate_per_s,
        duration_s=duration_s,
        start=start,
        sent=int(report["sent"]),
        statuses=statuses,
        cpu_s=cpu_s,
        max_late_ms=float(report["max_late_ms"]),
        post_ms={k: v / 1000 for k, v in report["latency_us"].items()},
        transport_errors=report["errors"],
    )


def _report(out: str) -> dict[str, Any]:
    for line in out.splitlines():
        if line.startswith("SWIFTEATS "):
            report: dict[str, Any] = json.loads(line.removeprefix("SWIFTEATS "))
            return report
    raise RuntimeError(f"wrk printed no report: {out[-500:]}")
