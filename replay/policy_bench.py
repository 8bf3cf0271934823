"""``swifteats bench policies``: every policy replayed over MDRP instances, judged by our checker.

:func:`bench_command` is the command's logic (the typer wrapper is thin);
:func:`bench_policies` the bench itself.

Each (policy, instance) is an in-process replay into its own run directory
(``<out>/runs/<policy>/<instance>/``, the MDRP solution files in ``mdrp/``), run in
parallel on ``workers`` processes. Its figures come from the solution files, read back
and checked rule by rule by ``replay.mdrp.check`` — not from the replay's own tables — and
are kept as ``bench.json`` beside the run, so a bench re-run with the same ``--out``
only runs what is missing. ``<out>/results.parquet`` has one row per run,
``<out>/summary.parquet`` one per policy:

- ``instances``, ``feasible``: runs, and runs whose solution passes every rule;
- ``undelivered_pct``: orders left undelivered, in % of all orders (pooled);
- ``click_to_door_all_mean``: click-to-door over all orders, an undelivered order counting
  from its placement to the end of the day's last shift (the run's ``orders.parquet``),
  averaged over instances;
- ``click_to_door_mean``, ``click_to_door_p90``, ``ready_to_pickup_mean``,
  ``utilisation``: the checker's per-instance figures, averaged over instances (each
  instance counts once, as in the published tables);
- ``wall_seconds``: replay time summed over the runs.

One-at-a-time policies keep an order open until it is served or the day ends (the
replay's default on MDRP inputs); ``max_attempts`` gives them the design's give-up rule
instead, and their rows are then labelled ``<policy>-max<n>``.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from replay.mdrp.check import check_solution
from replay.mdrp.instance import mdrp_root
from replay.mdrp.metrics import CheckReport
from replay.runner import LoadedInput, RunRequest, load_input, run_replay
from swifteats.domain.policies.registry import POLICY_NAMES, policy_spec
from swifteats.progress import ProgressSink, counted

ROW_FILE = "bench.json"
REYES_2018 = {
    "policy": "Reyes et al. 2018 (240 instances)",
    "undelivered_pct": 0.25,
    "click_to_door_mean": 32.74,
    "click_to_door_p90": 49.3,
    "ready_to_pickup_mean": 1.93,
}
"""The published rolling-horizon figures (``MDRP_SOLUTION_FORMAT.md``), for comparison."""
SUMMARY_COLUMNS = (
    "policy",
    "instances",
    "feasible",
    "undelivered_pct",
    "click_to_door_mean",
    "click_to_door_all_mean",
    "click_to_door_p90",
    "ready_to_pickup_mean",
    "utilisation",
    "wall_seconds",
)
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class BenchTask:
    """One policy on one instance."""

    policy: str
    instance: Path
    radius_km: float | None
    max_attempts: int | None = None

    @property
    def label(self) -> str:
        """The policy, or ``<policy>-max<n>`` for a one-at-a-time one given ``n`` attempts."""
        if self.max_attempts is None or policy_spec(self.policy).windowed:
            return self.policy
        return f"{self.policy}-max{self.max_attempts}"

    def run_dir(self, out: Path) -> Path:
        """``<out>/runs/<label>/<instance>``."""
        return out / "runs" / self.label / self.instance.name


@dataclass(frozen=True, slots=True)
class BenchOutcome:
    """Per-run rows, the per-policy summary, failures and the bench's wall time."""

    results: pl.DataFrame
    summary: pl.DataFrame
    failures: dict[str, str]
    wall_seconds: float


def bench_policies(
    instances: Sequence[Path],
    out: Path,
    *,
    policies: Sequence[str] = POLICY_NAMES,
    workers: int = 1,
    radius_km: float | None = None,
    max_attempts: int | None = None,
    progress: Progress | None = None,
) -> BenchOutcome:
    """Replay every policy over every instance (what is not done yet), then summarise.

    Raises:
        ValueError: an unknown policy, or an instance that is not a folder.
    """
    for policy in policies:
        policy_spec(policy)
    for instance in instances:
        if not instance.is_dir():
            raise ValueError(f"not an MDRP instance folder: {instance}")
    started = time.perf_counter()
    tasks = [BenchTask(p, i, radius_km, max_attempts) for p in policies for i in instances]
    pending = [t for t in tasks if not (t.run_dir(out) / ROW_FILE).is_file()]
    report = progress or (lambda done, total: None)
    report(len(tasks) - len(pending), len(tasks))
    failures = _execute(pending, out, workers, lambda done: report(done, len(tasks)))
    rows = [_read_row(t, out) for t in tasks if (t.run_dir(out) / ROW_FILE).is_file()]
    results = pl.DataFrame(rows, infer_schema_length=None)
    summary = summarise(results)
    out.mkdir(parents=True, exist_ok=True)
    results.write_parquet(out / "results.parquet")
    summary.write_parquet(out / "summary.parquet")
    return BenchOutcome(results, summary, failures, time.perf_counter() - started)


def _execute(
    pending: list[BenchTask], out: Path, workers: int, progress: Callable[[int], None]
) -> dict[str, str]:
    failures: dict[str, str] = {}
    if workers <= 1:
        for done, task in enumerate(pending, start=1):
            if (error := run_task(task, out)) is not None:
                failures[f"{task.label}/{task.instance.name}"] = error
            progress(done)
        return failures
    if not pending:
        return failures
    context = multiprocessing.get_context("spawn")  # fork is unsafe with Polars' threads
    with ProcessPoolExecutor(min(workers, len(pending)), mp_context=context) as pool:
        futures = {pool.submit(run_task, t, out): t for t in pending}
        for done, future in enumerate(as_completed(futures), start=1):
            error = future.result()
            if error is not None:
                task = futures[future]
                failures[f"{task.label}/{task.instance.name}"] = error
            progress(done)
    return failures


def run_task(task: BenchTask, out: Path) -> str | None:
    """Replay one task, check its solution and write its row (in a worker); its error."""
    run_dir = task.run_dir(out)
    try:
        started = time.perf_counter()
        request = RunRequest(
            backend="inprocess",
            policy=task.policy,
            radius_km=task.radius_km,
            max_attempts=task.max_attempts,
        )
        loaded = _load(task.instance)
        summary = run_replay(loaded, request, run_dir)
        wall = time.perf_counter() - started
        assert loaded.mdrp is not None  # noqa: S101 - load_input of a folder reads an instance
        report = check_solution(run_dir / "mdrp", loaded.mdrp)
        row = bench_row(report, policy=task.label, instance=task.instance.name, wall=wall)
        row["click_to_door_all_mean"] = summary.click_to_door_all_mean
        (run_dir / ROW_FILE).write_text(json.dumps(row, indent=2))
    except Exception as error:  # one failing run must not lose the others' results
        return f"{type(error).__name__}: {error}"
    return None


@functools.lru_cache(maxsize=2)
def _load(instance: Path) -> LoadedInput:
    """An instance is loaded once per worker for all the policies run on it there."""
    return load_input(instance, None)


def bench_row(report: CheckReport, *, policy: str, instance: str, wall: float) -> dict[str, Any]:
    """One run's figures, from the checker's report of its solution files."""
    return {
        "policy": policy,
        "instance": instance,
        "feasible": report.feasible,
        "violations": len(report.violations),
        "orders": report.total,
        "delivered": report.delivered,
        "click_to_door_mean": _mean(report.click_to_door),
        "click_to_door_p90": report.click_to_door.p90 if report.click_to_door else None,
        "ready_to_pickup_mean": _mean(report.ready_to_pickup),
        "utilisation": _mean(report.utilisation),
        "wall_seconds": wall,
    }


def _mean(distribution: Any) -> float | None:
    return None if distribution is None else float(distribution.mean)


def _read_row(task: BenchTask, out: Path) -> dict[str, Any]:
    row: dict[str, Any] = json.loads((task.run_dir(out) / ROW_FILE).read_text())
    return row


def summarise(results: pl.DataFrame) -> pl.DataFrame:
    """One row per policy (in the order first met); see the module for the columns."""
    if results.is_empty():
        return pl.DataFrame()
    return (
        results.group_by("policy", maintain_order=True)
        .agg(
            pl.len().alias("instances"),
            pl.col("feasible").sum().alias("feasible"),
            (100 * (1 - pl.col("delivered").sum() / pl.col("orders").sum())).alias(
                "undelivered_pct"
            ),
            pl.col("click_to_door_mean").mean(),
            pl.col("click_to_door_all_mean").mean(),
            pl.col("click_to_door_p90").mean(),
            pl.col("ready_to_pickup_mean").mean(),
            pl.col("utilisation").mean(),
            pl.col("wall_seconds").sum(),
        )
        .select(SUMMARY_COLUMNS)
    )


def format_table(summary: pl.DataFrame, *, reference: bool = True) -> str:
    """The summary as a Markdown table, with the published Reyes et al. row last."""
    header = (
        "| policy | feasible | undelivered | click-to-door mean (delivered) | (all orders) "
        "| p90 | ready-to-pickup |"
    )
    lines = [header + " utilisation | replay s |", "|---" * 9 + "|"]
    for row in summary.iter_rows(named=True):
        lines.append(
            f"| {row['policy']} | {row['feasible']}/{row['instances']} "
            f"| {row['undelivered_pct']:.2f} % | {_fmt(row['click_to_door_mean'])} "
            f"| {_fmt(row.get('click_to_door_all_mean'))} "
            f"| {_fmt(row['click_to_door_p90'])} | {_fmt(row['ready_to_pickup_mean'])} "
            f"| {_fmt(row['utilisation'], 3)} | {row['wall_seconds']:.0f} |"
        )
    if reference:
        r = REYES_2018
        lines.append(
            f"| {r['policy']} | – | {r['undelivered_pct']:.2f} % | {r['click_to_door_mean']} "
            f"| – | {r['click_to_door_p90']} | {r['ready_to_pickup_mean']} | – | – |"
        )
    return "\n".join(lines)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def mdrp_instances(root: Path, patterns: Sequence[str] = ("*",)) -> list[Path]:
    """The instance folders under ``root`` whose names match any of ``patterns`` (globs)."""
    found = {p for pattern in patterns for p in root.glob(pattern) if (p / "orders.txt").is_file()}
    return sorted(found)


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """The command line of ``swifteats bench policies``."""

    out: Path
    root: Path | None = None
    """The folder of instances (default: ``replay.mdrp.instance.mdrp_root()``)."""
    instances: tuple[str, ...] = ("*",)
    """Globs over instance names under ``root``."""
    policies: tuple[str, ...] = POLICY_NAMES
    workers: int = 1
    radius_km: float | None = None
    max_attempts: int | None = None
    """Attempts per order of the one-at-a-time policies (None: until served or day's end)."""


def bench_command(
    options: BenchOptions,
    echo: Callable[[str], None] = print,
    *,
    progress: ProgressSink | None = None,
) -> BenchOutcome:
    """Run (or continue) the bench, telling ``progress`` the runs done; print the table,
    the wall time and any failures.

    Raises:
        ValueError: no instance folder, no instance matching, or an unknown policy.
    """
    for policy in options.policies:
        policy_spec(policy)
    root = options.root or mdrp_root()
    if root is None or not root.is_dir():
        raise ValueError("no MDRP instances: give --root or set SWIFTEATS_MDRP_DIR")
    instances = mdrp_instances(root, options.instances)
    if not instances:
        raise ValueError(f"no MDRP instance matching {list(options.instances)} in {root}")
    total = len(instances) * len(options.policies)
    echo(f"{len(options.policies)} policies × {len(instances)} instances = {total} runs")

    outcome = bench_policies(
        instances,
        options.out,
        policies=options.policies,
        workers=options.workers,
        radius_km=options.radius_km,
        max_attempts=options.max_attempts,
        progress=counted(progress, "runs"),
    )
    echo(format_table(outcome.summary))
    echo(
        "click-to-door (all orders): an undelivered order counts from its placement to the "
        "end of the day's last shift"
    )
    echo(f"wall time: {outcome.wall_seconds:.0f} s on {options.workers} worker(s); {options.out}")
    for run, error in outcome.failures.items():
        echo(f"FAILED {run}: {error}")
    return outcome
