"""Replay speed: in-process orders per wall second, and a live lockstep replay's wall time.

Both go through ``replay.runner.run_replay``, exactly what ``swifteats replay`` runs, into
a temporary run directory: the figures include writing the run's tables (and, on MDRP
instances, the solution files and their check), not loading the input. In-process runs
are repeated and the fastest kept (the machine is shared; the fastest run is the one
least disturbed). In-process runs take the input's defaults; the live lockstep ones a
fixed workload (``LOCKSTEP_RADIUS_KM``, five attempts).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from replay.mdrp.instance import mdrp_root
from replay.runner import LoadedInput, RunRequest, load_input, run_replay
from swifteats.bench.stats import summarise
from swifteats.domain.policies.registry import DEFAULT_POLICY
from swifteats.settings import Settings

SAMPLE = "sample"
LOCKSTEP_INSTANCE = "7o100t100s1p100"
"""The instance of the lockstep headline figure, ``live_lockstep_7o100_s``."""

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ReplaySpeedOptions:
    """Which inputs to replay and how often."""

    in_process: tuple[str, ...] = (SAMPLE, "0o100t100s1p100")
    """``sample`` (the bundled day) or MDRP instance names."""
    repeats: int = 3
    lockstep: str | None = LOCKSTEP_INSTANCE
    """The MDRP instance replayed live in lockstep; None skips it."""


def run_in_process(options: ReplaySpeedOptions, *, echo: Echo) -> dict[str, Any]:
    """Orders per wall second of every in-process input; the headline is the slowest one."""
    figures: dict[str, Any] = {}
    for name in options.in_process:
        loaded = _load(name)
        if loaded is None:
            figures[name] = {"skipped": f"MDRP instance {name} not found"}
            continue
        walls = [_timed_replay(loaded, RunRequest())[0] for _ in range(options.repeats)]
        orders = len(loaded.data.orders)
        figures[name] = {
            "orders": orders,
            "drivers": len(loaded.data.drivers),
            "wall_s": round(min(walls), 3),
            "orders_per_s": round(orders / min(walls), 1),
        }
        echo(f"  replay in-process {name}: {figures[name]['orders_per_s']:g} orders/s")
    rates = [f["orders_per_s"] for f in figures.values() if "orders_per_s" in f]
    return {"inprocess_orders_per_s": min(rates, default=None), "inprocess": figures}


LOCKSTEP_RADIUS_KM = 50.0
"""The lockstep figures' workload is fixed: a 50 km radius and the design's five attempts
(greedy retrying without limit on this busy day makes about 201,000 attempts, not 13,500)."""
LOCKSTEP_POLICIES = {"": DEFAULT_POLICY, "_windowed": "rolling-horizon"}
"""Key suffix → the policy of each live lockstep figure (``live_lockstep_7o100<suffix>_s``)."""


def run_live_lockstep(settings: Settings, instance: str, *, echo: Echo) -> dict[str, Any]:
    """Wall seconds of live lockstep replays of an MDRP instance, one with the design's
    greedy policy and one with a windowed policy, services' start included."""
    loaded = _load(instance)
    if loaded is None:
        return {"live_lockstep_skipped": f"MDRP instance {instance} not found"}
    results: dict[str, Any] = {}
    for suffix, policy in LOCKSTEP_POLICIES.items():
        request = RunRequest(
            backend="live", policy=policy, radius_km=LOCKSTEP_RADIUS_KM, max_attempts=5
        )
        wall_s, run_dir_figures = _timed_replay(loaded, request, settings=settings)
        echo(f"  replay live lockstep {instance} {policy}: {wall_s:.1f} s")
        figures = {"instance": instance, "policy": policy, "wall_s": round(wall_s, 1)}
        results[f"live_lockstep{suffix}"] = {**figures, **run_dir_figures}
        if instance == LOCKSTEP_INSTANCE:
            results[f"live_lockstep_7o100{suffix}_s"] = figures["wall_s"]
    return results


def _timed_replay(
    loaded: LoadedInput, request: RunRequest, *, settings: Settings | None = None
) -> tuple[float, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="swifteats-bench-replay-") as tmp:
        run_dir = Path(tmp) / "run"
        started = time.perf_counter()
        run_replay(loaded, request, run_dir, settings)
        wall_s = time.perf_counter() - started
        return wall_s, _attempts(run_dir / "latency.parquet", len(loaded.data.orders))


def _attempts(latency: Path, orders: int) -> dict[str, Any]:
    """Attempts made and the harness's wall wait for their answers (live runs)."""
    if not latency.is_file():
        return {}
    table = pl.read_parquet(latency)
    answers = [float(v) for v in table["answer_ms"].drop_nulls().to_list()]
    return {
        "orders": orders,
        "attempts": table.height,
        "answer_wait_s": round(sum(answers) / 1000, 1),
        "answer_ms": summarise(answers),
    }


def _load(name: str) -> LoadedInput | None:
    if name == SAMPLE:
        return load_input(None, None)
    root = mdrp_root()
    if root is None or not (root / name).is_dir():
        return None
    return load_input(root / name, None)
