"""``swifteats tune``: the command line of :mod:`replay.tune` (the logic lives there)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from swifteats.cli.errors import CliError
from swifteats.cli.options import POLICIES_HELP, PolicyName, Scenario
from swifteats.domain.policies.registry import ParamValue


def tune(
    policy: Annotated[
        PolicyName, typer.Option(help=f"the policy to tune. {POLICIES_HELP}")
    ] = PolicyName["rolling-horizon"],
    trials: Annotated[int, typer.Option(help="trials in all (the same --out continues)")] = 30,
    seed: Annotated[int, typer.Option(help="seed of the TPE sampler")] = 7,
    train_seeds: Annotated[str, typer.Option(help="MDRP seeds to tune on: '0-4' or '0,1'")] = "0-4",
    test_seeds: Annotated[str, typer.Option(help="MDRP seeds to report on")] = "6-8",
    instances: Annotated[
        list[str] | None,
        typer.Option("--instance", help="glob over instance names; repeat", show_default="*"),
    ] = None,
    space: Annotated[
        list[str] | None,
        typer.Option(
            help="'name=low:high' to search, 'name=value' to fix; repeat",
            show_default="each number from half to twice its default",
        ),
    ] = None,
    scenario: Scenario = None,
    root: Annotated[
        Path | None,
        typer.Option(
            help="folder of MDRP instances",
            show_default="$SWIFTEATS_MDRP_DIR or ../shared/data/mdrp",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="tuning directory", show_default="runs/tune/<policy>")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="worker processes", show_default="one per core")
    ] = None,
    radius: Annotated[
        float | None,
        typer.Option(help="search radius, km", show_default="each instance's whole map"),
    ] = None,
) -> None:
    """Tune a policy's parameters with Optuna on training days; report on test days."""
    from replay.mdrp.instance import mdrp_root
    from replay.scenario import parse_scenario
    from replay.tune import TuneOptions, run_tuning

    try:
        folder = root or mdrp_root()
        if folder is None or not folder.is_dir():
            raise ValueError("no MDRP instances: give --root or set SWIFTEATS_MDRP_DIR")
        options = TuneOptions(
            policy=str(policy),
            out=out or Path("runs") / "tune" / str(policy),
            root=folder,
            trials=trials,
            seed=seed,
            train_seeds=parse_seeds(train_seeds),
            test_seeds=parse_seeds(test_seeds),
            instances=tuple(instances or ("*",)),
            space=parse_space(space or []),
            workers=workers or os.cpu_count() or 1,
            radius_km=radius,
            scenario=parse_scenario(scenario) if scenario else None,
        )
        report = run_tuning(options, echo=typer.echo)
    except ValueError as error:
        raise CliError(str(error), "swifteats tune --help", code=2) from None
    typer.echo(f"objective: {report.objective}")
    typer.echo(f"tuned: {report.tuned}")
    typer.echo(report.table())
    typer.echo(report.verdict)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``'0-4'``, ``'6,7,8'`` or a mix as seeds.

    Raises:
        ValueError: a part that is not a seed or a range of seeds.
    """
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, sep, high = part.partition("-")
        try:
            seeds += range(int(low), int(high) + 1) if sep else [int(low)]
        except ValueError:
            raise ValueError(f"seeds: {part!r} is not a seed or a range like 0-4") from None
    if not seeds:
        raise ValueError("seeds: none given")
    return tuple(seeds)


def parse_space(terms: list[str]) -> dict[str, tuple[float, float] | ParamValue]:
    """``--space`` terms: ``name=low:high`` a range, ``name=value`` a fixed value.

    Raises:
        ValueError: a term without ``=`` or with a value that is not a number.
    """
    space: dict[str, tuple[float, float] | ParamValue] = {}
    for term in terms:
        name, sep, value = term.partition("=")
        if not sep:
            raise ValueError(f"--space {term!r}: expected name=low:high or name=value")
        try:
            if ":" in value:
                low, high = value.split(":", 1)
                space[name.strip()] = (_number(low), _number(high))
            else:
                space[name.strip()] = _value(value.strip())
        except ValueError:
            raise ValueError(f"--space {term!r}: not a number") from None
    return space


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _value(text: str) -> ParamValue:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return _number(text)
