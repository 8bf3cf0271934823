"""``swifteats tune``: one policy's registry parameters tuned on training days, judged on test days.

- **Days.** MDRP instances under the root, split by the seed of their name
  (``<seed><size><time><shifts><prep>``, ``replay.tune_days.instance_seed``): by default
  seeds 0–4 train and 6–8 test, every variant of each (``--instances`` narrows by glob).
  The published set also has seeds 5 and 9, held out here: tuning aims at days it has not
  seen, so the search only ever looks at the training days.
- **Objective.** Click-to-door over all orders, undelivered counted to the end of the
  last shift (``replay.tune_days``), averaged over the days; minimised.
- **Search.** Optuna's TPE sampler, seeded, over the policy's registry parameters
  (:func:`search_space`): by default each number from half to twice its default (log
  scale), each whole number one either side; ``window_minutes`` and switches stay as
  they are unless ``--space`` names them. The first trial is the defaults. The study
  lives in ``<out>/study.db`` (SQLite): the same ``--out`` continues it, up to
  ``--trials`` trials in all.
- **Report.** The best trial's parameters and the defaults, each on the training and on
  the test days, with 95 % confidence intervals across days (``replay.tune_report``);
  written to ``<out>/tuning.json`` and printed as a table.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import optuna

from replay.scenario import Scenario
from replay.tune_days import DayTask, evaluate_day, instance_seed
from replay.tune_report import Range, Setup, TuningReport, build_report
from swifteats.domain.policies.registry import ParamValue, policy_spec

TRAIN_SEEDS = (0, 1, 2, 3, 4)
TEST_SEEDS = (6, 7, 8)
STUDY_FILE = "study.db"
Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TuneOptions:
    """What ``swifteats tune`` was asked."""

    policy: str
    out: Path
    root: Path
    trials: int = 30
    seed: int = 7
    train_seeds: tuple[int, ...] = TRAIN_SEEDS
    test_seeds: tuple[int, ...] = TEST_SEEDS
    instances: tuple[str, ...] = ("*",)
    """Globs over instance names; a day must match one and have a seed of its split."""
    space: Mapping[str, Range | ParamValue] = field(default_factory=dict)
    """Per parameter: a ``(low, high)`` range to search, or a value to fix it at."""
    workers: int = 1
    radius_km: float | None = None
    """None: each instance's whole map."""
    scenario: Scenario | None = None


def days(root: Path, patterns: Sequence[str], seeds: Sequence[int]) -> list[Path]:
    """The instance folders under ``root`` matching a pattern whose seed is in ``seeds``."""
    found = {p for pattern in patterns for p in root.glob(pattern) if (p / "orders.txt").is_file()}
    return sorted(p for p in found if instance_seed(p.name) in set(seeds))


def search_space(
    policy: str, overrides: Mapping[str, Range | ParamValue]
) -> tuple[dict[str, Range], dict[str, ParamValue]]:
    """The ranges searched and the values fixed, by parameter (see the module).

    Raises:
        ValueError: an override naming no parameter of the policy, or an empty range.
    """
    parameters = {p.name: p for p in policy_spec(policy).parameters}
    for name in overrides:
        if name not in parameters:
            raise ValueError(
                f"policy {policy!r} has no parameter {name!r}: {', '.join(parameters)}"
            )
    ranges: dict[str, Range] = {}
    fixed: dict[str, ParamValue] = {}
    for name, p in parameters.items():
        given = overrides.get(name)
        if isinstance(given, tuple):
            if not given[0] < given[1]:
                raise ValueError(f"--space {name}: the low end must be below the high end")
            ranges[name] = given
        elif given is not None:
            fixed[name] = given
        elif p.type is float and name != "window_minutes":
            ranges[name] = (p.default / 2, p.default * 2) if p.default > 0 else (0.0, 1.0)
        elif p.type is int:
            ranges[name] = (max(1, int(p.default) - 1), int(p.default) + 1)
    return ranges, fixed


def run_tuning(options: TuneOptions, echo: Echo = print) -> TuningReport:
    """Tune (or continue tuning), then judge the best and the defaults on both splits.

    Raises:
        ValueError: an unknown policy or parameter, or no day in a split.
    """
    spec = policy_spec(options.policy)
    ranges, fixed = search_space(options.policy, options.space)
    train = days(options.root, options.instances, options.train_seeds)
    test = days(options.root, options.instances, options.test_seeds)
    if not train or not test:
        raise ValueError(
            f"no training or no test day under {options.root} for {list(options.instances)}"
            f" (train seeds {options.train_seeds}: {len(train)}, "
            f"test seeds {options.test_seeds}: {len(test)})"
        )
    options.out.mkdir(parents=True, exist_ok=True)
    echo(f"{options.policy}: {len(train)} training days, {len(test)} test days; out {options.out}")
    with _pool(options.workers) as pool:
        judge = _Judge(options, pool)
        study = _study(options, {p.name: p.default for p in spec.parameters if p.name in ranges})
        done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
        missing = options.trials - len(done)
        if missing > 0:
            study.optimize(
                lambda trial: judge.trial(trial, ranges, fixed, train, echo), n_trials=missing
            )
        best = {**study.best_trial.params, **fixed}
        rows = {
            ("defaults", "train"): judge.days(fixed, train, "train"),
            ("tuned", "train"): judge.days(best, train, "train"),
            ("defaults", "test"): judge.days(fixed, test, "test"),
            ("tuned", "test"): judge.days(best, test, "test"),
        }
    setup = Setup(options.seed, options.train_seeds, options.test_seeds, options.scenario)
    report = build_report(setup, spec, best, rows, len(study.trials), ranges)
    (options.out / "tuning.json").write_text(json.dumps(report.as_dict(), indent=2))
    return report


def _study(options: TuneOptions, defaults: Mapping[str, ParamValue]) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=f"{options.policy}-seed{options.seed}",
        storage=f"sqlite:///{(options.out / STUDY_FILE).resolve()}",
        sampler=optuna.samplers.TPESampler(seed=options.seed),
        direction="minimize",
        load_if_exists=True,
    )
    if not study.trials:
        study.enqueue_trial(dict(defaults))
    return study


class _Judge:
    """Evaluates parameters on days, in parallel, remembering what it evaluated on disk."""

    def __init__(self, options: TuneOptions, pool: ProcessPoolExecutor | None) -> None:
        self._options = options
        self._pool = pool

    def trial(
        self,
        trial: optuna.Trial,
        ranges: Mapping[str, Range],
        fixed: Mapping[str, ParamValue],
        train: list[Path],
        echo: Echo,
    ) -> float:
        params = dict(fixed)
        types = {p.name: p.type for p in policy_spec(self._options.policy).parameters}
        for name, (low, high) in ranges.items():
            if types[name] is int:
                params[name] = trial.suggest_int(name, int(low), int(high))
            else:
                params[name] = trial.suggest_float(name, low, high, log=low > 0)
        rows = self.days(params, train, "train")
        objective = sum(float(r["objective"]) for r in rows) / len(rows)
        trial.set_user_attr("feasible", sum(bool(r["feasible"]) for r in rows))
        echo(f"  trial {trial.number}: {objective:.3f} {json.dumps(params)}")
        return objective

    def days(self, params: Mapping[str, ParamValue], days: list[Path], split: str) -> list[Any]:
        """Each day's figures with ``params`` (from ``<out>/evaluations`` when known)."""
        o = self._options
        every = asdict(policy_spec(o.policy).params_with(params))
        key = json.dumps([o.policy, every, o.radius_km, o.scenario and o.scenario.text()])
        path = o.out / "evaluations" / f"{split}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
        path = path.with_suffix(".json")
        if path.is_file():
            cached: list[Any] = json.loads(path.read_text())["days"]
            if len(cached) == len(days):
                return cached
        tasks = [DayTask(d, o.policy, dict(params), o.radius_km, o.scenario) for d in days]
        biggest_first = sorted(tasks, key=lambda t: -(t.instance / "orders.txt").stat().st_size)
        mapped = self._pool.map(evaluate_day, biggest_first) if self._pool else None
        rows = list(mapped) if mapped is not None else [evaluate_day(t) for t in biggest_first]
        rows.sort(key=lambda r: r["instance"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"key": json.loads(key), "days": rows}, indent=1))
        return rows


class _pool:  # noqa: N801 - a context manager used like a function
    """A spawn process pool of ``workers`` (None for one: run in this process)."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessPoolExecutor | None:
        if self._workers > 1:
            context = multiprocessing.get_context("spawn")  # fork is unsafe with Polars' threads
            self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
        return self._pool

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
