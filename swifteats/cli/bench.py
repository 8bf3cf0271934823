"""``swifteats bench policies``: every policy over the MDRP instances, judged by the checker.

Mounted on :data:`swifteats.bench.cli.bench_app` beside ``swifteats bench [all]``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from swifteats.cli.errors import CliError
from swifteats.cli.options import POLICIES_HELP, MaxAttempts, PolicyName
from swifteats.cli.progress import progress_reporter
from swifteats.domain.policies.registry import POLICY_NAMES


def bench_policies(
    instances: Annotated[
        list[str] | None,
        typer.Option(
            "--instance", help="glob over instance names under --root; repeat", show_default="*"
        ),
    ] = None,
    policies: Annotated[
        list[PolicyName] | None,
        typer.Option("--policy", help=f"a policy; repeat. {POLICIES_HELP}", show_default="all"),
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option(
            help="folder of MDRP instances",
            show_default="$SWIFTEATS_MDRP_DIR or ../shared/data/mdrp",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="bench directory; the same --out continues")] = Path(
        "runs/bench"
    ),
    workers: Annotated[
        int | None, typer.Option(help="worker processes", show_default="one per core")
    ] = None,
    radius: Annotated[
        float | None,
        typer.Option(help="search radius, km", show_default="each instance's whole map"),
    ] = None,
    max_attempts: MaxAttempts = None,
) -> None:
    """Replay every policy over MDRP instances in process; judge each by the MDRP checker."""
    from replay.policy_bench import BenchOptions, bench_command

    options = BenchOptions(
        out=out,
        root=root,
        instances=tuple(instances or ("*",)),
        policies=tuple(str(p) for p in policies) if policies else POLICY_NAMES,
        workers=workers or os.cpu_count() or 1,
        radius_km=radius,
        max_attempts=max_attempts,
    )
    try:
        with progress_reporter("bench policies") as progress:
            outcome = bench_command(options, echo=typer.echo, progress=progress)
    except ValueError as error:
        raise CliError(str(error), "swifteats bench policies --help", code=2) from None
    if outcome.failures:
        raise typer.Exit(1)
