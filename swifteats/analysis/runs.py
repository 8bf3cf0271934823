"""Run directories: finding them, reading their manifests, and one row of identity per run."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

MANIFEST = "manifest.json"

RUN_SCHEMA = pl.Schema(
    {
        "run_no": pl.Int64(),
        "run_id": pl.String(),
        "path": pl.String(),
        "input_name": pl.String(),
        "input_sha256": pl.String(),
        "backend": pl.String(),
        "mode": pl.String(),
        "speed": pl.Float64(),
        "policy": pl.String(),
        "seed": pl.Int64(),
        "radius_km": pl.Float64(),
        "weights": pl.String(),
        "params": pl.String(),
        "max_attempts": pl.Int64(),
        "started_at": pl.Datetime("us", "UTC"),
        "ended_at": pl.Datetime("us", "UTC"),
        "mdrp_feasible": pl.Boolean(),
    }
)
"""What ``runs_frame`` holds; ``run_no`` keeps the order the runs were given in."""
_MANIFEST_FIELDS = (
    "input_name",
    "input_sha256",
    "backend",
    "mode",
    "speed",
    "policy",
    "seed",
    "radius_km",
    "max_attempts",
)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run directory and its manifest."""

    run_id: str
    path: Path
    manifest: dict[str, Any]


def find_runs(root: Path) -> list[Path]:
    """Every run directory (a folder holding ``manifest.json``) at or under ``root``, sorted.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    return sorted(manifest.parent for manifest in root.rglob(MANIFEST))


def resolve_runs(paths: Iterable[Path]) -> list[Path]:
    """Run directories from paths that are run directories or folders holding some.

    Raises:
        FileNotFoundError: a path does not exist.
        ValueError: a folder holds no run directory.
    """
    found: list[Path] = []
    for path in paths:
        runs = [path] if (path / MANIFEST).is_file() else find_runs(path)
        if not runs:
            raise ValueError(f"no run directory (a folder with {MANIFEST}) in {path}")
        found += [run for run in runs if run not in found]
    return found


def read_run(run_dir: Path) -> RunInfo:
    """The manifest of ``run_dir``; its ``run_id`` (or the folder's name) names the run.

    Raises:
        ValueError: ``run_dir`` has no ``manifest.json``.
    """
    manifest_path = run_dir / MANIFEST
    if not manifest_path.is_file():
        raise ValueError(f"{run_dir} is not a run directory (no {MANIFEST})")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    run_id = str(manifest.get("run_id") or run_dir.name)
    return RunInfo(run_id, run_dir.resolve(), manifest)


def read_runs(run_dirs: Sequence[Path]) -> list[RunInfo]:
    """The runs in the order given, each folder once, each with a distinct ``run_id``.

    Runs sharing a ``run_id`` (the runs of a sweep are all ``s<seed>``) are named by the
    shortest end of their paths that tells them apart, such as ``c01/sample/s7``.

    Raises:
        ValueError: no runs.
    """
    runs: dict[Path, RunInfo] = {}
    for run_dir in run_dirs:
        run = read_run(run_dir)
        runs.setdefault(run.path, run)
    if not runs:
        raise ValueError("no run directories given")
    return _distinct(list(runs.values()))


def _distinct(runs: list[RunInfo]) -> list[RunInfo]:
    """Rename the runs that share a ``run_id`` by the fewest last parts of their paths."""
    ids = [run.run_id for run in runs]
    shared = [run for run in runs if ids.count(run.run_id) > 1]
    taken = {run_id for run_id in ids if ids.count(run_id) == 1}
    for depth in range(1, max((len(run.path.parts) for run in shared), default=0) + 1):
        names = {run.path: "/".join(run.path.parts[-depth:]) for run in shared}
        if len(set(names.values())) == len(names) and not set(names.values()) & taken:
            return [replace(run, run_id=names.get(run.path, run.run_id)) for run in runs]
    return runs


def runs_frame(runs: Sequence[RunInfo]) -> pl.DataFrame:
    """One row per run: where it is and what was replayed how (see ``RUN_SCHEMA``)."""
    return pl.DataFrame([_identity(no, run) for no, run in enumerate(runs)], schema=RUN_SCHEMA)


def _identity(run_no: int, run: RunInfo) -> dict[str, Any]:
    manifest = run.manifest
    check = manifest.get("mdrp_check")
    return {
        "run_no": run_no,
        "run_id": run.run_id,
        "path": str(run.path),
        **{key: manifest.get(key) for key in _MANIFEST_FIELDS},
        "weights": json.dumps(manifest.get("weights"), sort_keys=True),
        "params": json.dumps(manifest.get("params"), sort_keys=True),
        "started_at": _instant(manifest.get("started_at")),
        "ended_at": _instant(manifest.get("ended_at")),
        "mdrp_feasible": check.get("feasible") if isinstance(check, dict) else None,
    }


def _instant(text: object) -> datetime | None:
    """An ISO instant from a manifest; one without an offset is taken as UTC."""
    if not isinstance(text, str):
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
